/**
 * Common corruptions at severities 1–5 with the parameters of CIFAR-10-C (Hendrycks & Dietterich,
 * ICLR 2019, `make_cifar_c.py` of hendrycks/robustness), generated for any dataset, colour or grey,
 * from a seed. Names are the CIFAR-10-C file names. Each function maps one uint8 image (HWC) to a
 * uint8 image as the original does: compute in [0,1] float, clip, then ×255 truncated (np.uint8);
 * pixelate and JPEG work on the uint8 image directly, as PIL does.
 *
 * Differences from the original, all documented in docs/eval-export.md: the random streams are seedrandom,
 * not NumPy's (so noise patterns differ, their distribution does not); JPEG uses jpeg-js, which
 * encodes 4:4:4 (PIL subsamples colour 4:2:0) and encodes grey images as RGB with equal channels;
 * parameters are the 32×32 ones for every image size (pixelate scales with the size, as PIL's).
 */
import jpeg from 'jpeg-js';
import { unitDraws } from '../models/init.js';
import { rngFor, type Rng } from '../random.js';
import type { CorruptionName } from '../config/names.js';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

type Corrupt = (image: Uint8Array, shape: ImageShape, severity: number, rng: Rng) => Uint8Array;

/** [0,1] floats back to uint8 as np.uint8(np.clip(x, 0, 1) * 255) does: truncation. */
function toUint8(x: Float64Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.trunc(Math.min(Math.max(x[i]!, 0), 1) * 255);
  return out;
}

function toUnit(image: Uint8Array): Float64Array {
  const x = new Float64Array(image.length);
  for (let i = 0; i < image.length; i++) x[i] = image[i]! / 255;
  return x;
}

/** log(k!) — exact sum for small k, Stirling's series beyond. */
function logFactorial(k: number): number {
  if (k < 20) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const n = k + 1;
  return (
    (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * n) - 1 / (360 * n ** 3) + 1 / (1260 * n ** 5)
  );
}

/**
 * A Poisson draw: multiplication of uniforms for λ < 10, else Hörmann's transformed rejection
 * (PTRS, 1993), the method NumPy uses for large λ.
 */
export function poisson(lambda: number, rng: Rng): number {
  if (lambda <= 0) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng();
    while (p > limit) {
      k++;
      p *= rng();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const logLambda = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng() - 0.5;
    const v = rng();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * logLambda - logFactorial(k))
      return k;
  }
}

/** Correlates each channel with a separable 1-D kernel along rows then columns; `at` maps an out-of-range index inside. */
function separable(
  x: Float64Array,
  shape: ImageShape,
  kernel: number[],
  at: (i: number, n: number) => number,
): Float64Array {
  const { height: H, width: W, channels: C } = shape;
  const r = (kernel.length - 1) / 2;
  const rows = new Float64Array(x.length);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = -r; t <= r; t++) s += kernel[t + r]! * x[(y * W + at(xx + t, W)) * C + c]!;
        rows[(y * W + xx) * C + c] = s;
      }
    }
  }
  const out = new Float64Array(x.length);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = -r; t <= r; t++) s += kernel[t + r]! * rows[(at(y + t, H) * W + xx) * C + c]!;
        out[(y * W + xx) * C + c] = s;
      }
    }
  }
  return out;
}

/** Border modes: scipy 'nearest' (edge repeated) and OpenCV's default BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba). */
const nearest = (i: number, n: number) => Math.min(Math.max(i, 0), n - 1);
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Normalised Gaussian taps exp(−t²/2σ²) for t = −r..r. */
function gaussianTaps(sigma: number, radius: number): number[] {
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/**
 * The defocus kernel of make_cifar_c's `disk`: a 17×17 (radius ≤ 8) aliased disk X²+Y² ≤ r²,
 * normalised, then smoothed by OpenCV's 3×3 Gaussian (σ = alias_blur, reflect-101 border).
 */
export function defocusKernel(radius: number, aliasBlur: number): { size: number; weights: Float64Array } {
  const half = radius <= 8 ? 8 : Math.ceil(radius);
  const size = 2 * half + 1;
  const disk = new Float64Array(size * size);
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - half) ** 2 + (y - half) ** 2 <= radius * radius ? 1 : 0;
      disk[y * size + x] = inside;
      sum += inside;
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i]! /= sum;
  const blurred = separable(
    disk,
    { height: size, width: size, channels: 1 },
    gaussianTaps(aliasBlur, radius <= 8 ? 1 : 2),
    reflect101,
  );
  return { size, weights: blurred };
}

/** 2-D correlation per channel with a square kernel, reflect-101 border (cv2.filter2D's default). */
function filter2d(x: Float64Array, shape: ImageShape, kernel: { size: number; weights: Float64Array }): Float64Array {
  const { height: H, width: W, channels: C } = shape;
  const half = (kernel.size - 1) / 2;
  const taps: { dy: number; dx: number; w: number }[] = []; // the disk kernel is mostly zeros
  kernel.weights.forEach((w, i) => {
    if (w !== 0) taps.push({ dy: Math.floor(i / kernel.size) - half, dx: (i % kernel.size) - half, w });
  });
  const out = new Float64Array(x.length);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (const { dy, dx, w } of taps) s += w * x[(reflect101(y + dy, H) * W + reflect101(xx + dx, W)) * C + c]!;
        out[(y * W + xx) * C + c] = s;
      }
    }
  }
  return out;
}

