/**
 * Reading dataset files with the checks every loader shares: a missing file or a file of the wrong
 * size is reported as one line naming the file and what was expected (InputError → exit 2).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
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

/** Reads a file, gunzipping it when its name ends in .gz; a corrupt gzip stream is an InputError naming the file. */
export function readMaybeGzip(file: string): Buffer {
  const raw = readFileSync(file);
  if (!file.endsWith('.gz')) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw new InputError(`${file}: not a readable gzip file (${(err as Error).message})`);
  }
}
