/**
 * Whether the dynamic loader would find a shared library by its soname, without loading it: the
 * folders of LD_LIBRARY_PATH, the loader's cache (/etc/ld.so.cache, read as bytes: `ldconfig` is
 * often not on a normal user's PATH) and the default folders. Used to tell, before loading a
 * backend, whether it could reach a GPU (CUDA libraries for tfjs-node-gpu, the Vulkan loader for Dawn).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Folders glibc's loader searches after its cache (trusted directories). */
const DEFAULT_FOLDERS = ['/lib64', '/usr/lib64', '/lib', '/usr/lib'];

export interface LoaderPaths {
  /** LD_LIBRARY_PATH's value. */
  libraryPath?: string;
  /** The loader cache's bytes, or null where there is none (musl, macOS). */
  cache: Buffer | null;
  folders: string[];
}

export function loaderPaths(): LoaderPaths {
  let cache: Buffer | null = null;
  try {
    cache = readFileSync('/etc/ld.so.cache');
  } catch {
    // no cache: only the folders count, as for the loader itself
  }
  return { libraryPath: process.env.LD_LIBRARY_PATH, cache, folders: DEFAULT_FOLDERS };
}

/** The sonames in `sonames` the loader would find. */
export function findSharedLibraries(sonames: readonly string[], paths: LoaderPaths = loaderPaths()): Set<string> {
  const folders = [...(paths.libraryPath ?? '').split(':').filter(Boolean), ...paths.folders];
  return new Set(
    sonames.filter((name) => inCache(paths.cache, name) || folders.some((d) => existsSync(join(d, name)))),
  );
}

/** The cache's string table holds each soname and its path NUL-terminated: `\0name\0` or `/name\0`. */
function inCache(cache: Buffer | null, name: string): boolean {
  if (!cache) return false;
  const needle = Buffer.from(`${name}\0`);
  for (let i = cache.indexOf(needle); i >= 0; i = cache.indexOf(needle, i + 1)) {
    const before = i > 0 ? cache[i - 1] : 0;
    if (before === 0 || before === 0x2f) return true;
  }
  return false;
}