/**
 * PIL's BOX resampling along one axis of a uint8 image (Image.resize(..., Image.BOX)): output pixel
 * i averages the input pixels whose centres fall in its box [i·s, (i+1)·s), s = in/out, rounded.
 */
function boxResizeAxis(
  src: Uint8Array,
  shape: ImageShape,
  outSize: number,
  axis: 'x' | 'y',
): { image: Uint8Array; shape: ImageShape } {
  const inSize = axis === 'x' ? shape.width : shape.height;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 0.5 * filterScale;
  const coeffs: { start: number; weights: number[] }[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights: number[] = [];
    for (let i = start; i < end; i++) {
      const t = (i - center + 0.5) / filterScale;
      weights.push(t > -0.5 && t <= 0.5 ? 1 : 0);
    }
    const sum = weights.reduce((a, b) => a + b, 0);
    coeffs.push({ start, weights: weights.map((w) => w / sum) });
  }
  const out: ImageShape = axis === 'x' ? { ...shape, width: outSize } : { ...shape, height: outSize };
  const image = new Uint8Array(out.height * out.width * out.channels);
  const C = shape.channels;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const { start, weights } = coeffs[axis === 'x' ? x : y]!;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) {
          const sx = axis === 'x' ? start + k : x;
          const sy = axis === 'y' ? start + k : y;
          s += weights[k]! * src[(sy * shape.width + sx) * C + c]!;
        }
        image[(y * out.width + x) * C + c] = Math.min(Math.max(Math.floor(s + 0.5), 0), 255);
      }
    }
  }
  return { image, shape: out };
}

/** PIL resize with BOX: the horizontal pass, then the vertical one, each rounded to uint8. */
export function boxResize(image: Uint8Array, shape: ImageShape, width: number, height: number): Uint8Array {
  let current = { image, shape };
  if (width !== shape.width) current = boxResizeAxis(current.image, current.shape, width, 'x');
  if (height !== shape.height) current = boxResizeAxis(current.image, current.shape, height, 'y');
  return current.image;
}

/**
 * JPEG encode + decode of many images at once. jpeg-js rebuilds its tables for every encode (tens of
 * ms), so the images are tiled into one mosaic of cells rounded up to whole 8×8 blocks, each cell
 * padded by repeating its image's last row and column, exactly as jpeg-js pads a single image: with
 * 4:4:4 sampling every block is coded on its own, so each image decodes to the same pixels as alone.
 */
function jpegRoundTrip(images: Uint8Array, count: number, shape: ImageShape, quality: number): Uint8Array {
  const { height: H, width: W, channels: C } = shape;
  const cellH = Math.ceil(H / 8) * 8;
  const cellW = Math.ceil(W / 8) * 8;
  const columns = Math.min(count, 16);
  const rows = Math.ceil(count / columns);
  const mosaicW = columns * cellW;
  const rgba = Buffer.alloc(rows * cellH * mosaicW * 4, 255);
  const pixel = (i: number, y: number, x: number, c: number) =>
    images[((i * H + Math.min(y, H - 1)) * W + Math.min(x, W - 1)) * C + (C === 3 ? c : 0)]!;
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * cellH;
    const left = (i % columns) * cellW;
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const o = ((top + y) * mosaicW + left + x) * 4;
        for (let c = 0; c < 3; c++) rgba[o + c] = pixel(i, y, x, c);
      }
    }
  }
  const encoded = jpeg.encode({ data: rgba, width: mosaicW, height: rows * cellH }, quality);
  const decoded = jpeg.decode(encoded.data, { useTArray: true, formatAsRGBA: true });
  const out = new Uint8Array(count * H * W * C);
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * cellH;
    const left = (i % columns) * cellW;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++)
          out[((i * H + y) * W + x) * C + c] = decoded.data[((top + y) * mosaicW + left + x) * 4 + c]!;
      }
    }
  }
  return out;
}

/** Per severity 1..5, the parameter(s) of make_cifar_c.py. */
export const CORRUPTION_PARAMS = {
  gaussian_noise: [0.04, 0.06, 0.08, 0.09, 0.1], // σ of additive N(0, σ²)
  shot_noise: [500, 250, 100, 75, 50], // photons per unit intensity: Poisson(x·c)/c
  impulse_noise: [0.01, 0.02, 0.03, 0.05, 0.07], // fraction of salt-and-pepper values
  defocus_blur: [
    [0.3, 0.4],
    [0.4, 0.5],
    [0.5, 0.6],
    [1, 0.2],
    [1.5, 0.1],
  ], // disk radius, alias blur σ
  gaussian_blur: [0.4, 0.6, 0.7, 0.8, 1], // σ in pixels
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15], // factor towards the per-channel mean
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3], // added to HSV value
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65], // downscale factor before upscaling back
  jpeg_compression: [80, 65, 58, 50, 40], // JPEG quality
} as const satisfies Record<CorruptionName, readonly unknown[]>;

