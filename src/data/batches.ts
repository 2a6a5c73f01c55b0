/**
 * Batches as float32, made on the fly from the uint8 dataset: shuffle, augment (random crop with
 * zero padding, or a random resized crop where the dataset asks for one; horizontal flip) and
 * per-channel normalisation. Randomness comes from a seeded stream per (seed, epoch), so an epoch
 * is reproducible on its own, which makes resuming exact.
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

/** A crop box in pixels: top, left, height, width. */
type Box = [number, number, number, number];

/** torchvision RandomResizedCrop.get_params: ten tries at a box of random area and log-uniform aspect, else the centre. */
function sampleResizedCrop(H: number, W: number, rrc: NonNullable<Dataset['resizedCrop']>, rng: Rng): Box {
  const area = H * W;
  const [lo, hi] = [Math.log(rrc.ratio[0]), Math.log(rrc.ratio[1])];
  for (let t = 0; t < 10; t++) {
    const target = area * (rrc.scale[0] + rng() * (rrc.scale[1] - rrc.scale[0]));
    const aspect = Math.exp(lo + rng() * (hi - lo));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= W && h <= H)
      return [Math.floor(rng() * (H - h + 1)), Math.floor(rng() * (W - w + 1)), h, w];
  }
  const ratio = W / H;
  const [w, h] =
    ratio < rrc.ratio[0]
      ? [W, Math.round(W / rrc.ratio[0])]
      : ratio > rrc.ratio[1]
        ? [Math.round(H * rrc.ratio[1]), H]
        : [W, H];
  return [Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w];
}

/** Copies the `box` of image `index` resized back to H×W (bilinear, half-pixel centres), optionally flipped, normalised. */
function writeResizedCrop(
  data: Dataset,
  split: ImageSplit,
  index: number,
  out: Float32Array,
  slot: number,
  [top, left, h, w]: Box,
  flip: boolean,
  scale: Float32Array,
  shift: Float32Array,
): void {
  const { height: H, width: W, channels: C } = data;
  const src = index * H * W * C;
  const dst = slot * H * W * C;
  const img = split.images;
  // The source columns and weights are the same on every row: found once per image, not per pixel.
  const x0s = new Int32Array(W);
  const x1s = new Int32Array(W);
  const wxs = new Float64Array(W); // float64 like the per-row arithmetic, so caching changes no pixel
  for (let x = 0; x < W; x++) {
    const xx = flip ? W - 1 - x : x;
    const fx = Math.min(Math.max(left + ((xx + 0.5) * w) / W - 0.5, left), left + w - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x]! + 1, left + w - 1);
    wxs[x] = fx - x0s[x]!;
  }
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max(top + ((y + 0.5) * h) / H - 0.5, top), top + h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, top + h - 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const x0 = x0s[x]!;
      const x1 = x1s[x]!;
      const wx = wxs[x]!;
      const o = dst + (y * W + x) * C;
      const tl = src + (y0 * W + x0) * C;
      const tr = src + (y0 * W + x1) * C;
      const bl = src + (y1 * W + x0) * C;
      const br = src + (y1 * W + x1) * C;
      for (let c = 0; c < C; c++) {
        const upper = img[tl + c]! + (img[tr + c]! - img[tl + c]!) * wx;
        const lower = img[bl + c]! + (img[br + c]! - img[bl + c]!) * wx;
        out[o + c] = (upper + (lower - upper) * wy) * scale[c]! + shift[c]!;
      }
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
  const rrc = augment ? data.resizedCrop : null;
  for (let start = 0; start + batchSize <= split.count; start += batchSize) {
    const x = new Float32Array(batchSize * pixels);
    const y = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const index = order[start + b]!;
      y[b] = split.labels[index]!;
      if (rrc) {
        const box = sampleResizedCrop(data.height, data.width, rrc, rng);
        writeResizedCrop(data, split, index, x, b, box, flipAllowed && rng() < 0.5, scale, shift);
        continue;
      }
      const dy = pad > 0 ? Math.floor(rng() * (2 * pad + 1)) : 0;
      const dx = pad > 0 ? Math.floor(rng() * (2 * pad + 1)) : 0;
      const flip = flipAllowed && rng() < 0.5;
      writeImage(data, split, index, x, b, pad, dy, dx, flip, scale, shift);
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
