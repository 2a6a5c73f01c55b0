/**
 * Reading dataset files with the checks every loader shares: a missing file or a file of the wrong
 * size is reported as one line naming the file and what was expected (InputError → exit 2).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { InputError } from '../errors.js';
import { formatCount } from '../format.js';

/** 30730000 → "30,730,000": sizes in messages are read by people. */
const n = formatCount;

/** Throws one line naming the first missing file and how to get it. */
export function requireFiles(dataset: string, files: string[], hint: string): void {
  const missing = files.find((f) => !existsSync(f));
  if (missing) throw new InputError(`dataset ${dataset}: ${missing} not found; ${hint}`);
}

/** Reads a file that must be exactly `bytes` long; `what` says what those bytes are (e.g. "10,000 records of 3,073"). */
export function readChecked(file: string, bytes: number, what: string): Buffer {
  const size = statSync(file).size;
  if (size !== bytes) throw new InputError(`${file}: expected ${n(bytes)} bytes (${what}), found ${n(size)}`);
  return readFileSync(file);
}

/**
 * Reads a file whose header says how long it is, gunzipping it when its name ends in .gz, without
 * ever holding more than that length: `sizeOf` reads the header (its first `headerBytes` bytes,
 * unpacked alone first) and returns the file's whole length, or throws. A file, or a gzip stream,
 * longer than its header says is refused before it is read or unpacked whole (a small .gz can
 * unpack to gigabytes). A corrupt gzip stream is an InputError naming the file.
 */
export function readSized(
  file: string,
  headerBytes: number,
  sizeOf: (header: Buffer) => { bytes: number; what: string },
): Buffer {
  const gz = file.endsWith('.gz');
  if (!gz) {
    const fd = openSync(file, 'r');
    const header = Buffer.alloc(headerBytes);
    let got: number;
    try {
      got = readSync(fd, header, 0, headerBytes, 0);
    } finally {
      closeSync(fd);
    }
    const size = statSync(file).size;
    const expected = sizeOf(header.subarray(0, got));
    if (size !== expected.bytes)
      throw new InputError(`${file}: expected ${n(expected.bytes)} bytes (${expected.what}), found ${n(size)}`);
    return readFileSync(file);
  }
  const raw = readFileSync(file);
  const unreadable = (err: unknown) => new InputError(`${file}: not a readable gzip file (${(err as Error).message})`);
  let head: Buffer;
  try {
    // The start of the stream alone, flushed as far as it goes: enough for the header.
    head = gunzipSync(raw.subarray(0, 64 * 1024), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (err) {
    throw unreadable(err);
  }
  const expected = sizeOf(head.subarray(0, headerBytes));
  let whole: Buffer;
  try {
    whole = gunzipSync(raw, { maxOutputLength: Math.max(expected.bytes, 1) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new InputError(
        `${file}: unpacks to more than the ${n(expected.bytes)} bytes its header announces (${expected.what}); stopped there`,
      );
    throw unreadable(err);
  }
  if (whole.length !== expected.bytes)
    throw new InputError(
      `${file}: expected ${n(expected.bytes)} bytes after gunzip (${expected.what}), found ${n(whole.length)}`,
    );
  return whole;
}
