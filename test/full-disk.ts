/**
 * A disk that fills up, for tests: an fs shim (no root, no mount) that makes writes to matching
 * files behave as on a full disk — the first write(2) takes half of what it is given, the next fails
 * with ENOSPC, as Linux does when space runs out mid-file. Installed on node:fs itself (and synced into
 * the ESM named exports with syncBuiltinESMExports), so every writer of the code under test meets it.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

export interface FullDisk {
  /** Paths that live on the full disk. */
  match: RegExp;
  /** Opens of matching paths that still succeed in full before the disk is full (default 0). */
  after?: number;
  /** Instead of failing: every write takes at most this many bytes (short writes that a loop must finish). */
  shortBy?: number;
}

/** Installs the shim; returns the function that removes it. */
export function fillDisk(disk: FullDisk): () => void {
  const { openSync, writeSync, closeSync } = fs;
  const full = new Map<number, { wrote: boolean }>();
  let opened = 0;
  fs.openSync = ((path: unknown, ...rest: unknown[]) => {
    const fd = (openSync as (...a: unknown[]) => number)(path, ...rest);
    if (disk.match.test(String(path)) && opened++ >= (disk.after ?? 0)) full.set(fd, { wrote: false });
    return fd;
  }) as typeof fs.openSync;
  fs.closeSync = ((fd: number) => {
    full.delete(fd);
    closeSync(fd);
  }) as typeof fs.closeSync;
  fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
    const state = full.get(fd);
    const write = writeSync as (...a: unknown[]) => number;
    if (!state || !ArrayBuffer.isView(data)) return write(fd, data, ...rest);
    const [offset = 0, length = data.byteLength - Number(offset)] = rest as number[];
    if (disk.shortBy) return write(fd, data, offset, Math.min(length, disk.shortBy));
    if (state.wrote || length < 2)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    state.wrote = true;
    return write(fd, data, offset, Math.floor(length / 2));
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  return () => {
    fs.openSync = openSync;
    fs.writeSync = writeSync;
    fs.closeSync = closeSync;
    syncBuiltinESMExports();
  };
}
