/**
 * Where lcconv may write, and how a failed write is reported. Every folder lcconv writes into is
 * built with `within(root, name)` from a root the user chose (results_dir, the dataset root), so a
 * name from a config can never point outside it; folders are created with `makeDir`, and a failed
 * file-system call is described by the path and its real cause (no space left, read-only…).
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors.js';

/**
 * `root/segment`, refused unless it lies strictly inside `root`. The config schema already limits
 * names to one bounded path segment; this is the check at the place the path is made.
 */
export function within(root: string, segment: string): string {
  const rel = relative(resolve(root), resolve(root, segment));
  if (segment.includes('/') || segment.includes(sep) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new InputError(
      `${JSON.stringify(segment)} is not a folder name inside ${root} (one name without "/", "." or "..")`,
    );
  }
  const path = join(root, segment);
  refuseLink(path);
  return path;
}

/**
 * Refuses a folder lcconv would write into when it is a symbolic link: writes would land outside
 * the results folder, and runs trained there would vanish from its listings. The roots a user
 * names (results_dir, --out, the dataset root) may be links; what lcconv makes inside them may not.
 */
export function refuseLink(dir: string): void {
  let link: string | null = null;
  try {
    if (lstatSync(dir).isSymbolicLink()) link = readlinkSync(dir);
  } catch {
    return; // absent: lcconv will create a real folder
  }
  if (link !== null)
    throw new InputError(
      `${dir}: is a symbolic link (to ${link}); lcconv writes only into real folders inside the results folder: replace the link with a folder, or point results_dir (or --out) at the target`,
    );
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
  ESHORTWRITE: 'the file system took no more bytes',
};

/** The real cause of a failed file-system call, in words (e.g. "read-only file system (EROFS)"). */
export function fsCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Faults of the machine's storage, not of the path the user named: StorageError, exit 1, wherever
 * they happen (a folder, a file, a lock, a download, a cache). The other causes above (permission,
 * a file where a folder should be, no such folder, a name too long) are the path's: InputError, exit 2.
 */
const STORAGE_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ESHORTWRITE']);

/** True for a fault of the storage (full, quota, read-only, I/O), not of the path: exit 1, not 2. */
export function isStorageFault(err: unknown): boolean {
  return STORAGE_FAULTS.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** True for errors of the file system (full, read-only, no permission…), as opposed to bugs. */
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
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new InputError(`${dir}: is a file, not a folder (name a folder to write into)`);
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
      const fault = fsError(d, 'cannot create this folder', err);
      throw fault instanceof Error && fault !== err
        ? fault
        : new InputError(`${d}: cannot create this folder: ${fsCause(err)}`);
    }
  }
}

/** Whether process `pid` exists on this machine. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/**
 * The temporary sibling of `path` this process writes before renaming it into place, named by host
 * and pid so that a later process can tell a dead writer's leftover from a live writer's work.
 */
export function tempPath(path: string): string {
  return `${path}.tmp-${hostname()}-${process.pid}`;
}

/**
 * Removes the temporaries of `path` (files or folders, see tempPath) that a killed process left:
 * those of dead processes on this host, or, with `anyHost` (the caller holds the run's lock, so no
 * other process can be writing there), every one but this process's own.
 */
export function removeStaleTemps(path: string, anyHost = false): void {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return; // no folder, nothing left over
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const owner = name.slice(prefix.length); // "<host>-<pid>", or "<pid>" from older versions
    const dash = owner.lastIndexOf('-');
    const [host, pid] = dash < 0 ? [hostname(), Number(owner)] : [owner.slice(0, dash), Number(owner.slice(dash + 1))];
    const mine = host === hostname() && pid === process.pid;
    const dead = host === hostname() && !isProcessAlive(pid);
    if (!mine && (dead || anyHost)) rmSync(join(dirname(path), name), { recursive: true, force: true });
  }
}

/**
 * A failed file-system call as one line naming `path` and its real cause: a StorageError (exit 1)
 * for faults of the storage (STORAGE_FAULTS), an InputError (exit 2) for faults of the path
 * (permission, not a folder…); any other error is returned as it is.
 */
export function fsError(path: string, action: string, err: unknown): unknown {
  if (!isStorageError(err)) return err;
  const line = `${path}: ${action}: ${fsCause(err)}`;
  return isStorageFault(err) ? new StorageError(line, { cause: err }) : new InputError(line, { cause: err });
}

/** A write or folder the machine's storage refused (full, read-only…): one line naming path and cause. */
export class StorageError extends Error {
  override name = 'StorageError';
}

// ---- durable writes: every file lcconv writes goes through writeAll (one write(2) may write less
// than asked: a filling disk writes what fits, then fails), so no writer can keep a short file.

/** One write(2) moves at most about 2 GiB (Linux); a larger buffer (an image cache) goes in pieces. */
const MAX_WRITE = 1 << 30;

/** What the writers take: text, bytes, or the parts of one file in order (written without joining them). */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/** Writes every byte of `data` at `fd`'s position, or throws (ENOSPC…); never returns after a short write. */
export function writeAll(fd: number, data: FileData): void {
  if (Array.isArray(data)) {
    for (const part of data as readonly Uint8Array[]) writeAll(fd, part);
    return;
  }
  const bytes = typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array);
  for (let done = 0; done < bytes.byteLength; ) {
    const n = writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE));
    if (n <= 0) throw Object.assign(new Error(`wrote ${done} of ${bytes.byteLength} bytes`), { code: 'ESHORTWRITE' });
    done += n;
  }
}

/** Creates (or empties) `file` with all of `data` and syncs it to disk; raw errors (callers name the file). */
export function writeFileSynced(file: string, data: FileData): void {
  const fd = openSync(file, 'w');
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Syncs a folder, so a rename into it survives a crash (best effort: not every file system can). */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // e.g. EINVAL on some network file systems: the rename itself is still atomic
  }
}

/**
 * Writes `data` to `file` atomically: a temp sibling written in full and synced, then renamed into
 * place, so a reader (and a crash) sees the old file or the whole new one, never a part. On any
 * failure the temp file is removed, the old file is left as it was, and the error names the file
 * and the cause (StorageError: no space left, read-only…). Temp files of killed writers go first.
 */
export function writeAtomic(file: string, data: FileData): void {
  makeDir(dirname(file));
  removeStaleTemps(file);
  const tmp = tempPath(file);
  try {
    writeFileSynced(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created (e.g. a part of the path is a file)
    }
    throw fsError(file, 'cannot write', err);
  }
  syncDir(dirname(file));
}

/**
 * Appends `data` to the file open at `fd` (opened for appending) whole or not at all: after a failed
 * or short write the file is cut back to its length before, so a half row or record never stays for
 * later reads. `sync` also waits for the disk (end-of-epoch rows; not per-step TensorBoard records).
 */
export function appendWhole(fd: number, file: string, data: string | Uint8Array, sync = true): void {
  let before: number | null = null;
  try {
    before = fstatSync(fd).size;
    writeAll(fd, data);
    if (sync) fsyncSync(fd);
  } catch (err) {
    if (before !== null) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // nothing more can be done; the cause below is the useful line
      }
    }
    throw fsError(file, 'cannot append', err);
  }
}

/** Appends `data` to `file` (created if absent) whole or not at all; see appendWhole. */
export function appendToFile(file: string, data: string | Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(file, 'a');
  } catch (err) {
    throw fsError(file, 'cannot append', err);
  }
  try {
    appendWhole(fd, file, data);
  } finally {
    closeSync(fd);
  }
}
