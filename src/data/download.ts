/**
 * `lcconv data download`: fetches an official CIFAR binary archive or a CIFAR-10-C / CIFAR-100-C
 * archive (or a mirror's copy), verifies
 * its MD5 while streaming, extracts it with `tar` into a temporary folder next to the destination
 * and renames the dataset folder into place only once every file has its exact size. Any failure
 * (HTTP error, cut connection, checksum mismatch, unreadable archive, full disk, Ctrl-C) removes the
 * temporary folder, so a dataset folder under the root is either complete or absent.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { InputError } from '../errors.js';
import { onInterrupt } from '../interrupts.js';
import {
  fsCause,
  fsError,
  isStorageError,
  makeDir,
  removeStaleTemps,
  StorageError,
  tempPath,
  writeAll,
} from '../fs-safety.js';
import { CIFAR10_LAYOUT, CIFAR100_LAYOUT, CIFAR_URLS, cifarFiles, type CifarLayout } from './cifar.js';
import { CIFAR100C_LAYOUT, CIFAR10C_LAYOUT, checkCorruptedDir } from './cifar-c.js';
import { formatCount } from '../format.js';

export const DOWNLOAD_NAMES = ['cifar10', 'cifar100', 'cifar10-c', 'cifar100-c'] as const;
export type DownloadName = (typeof DOWNLOAD_NAMES)[number];

export interface DownloadSpec {
  url: string;
  md5: string; // as published with the archive
  /** The folder the archive unpacks to, under the root. */
  dir: string;
  /** Why an unpacked folder is not complete, or null. */
  check: (dir: string) => string | null;
}

const cifar = (url: string, md5: string, layout: CifarLayout): DownloadSpec => ({
  url,
  md5,
  dir: layout.dir,
  check: (dir) => checkCifarDir(dir, layout),
});

export const DOWNLOADS: Record<DownloadName, DownloadSpec> = {
  // MD5s from https://www.cs.toronto.edu/~kriz/cifar.html
  cifar10: cifar(CIFAR_URLS.cifar10, 'c32a1d4ab5d03f1284b67883e8d87530', CIFAR10_LAYOUT),
  cifar100: cifar(CIFAR_URLS.cifar100, '03b5dce01913d631647c71ecec9e9cb8', CIFAR100_LAYOUT),
  // Zenodo records 2535967 and 3555552 (Hendrycks & Dietterich), MD5s as listed there; 2.9 GB each.
  'cifar10-c': {
    url: 'https://zenodo.org/records/2535967/files/CIFAR-10-C.tar',
    md5: '56bf5dcef84df0e2308c6dcbcbbd8499',
    dir: CIFAR10C_LAYOUT.dir,
    check: (dir) => checkCorruptedDir(dir, CIFAR10C_LAYOUT),
  },
  'cifar100-c': {
    url: 'https://zenodo.org/records/3555552/files/CIFAR-100-C.tar',
    md5: '11f0ed0f1191edbf9fa23466ae6021d3',
    dir: CIFAR100C_LAYOUT.dir,
    check: (dir) => checkCorruptedDir(dir, CIFAR100C_LAYOUT),
  },
};

/** Env variable naming a mirror: its value replaces everything before the archive's file name. */
const MIRROR_ENV = 'LCCONV_MIRROR';

/** The URL to fetch: `--url` as given, else `$LCCONV_MIRROR/<archive name>`, else the official one. */
export function resolveUrl(spec: DownloadSpec, url?: string, mirror = process.env[MIRROR_ENV]): string {
  if (url) return url;
  if (mirror) return `${mirror.replace(/\/+$/, '')}/${spec.url.slice(spec.url.lastIndexOf('/') + 1)}`;
  return spec.url;
}

/** Why a dataset folder is not a complete copy of `layout`, or null when every file has its exact size. */
export function checkCifarDir(dir: string, layout: CifarLayout): string | null {
  if (!existsSync(dir)) return 'missing';
  for (const { file, bytes } of cifarFiles(layout)) {
    const path = join(dir, file);
    if (!existsSync(path)) return `${path} missing`;
    const size = statSync(path).size;
    if (size !== bytes) return `${path}: expected ${formatCount(bytes)} bytes, found ${formatCount(size)}`;
  }
  return null;
}

export interface DownloadOptions {
  root: string;
  url?: string;
  /** Overrides for tests (a small generated archive); the CLI always uses the official values. */
  md5?: string;
  layout?: CifarLayout;
  check?: DownloadSpec['check'];
  force?: boolean;
  onProgress?: (received: number, total: number | null) => void;
  /** A server that sends nothing for this long (connecting included) ends the download (default STALL_MS). */
  stallMs?: number;
}

export interface DownloadResult {
  dir: string;
  status: 'downloaded' | 'present';
  url?: string;
  bytes?: number;
}

/** One line for a failed download; names the URL or file and what happened. */
class DownloadError extends InputError {
  override name = 'DownloadError';
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: { message?: string; code?: string } };
  if (isStorageError(e)) return fsCause(e);
  const cause = e.cause?.message ?? e.cause?.code;
  return cause && cause !== e.message ? `${e.message}: ${cause}` : String(e.message ?? err);
}

/** How long a download waits for the server's next bytes before giving up: no wait is unbounded. */
export const STALL_MS = 60_000;

