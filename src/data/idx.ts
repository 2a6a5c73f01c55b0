/**
 * The official MNIST / Fashion-MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each optionally gzipped, as downloaded) from
 * `<dataset.root>/mnist/` or `<dataset.root>/fashion-mnist/`, with the official 60,000/10,000 split.
 * IDX: big-endian header (magic 0x0803 = uint8 3-D images, 0x0801 = uint8 labels; then one uint32
 * per dimension), then the raw bytes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';
import { formatCount } from '../format.js';
import { readSized } from './files.js';
import { DIGIT_CLASSES, FASHION_CLASSES } from './mnist-package.js';

/** The file as named, or with .gz; null when neither exists. */
function findIdx(dir: string, base: string): string | null {
  for (const f of [join(dir, base), join(dir, `${base}.gz`)]) if (existsSync(f)) return f;
  return null;
}

/** The most an IDX file may hold: more than any MNIST-like set (Fashion-MNIST's train images are 47 MB). */
const MAX_IDX_BYTES = 2 ** 31;

function readIdx(file: string, dims: 1 | 3): { shape: number[]; data: Uint8Array } {
  const header = 4 + 4 * dims;
  const magic = 0x0800 + dims;
  let shape: number[] = [];
  // The header is checked before the data is read or unpacked: its shape bounds what is allocated.
  const bytes = readSized(file, header, (head) => {
    if (head.length < header || head.readUInt32BE(0) !== magic)
      throw new InputError(
        `${file}: not an IDX file of uint8 ${dims}-D data (expected magic 0x${magic.toString(16).padStart(8, '0')}${head.length >= 4 ? `, found 0x${head.readUInt32BE(0).toString(16).padStart(8, '0')}` : `, file has ${head.length} bytes`})`,
      );
    shape = Array.from({ length: dims }, (_, d) => head.readUInt32BE(4 + 4 * d));
    const expected = header + shape.reduce((a, b) => a * b, 1);
    if (expected > MAX_IDX_BYTES)
      throw new InputError(
        `${file}: its header announces ${shape.join('×')} bytes of data, more than the ${formatCount(MAX_IDX_BYTES)} an IDX file lcconv reads may hold`,
      );
    return { bytes: expected, what: `header ${shape.join('×')}` };
  });
  return { shape, data: bytes.subarray(header) };
}

function readSplit(
  dir: string,
  prefix: 'train' | 't10k',
  classes: number,
  hint: string,
): ImageSplit & { height: number; width: number } {
  const imgFile = findIdx(dir, `${prefix}-images-idx3-ubyte`);
  const lblFile = findIdx(dir, `${prefix}-labels-idx1-ubyte`);
  if (!imgFile || !lblFile)
    throw new InputError(
      `${join(dir, `${prefix}-${imgFile ? 'labels-idx1' : 'images-idx3'}-ubyte`)}[.gz] not found; ${hint}`,
    );
  const img = readIdx(imgFile, 3);
  const lbl = readIdx(lblFile, 1);
  const [count, height, width] = img.shape as [number, number, number];
  if (lbl.shape[0] !== count)
    throw new InputError(
      `${lblFile}: expected ${formatCount(count)} labels (one per image in ${imgFile}), found ${formatCount(lbl.shape[0]!)}`,
    );
  const bad = lbl.data.findIndex((l) => l >= classes);
  if (bad >= 0) throw new InputError(`${lblFile}: label ${bad} is ${lbl.data[bad]}, expected 0..${classes - 1}`);
  return { images: Uint8Array.from(img.data), labels: Uint8Array.from(lbl.data), count, height, width };
}

export function loadIdx(root: string, kind: 'mnist' | 'fashion-mnist'): Dataset {
  const dir = join(root, kind);
  const name = `${kind}-idx`;
  const classNames = kind === 'mnist' ? DIGIT_CLASSES : FASHION_CLASSES;
  const hint = `put the official ${kind === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} IDX files (gzipped or not) in ${dir}/`;
  const train = readSplit(dir, 'train', classNames.length, hint);
  const test = readSplit(dir, 't10k', classNames.length, hint);
  if (test.height !== train.height || test.width !== train.width)
    throw new InputError(
      `${dir}: test images are ${test.height}×${test.width}, training images ${train.height}×${train.width}`,
    );
  const strip = ({ images, labels, count }: ImageSplit): ImageSplit => ({ images, labels, count });
  // Flips keep clothing classes but not digits (see mnist-package.ts).
  return {
    name,
    height: train.height,
    width: train.width,
    channels: 1,
    classNames,
    train: strip(train),
    test: strip(test),
    ...channelStats(train, 1),
    flipAugment: kind === 'fashion-mnist',
  };
}