const param = <N extends CorruptionName>(name: N, severity: number) =>
  CORRUPTION_PARAMS[name][severity - 1] as (typeof CORRUPTION_PARAMS)[N][number];

const CORRUPT: Record<CorruptionName, Corrupt> = {
  gaussian_noise: (image, _shape, severity, rng) => {
    const x = toUnit(image);
    const noise = unitDraws(x.length, 'normal', rng);
    const sigma = param('gaussian_noise', severity);
    for (let i = 0; i < x.length; i++) x[i]! += sigma * noise[i]!;
    return toUint8(x);
  },
  shot_noise: (image, _shape, severity, rng) => {
    const c = param('shot_noise', severity);
    const x = toUnit(image);
    for (let i = 0; i < x.length; i++) x[i] = poisson(x[i]! * c, rng) / c;
    return toUint8(x);
  },
  impulse_noise: (image, _shape, severity, rng) => {
    // skimage random_noise(mode='s&p'): each value independently becomes 0 or 1 (even odds) with probability `amount`.
    const amount = param('impulse_noise', severity);
    const x = toUnit(image);
    for (let i = 0; i < x.length; i++) if (rng() < amount) x[i] = rng() < 0.5 ? 1 : 0;
    return toUint8(x);
  },
  defocus_blur: (image, shape, severity) => {
    const [radius, alias] = param('defocus_blur', severity);
    return toUint8(filter2d(toUnit(image), shape, defocusKernel(radius, alias)));
  },
  gaussian_blur: (image, shape, severity) => {
    // skimage.filters.gaussian: scipy's filter, mode 'nearest', truncated at 4σ.
    const sigma = param('gaussian_blur', severity);
    return toUint8(separable(toUnit(image), shape, gaussianTaps(sigma, Math.trunc(4 * sigma + 0.5)), nearest));
  },
  contrast: (image, shape, severity) => {
    const c = param('contrast', severity);
    const x = toUnit(image);
    const C = shape.channels;
    const means = new Float64Array(C);
    for (let i = 0; i < x.length; i++) means[i % C]! += x[i]!;
    for (let ch = 0; ch < C; ch++) means[ch]! /= x.length / C;
    for (let i = 0; i < x.length; i++) x[i] = (x[i]! - means[i % C]!) * c + means[i % C]!;
    return toUint8(x);
  },
  brightness: (image, shape, severity) => {
    // HSV value V = max over channels; raising V to min(V + c, 1) at fixed hue and saturation scales
    // every channel by V'/V (a black pixel has S = 0 and becomes grey V'). Grey: V is the pixel.
    const c = param('brightness', severity);
    const x = toUnit(image);
    const C = shape.channels;
    for (let p = 0; p < x.length; p += C) {
      let v = 0;
      for (let ch = 0; ch < C; ch++) v = Math.max(v, x[p + ch]!);
      const raised = Math.min(v + c, 1);
      for (let ch = 0; ch < C; ch++) x[p + ch] = v > 0 ? (x[p + ch]! * raised) / v : raised;
    }
    return toUint8(x);
  },
  pixelate: (image, shape, severity) => {
    const c = param('pixelate', severity);
    const small = { ...shape, width: Math.trunc(shape.width * c), height: Math.trunc(shape.height * c) };
    return boxResize(boxResize(image, shape, small.width, small.height), small, shape.width, shape.height);
  },
  jpeg_compression: (image, shape, severity) => jpegRoundTrip(image, 1, shape, param('jpeg_compression', severity)),
};

/** One corrupted image. */
export function corruptImage(
  name: CorruptionName,
  severity: number,
  image: Uint8Array,
  shape: ImageShape,
  rng: Rng,
): Uint8Array {
  return CORRUPT[name](image, shape, severity, rng);
}

/**
 * Corrupts `count` images (uint8 NHWC, in order) with one random stream per (seed, name, severity):
 * every run evaluated with the same seed sees exactly the same corrupted images.
 */
export function corruptImages(
  name: CorruptionName,
  severity: number,
  images: Uint8Array,
  count: number,
  shape: ImageShape,
  seed: number,
): Uint8Array {
  const pixels = shape.height * shape.width * shape.channels;
  if (name === 'jpeg_compression') {
    const out = new Uint8Array(count * pixels);
    const chunk = 256; // images per mosaic
    for (let i = 0; i < count; i += chunk) {
      const n = Math.min(chunk, count - i);
      out.set(
        jpegRoundTrip(images.subarray(i * pixels, (i + n) * pixels), n, shape, param('jpeg_compression', severity)),
        i * pixels,
      );
    }
    return out;
  }
  const rng = rngFor(seed, `corruption/${name}/${severity}`);
  const out = new Uint8Array(count * pixels);
  for (let i = 0; i < count; i++)
    out.set(corruptImage(name, severity, images.subarray(i * pixels, (i + 1) * pixels), shape, rng), i * pixels);
  return out;
}
