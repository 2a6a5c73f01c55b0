/**
 * The decoded-image cache of a class-folder split: one file holding every image of the split,
 * decoded and resized once, so later runs read it in seconds instead of decoding again.
 *
 * Format (little-endian; docs/datasets.md):
 *   bytes 0..7    magic "LCIMGv1\n"
 *   bytes 8..11   uint32 length L of the JSON header
 *   bytes 12..    the JSON header (CacheHeader), padded with spaces so the pixels start at a multiple of 64
 *   then          images: uint8 [count, height, width, channels], row-major (NHWC)
 *   then          labels: uint8 [count]
 * `key` is the sha256 of the file list (paths, sizes, mtimes) and the geometry: a tree that changed
 * since the cache was built has another key, so the cache is stale. `payload_sha256` covers the
 * pixels and labels, `header_sha256` every other field of the header (class names, mean and std, …):
 * a damaged or edited file is detected, never trained on, and rebuilt.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { writeAtomic } from '../fs-safety.js';
import type { ImageSplit } from './dataset.js';

const MAGIC = Buffer.from('LCIMGv1\n', 'latin1');
const ALIGN = 64;
/** Reads and hashes in pieces: a split can exceed Node's 2 GiB limit of a single read. */
const CHUNK = 1 << 26;

export interface CacheHeader {
  format: 'lcconv-image-cache';
  version: 2;
  key: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  class_names: string[];
  /** Files of the tree left out because they could not be decoded (path relative to the split's folder, why). */
  skipped: { file: string; reason: string }[];
  /** Per-channel mean and std of these images, in [0, 1] units. */
  mean: number[];
  std: number[];
  payload_sha256: string;
  decoder: string;
  built_at: string;
  /** sha256 of this header's JSON without this field (set by writeCache). */
  header_sha256?: string;
}

/** sha256 of the header's JSON without `header_sha256`, in the order its fields were written. */
function headerSha256(header: CacheHeader): string {
  const { header_sha256: _, ...rest } = header;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const isNumbers = (v: unknown, n: number) =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** What is wrong with a parsed header's fields, or null: valid JSON can still hold nonsense. */
function fieldProblem(h: CacheHeader): string | null {
  if (!isCount(h.count) || !isCount(h.height) || !isCount(h.width) || !isCount(h.channels) || h.channels < 1)
    return 'count or image shape is not a whole number';
  if (!Array.isArray(h.class_names) || !h.class_names.every((c) => typeof c === 'string'))
    return 'class_names is not a list of names';
  if (!isNumbers(h.mean, h.channels) || !isNumbers(h.std, h.channels)) return 'mean or std does not fit the channels';
  if (!Array.isArray(h.skipped) || typeof h.key !== 'string' || typeof h.payload_sha256 !== 'string')
    return 'key, checksum or skipped list missing';
  if (h.header_sha256 !== headerSha256(h)) return 'header does not match its checksum';
  return null;
}

export type CacheState =
  | { state: 'missing' }
  | { state: 'stale'; header: CacheHeader }
  | { state: 'damaged'; why: string }
  | { state: 'ok'; header: CacheHeader; dataOffset: number };

function readFully(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.length - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function headerOf(fd: number, size: number): { header: CacheHeader; dataOffset: number } | string {
  const head = Buffer.alloc(12);
  if (readFully(fd, head, 0) < 12 || !head.subarray(0, 8).equals(MAGIC)) return 'not an lcconv image cache (bad magic)';
  const len = head.readUInt32LE(8);
  if (12 + len > size) return `header of ${len} bytes runs past the end of the file`;
  const json = Buffer.alloc(len);
  readFully(fd, json, 12);
  let header: CacheHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as CacheHeader;
  } catch {
    return 'header is not valid JSON';
  }
  if (header === null || typeof header !== 'object') return 'header is not a JSON object';
  if (header.format !== 'lcconv-image-cache' || header.version !== 2) return 'unknown format or version';
  const problem = fieldProblem(header);
  if (problem) return problem;
  const dataOffset = 12 + len;
  const pixels = header.height * header.width * header.channels;
  const expected = dataOffset + header.count * (pixels + 1);
  if (size !== expected) return `expected ${expected} bytes for ${header.count} images, found ${size}`;
  return { header, dataOffset };
}

/** What state the cache at `file` is in for a tree whose file list hashes to `key`; reads only the header. */
export function inspectCache(file: string, key: string): CacheState {
  if (!existsSync(file)) return { state: 'missing' };
  if (!statSync(file).isFile())
    return { state: 'damaged', why: 'not a file (a folder or another entry is in its place)' };
  const fd = openSync(file, 'r');
  try {
    const parsed = headerOf(fd, fstatSync(fd).size);
    if (typeof parsed === 'string') return { state: 'damaged', why: parsed };
    return parsed.header.key === key
      ? { state: 'ok', header: parsed.header, dataOffset: parsed.dataOffset }
      : { state: 'stale', header: parsed.header };
  } finally {
    closeSync(fd);
  }
}

/** Reads a cache `inspectCache` found ok; verifies the payload checksum and labels (a string says why it is damaged). */
export function readCache(file: string, header: CacheHeader, dataOffset: number): ImageSplit | string {
  const pixels = header.height * header.width * header.channels;
  const images = new Uint8Array(header.count * pixels);
  const labels = new Uint8Array(header.count);
  const fd = openSync(file, 'r');
  try {
    if (readFully(fd, images, dataOffset) < images.length) return 'shorter than its header says';
    if (readFully(fd, labels, dataOffset + images.length) < labels.length) return 'shorter than its header says';
  } finally {
    closeSync(fd);
  }
  if (payloadSha256({ images, labels, count: header.count }) !== header.payload_sha256)
    return 'pixel data does not match its checksum';
  const classes = header.class_names.length;
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) return `image ${bad} has label ${labels[bad]}, expected 0..${classes - 1}`;
  return { images, labels, count: header.count };
}

/** sha256 of a split's pixels and labels, as stored in the header. */
export function payloadSha256(split: ImageSplit): string {
  const hash = createHash('sha256');
  for (let at = 0; at < split.images.length; at += CHUNK) hash.update(split.images.subarray(at, at + CHUNK));
  hash.update(split.labels);
  return hash.digest('hex');
}

/**
 * Writes a cache atomically (fs-safety's writeAtomic: a temporary file beside it, written in full,
 * flushed, then renamed over `file`). A build killed half-way leaves only the temporary file, which
 * the next build removes, never a cache that looks valid.
 */
export function writeCache(file: string, header: CacheHeader, split: ImageSplit): void {
  let json = Buffer.from(JSON.stringify({ ...header, header_sha256: headerSha256(header) }), 'utf8');
  const pad = (ALIGN - ((12 + json.length) % ALIGN)) % ALIGN;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  writeAtomic(file, [MAGIC, len, json, split.images, split.labels]);
}
