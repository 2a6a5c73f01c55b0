/**
 * Batches as float32, made on the fly from the uint8 dataset: shuffle, augment (random crop with
 * zero padding, horizontal flip) and per-channel normalisation. Randomness comes from a seeded
 * stream per (seed, epoch), so an epoch is reproducible on its own, which makes resuming exact.
 */
import { rngFor, type Rng } from '../random.js';
import type { Dataset, ImageSplit } from './dataset.js';

export interface Batch {
  x: Float32Array; // [size, H, W, C], normalised
  y: Int32Array; // [size]
  size: number;
}

export interface AugmentOptions {
  cropPadding: number; // pixels of zero padding before a random crop back to H×W; 0 = off
  flip: boolean;
}

export const CIFAR_AUGMENT: AugmentOptions = { cropPadding: 4, flip: true };

/** Fisher–Yates permutation of 0..n-1 from `rng`. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Copies image `index` into `out` at `slot`, cropped at (dy, dx) from the zero-padded image, optionally flipped, normalised. */
function writeImage(
  data: Dataset,
  split: ImageSplit,
  index: number,
  out: Float32Array,
  slot: number,
  pad: number,
  dy: number,
  dx: number,
  flip: boolean,
  scale: Float32Array,
  shift: Float32Array,
): void {
  const { height: H, width: W, channels: C } = data;
  const src = index * H * W * C;
  const dst = slot * H * W * C;
  for (let y = 0; y < H; y++) {
    const sy = y + dy - pad;
    for (let x = 0; x < W; x++) {
      const sx = (flip ? W - 1 - x : x) + dx - pad;
      const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
      const o = dst + (y * W + x) * C;
      const s = src + (sy * W + sx) * C;
      for (let c = 0; c < C; c++) out[o + c] = (inside ? split.images[s + c]! : 0) * scale[c]! + shift[c]!;
    }
  }
}

/** (v/255 - mean)/std as v·scale + shift. */
function normaliser(data: Dataset): { scale: Float32Array; shift: Float32Array } {
  const scale = Float32Array.from(data.std, (s) => 1 / (255 * s));
  const shift = Float32Array.from(data.mean, (m, c) => -m / data.std[c]!);
  return { scale, shift };
}

/** Training batches for one epoch: shuffled, augmented, the last incomplete batch dropped (BN needs full batches). */
export function* trainBatches(
  data: Dataset,
  batchSize: number,
  seed: number,
  epoch: number,
  augment: AugmentOptions | null,
): Generator<Batch> {
  const split = data.train;
  const order = permutation(split.count, rngFor(seed, `shuffle/${epoch}`));
  const rng = rngFor(seed, `augment/${epoch}`);
  const { scale, shift } = normaliser(data);
  const pixels = data.height * data.width * data.channels;
  const pad = augment?.cropPadding ?? 0;
  const flipAllowed = (augment?.flip ?? false) && data.flipAugment;
  for (let start = 0; start + batchSize <= split.count; start += batchSize) {
    const x = new Float32Array(batchSize * pixels);
    const y = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const index = order[start + b]!;
      const dy = pad > 0 ? Math.floor(rng() * (2 * pad + 1)) : 0;
      const dx = pad > 0 ? Math.floor(rng() * (2 * pad + 1)) : 0;
      const flip = flipAllowed && rng() < 0.5;
      writeImage(data, split, index, x, b, pad, dy, dx, flip, scale, shift);
      y[b] = split.labels[index]!;
    }
    yield { x, y, size: batchSize };
  }
}

/** Evaluation batches over a whole split, in order, no augmentation; the last batch may be smaller. */
export function* evalBatches(data: Dataset, split: ImageSplit, batchSize: number): Generator<Batch> {
  const { scale, shift } = normaliser(data);
  const pixels = data.height * data.width * data.channels;
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    const x = new Float32Array(size * pixels);
    const y = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      writeImage(data, split, start + b, x, b, 0, 0, 0, false, scale, shift);
      y[b] = split.labels[start + b]!;
    }
    yield { x, y, size };
  }
}

export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.floor(trainCount / batchSize);
}
