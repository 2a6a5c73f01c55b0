/**
 * NumPy .npy files (format versions 1–3), as CIFAR-10-C ships them: the header is read to check
 * dtype and shape, the data is read as uint8. Problems are one-line InputErrors naming the file.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface NpyHeader {
  dtype: string; // e.g. '|u1'
  shape: number[];
  dataOffset: number;
}

/** Parses the header of `file` and checks the file holds exactly the data it announces. */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(12);
    readSync(fd, head, 0, 12, 0);
    if (head.subarray(0, 6).toString('latin1') !== '\x93NUMPY')
      throw new InputError(`${file}: not a .npy file (no \\x93NUMPY magic)`);
    const major = head[6]!;
    const lengthBytes = major === 1 ? 2 : 4;
    const headerLength = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    const text = Buffer.alloc(headerLength);
    readSync(fd, text, 0, headerLength, 8 + lengthBytes);
    const dict = text.toString('latin1');
    const dtype = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
    if (!dtype || shapeText === undefined || /'fortran_order':\s*True/.test(dict))
      throw new InputError(`${file}: unsupported .npy header ${dict.trim()}`);
    const shape = shapeText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
    const dataOffset = 8 + lengthBytes + headerLength;
    const itemBytes = Number(/\d+$/.exec(dtype)?.[0] ?? 1);
    const expected = dataOffset + shape.reduce((a, b) => a * b, 1) * itemBytes;
    const size = statSync(file).size;
    if (size !== expected)
      throw new InputError(
        `${file}: expected ${expected.toLocaleString('en-US')} bytes for shape (${shape.join(', ')}) ${dtype}, found ${size.toLocaleString('en-US')}`,
      );
    return { dtype, shape, dataOffset };
  } finally {
    closeSync(fd);
  }
}

/** Reads `count` consecutive items (first-axis rows) starting at row `start` of a uint8 .npy file. */
export function readNpyRows(file: string, header: NpyHeader, start: number, count: number): Uint8Array {
  if (header.dtype !== '|u1' && header.dtype !== '<u1')
    throw new InputError(`${file}: expected uint8 data, found ${header.dtype}`);
  const row = header.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * row);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, out, 0, out.length, header.dataOffset + start * row);
  } finally {
    closeSync(fd);
  }
  return out;
}