/** Streams `url` into `file`, hashing as it goes; returns the MD5 and byte count. */
async function fetchTo(
  url: string,
  file: string,
  onProgress?: DownloadOptions['onProgress'],
  stallMs = STALL_MS,
): Promise<{ md5: string; bytes: number }> {
  // One timer, restarted at every chunk: a server that stops sending aborts the fetch.
  const stalled = new AbortController();
  let timer = setTimeout(() => stalled.abort(), stallMs);
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stalled.abort(), stallMs);
  };
  const silence = `no data from the server for ${stallMs / 1000} s`;
  try {
    return await streamTo(url, file, stalled.signal, restart, silence, onProgress);
  } finally {
    clearTimeout(timer);
  }
}

async function streamTo(
  url: string,
  file: string,
  signal: AbortSignal,
  restart: () => void,
  silence: string,
  onProgress?: DownloadOptions['onProgress'],
): Promise<{ md5: string; bytes: number }> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw new DownloadError(`${url}: cannot connect (${signal.aborted ? silence : describe(err)})`);
  }
  if (!res.ok || !res.body) throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`);
  const header = res.headers.get('content-length');
  const total = header === null ? null : Number(header);
  const hash = createHash('md5');
  let out: number;
  try {
    out = openSync(file, 'w');
  } catch (err) {
    throw fsError(file, 'cannot write', err);
  }
  let received = 0;
  try {
    const body = res.body[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await body.next();
      } catch (err) {
        throw new DownloadError(
          `${url}: connection ${signal.aborted ? 'stalled' : 'lost'} after ${formatCount(received)}${total === null ? '' : ` of ${formatCount(total)}`} bytes (${signal.aborted ? silence : describe(err)})`,
        );
      }
      if (next.done) break;
      restart();
      hash.update(next.value);
      try {
        writeAll(out, next.value); // the one durable writer: a short write (filling disk) is an error
      } catch (err) {
        throw fsError(file, 'cannot write', err);
      }
      received += next.value.length;
      onProgress?.(received, total);
    }
    if (total !== null && received !== total)
      throw new DownloadError(
        `${url}: connection closed after ${formatCount(received)} of ${formatCount(total)} bytes`,
      );
    try {
      fsyncSync(out);
    } catch (err) {
      throw fsError(file, 'cannot write', err);
    }
  } finally {
    closeSync(out);
  }
  return { md5: hash.digest('hex'), bytes: received };
}

/**
 * Downloads and installs `name` under `opts.root` (`<root>/cifar-10-batches-bin/` etc.). A complete
 * copy already there is kept unless `force`. Throws an InputError (one line) on any failure, after
 * removing everything it wrote.
 */
export async function downloadDataset(name: DownloadName, opts: DownloadOptions): Promise<DownloadResult> {
  const spec = opts.layout ? cifar(DOWNLOADS[name].url, DOWNLOADS[name].md5, opts.layout) : DOWNLOADS[name];
  const check = opts.check ?? spec.check;
  const md5 = opts.md5 ?? spec.md5;
  const url = resolveUrl(spec, opts.url);
  const dest = join(opts.root, spec.dir);
  if (!opts.force && check(dest) === null) return { dir: dest, status: 'present' };

  makeDir(opts.root);
  // Next to the destination, so the final rename stays on one file system (atomic). Folders that
  // killed downloads (SIGKILL, power loss) left are removed first.
  const partial = join(opts.root, `.${spec.dir}`);
  removeStaleTemps(partial);
  const tmp = tempPath(partial);
  makeDir(tmp);
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  const dropCleanup = onInterrupt(cleanup); // Ctrl-C: the CLI's interrupt policy removes it
  try {
    const archive = join(tmp, 'archive'); // .tar.gz or .tar: tar detects the compression
    const got = await fetchTo(url, archive, opts.onProgress, opts.stallMs);
    if (got.md5 !== md5)
      throw new DownloadError(
        `${url}: MD5 mismatch: expected ${md5}, got ${got.md5} (${formatCount(got.bytes)} bytes); nothing was kept`,
      );
    try {
      await tar.x({ file: archive, cwd: tmp, strict: true });
    } catch (err) {
      if (isStorageError(err)) throw fsError(tmp, 'cannot unpack the archive', err);
      throw new DownloadError(`${url}: unreadable archive (${describe(err)})`);
    }
    rmSync(archive);
    const problem = check(join(tmp, spec.dir));
    if (problem)
      throw new DownloadError(
        `${url}: archive does not hold the expected ${spec.dir}/ (${problem.replaceAll(`${tmp}/`, '')})`,
      );
    // An incomplete or --force'd old copy is moved aside, and put back if the new one cannot take its place.
    const replaced = join(tmp, 'replaced');
    if (existsSync(dest)) renameSync(dest, replaced);
    try {
      renameSync(join(tmp, spec.dir), dest);
    } catch (err) {
      if (existsSync(replaced)) renameSync(replaced, dest);
      throw err;
    }
    return { dir: dest, status: 'downloaded', url, bytes: got.bytes };
  } catch (err) {
    if (err instanceof InputError || err instanceof StorageError) throw err;
    throw new DownloadError(`download ${name} into ${opts.root} failed: ${describe(err)}`);
  } finally {
    dropCleanup();
    cleanup();
  }
}
