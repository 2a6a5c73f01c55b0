/**
 * Where lcconv may write, and how a failed write is reported. Every folder lcconv writes into is
 * built with `within(root, name)` from a root the user chose (results_dir, the dataset root), so a
 * name from a config can never point outside it; folders are created with `makeDir`, and a failed
 * file-system call is described by the path and its real cause (no space left, read-only…).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors.js';

/**
 * `root/segment`, refused unless it lies strictly inside `root`. The config schema already limits
 * names to one bounded path segment; this is the check at the place the path is made.
 */
export function within(root: string, segment: string): string {
  const rel = relative(resolve(root), resolve(root, segment));
  if (segment.includes('/') || segment.includes(sep) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new InputError(`${JSON.stringify(segment)} is not a folder name inside ${root} (one name without "/", "." or "..")`);
  }
  return join(root, segment);
}

/** Words for the file-system errors a user can do something about; the code itself otherwise. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENAMETOOLONG: 'name too long',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** The real cause of a failed file-system call, in words (e.g. "read-only file system (EROFS)"). */
export function fsCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** True for errors of the machine's storage (full, read-only, no permission…), as opposed to bugs. */
export function isStorageError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && code in CAUSES;
}

/**
 * Creates `dir` and its missing parents, one level at a time. Node's `mkdirSync(…, {recursive})`
 * loops forever where a parent exists but refuses children with ENOENT (e.g. under /proc); here
 * that is one line naming the folder and the cause.
 */
export function makeDir(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // made by another process meanwhile
      throw new InputError(`${d}: cannot create this folder: ${fsCause(err)}`);
    }
  }
}
