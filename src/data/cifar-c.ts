/**
 * CIFAR-10-C and CIFAR-100-C (Hendrycks & Dietterich, ICLR 2019; Zenodo records 2535967 and
 * 3555552): `<root>/CIFAR-10-C/<corruption>.npy`, each [50000, 32, 32, 3] uint8 = the 10,000 test
 * images at severity 1, then 2, …, 5, in the order of the CIFAR test set; `labels.npy` [50000].
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readNpyHeader, readNpyRows } from './npy.js';

export interface CorruptedLayout {
  dir: string;
  /** .npy files besides labels.npy (the archive holds 19; lcconv needs the 15 benchmark ones). */
  corruptions: readonly string[];
  /** Test images per severity. */
  perSeverity: number;
}

/** The archives hold these 19 corruptions; the check requires every one. */
const ALL_CORRUPTIONS = [
  'brightness',
  'contrast',
  'defocus_blur',
  'elastic_transform',
  'fog',
  'frost',
  'gaussian_blur',
  'gaussian_noise',
  'glass_blur',
  'impulse_noise',
  'jpeg_compression',
  'motion_blur',
  'pixelate',
  'saturate',
  'shot_noise',
  'snow',
  'spatter',
  'speckle_noise',
  'zoom_blur',
];

export const CIFAR10C_LAYOUT: CorruptedLayout = {
  dir: 'CIFAR-10-C',
  corruptions: ALL_CORRUPTIONS,
  perSeverity: 10_000,
};
export const CIFAR100C_LAYOUT: CorruptedLayout = {
  dir: 'CIFAR-100-C',
  corruptions: ALL_CORRUPTIONS,
  perSeverity: 10_000,
};

/** Why `dir` is not a complete copy (every file's .npy header, shape and size), or null. */
export function checkCorruptedDir(dir: string, layout: CorruptedLayout): string | null {
  if (!existsSync(dir)) return 'missing';
  const n = 5 * layout.perSeverity;
  for (const name of ['labels', ...layout.corruptions]) {
    const file = join(dir, `${name}.npy`);
    if (!existsSync(file)) return `${file} missing`;
    try {
      const { shape } = readNpyHeader(file);
      const want = name === 'labels' ? [n] : [n, 32, 32, 3];
      if (shape.join(',') !== want.join(','))
        return `${file}: shape (${shape.join(', ')}), expected (${want.join(', ')})`;
    } catch (err) {
      if (err instanceof InputError) return err.message;
      throw err;
    }
  }
  return null;
}

/** The test images at `indices` (positions in the CIFAR test set) corrupted by `name` at `severity`. */
export function readCorrupted(
  dir: string,
  name: string,
  severity: number,
  indices: Uint32Array | number[],
  perSeverity: number,
): Uint8Array {
  const file = join(dir, `${name}.npy`);
  const header = readNpyHeader(file);
  const pixels = 32 * 32 * 3;
  const block = readNpyRows(file, header, (severity - 1) * perSeverity, perSeverity);
  const out = new Uint8Array(indices.length * pixels);
  Array.from(indices).forEach((index, i) => {
    out.set(block.subarray(index * pixels, (index + 1) * pixels), i * pixels);
  });
  return out;
}
