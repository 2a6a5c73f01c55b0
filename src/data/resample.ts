/**
 * torchvision's `Resize(R)` + `CenterCrop(S)` on a decoded 8-bit image, as torchvision computes it on
 * PIL images (the default `pil_loader` path): the output grid of `Resize` (the shorter side to R, the
 * longer side truncated: `int(R · long / short)`), PIL's antialiased bilinear resampling (a triangle
 * filter whose support widens with the downscale factor, separable, horizontal pass first, each pass
 * rounded to 8 bits with PIL's fixed-point coefficients), and `CenterCrop`'s offsets
 * (`int(round((n − S) / 2))`, Python's round half to even). Written from PIL's documented algorithm
 * (Pillow's Resample.c: precompute_coeffs, normalize_coeffs_8bpc), so the pixels a network is trained
 * on are the pixels torchvision feeds the same network in PyTorch.
 */

/** Fixed-point bits of PIL's 8-bit resampling coefficients (32 − 8 − 2). */
const PRECISION_BITS = 22;

/** One output pixel's taps: the first input index, how many, and their fixed-point weights. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array; // outSize × size, row-major
  size: number;
}

/** PIL's precompute_coeffs for the bilinear (triangle) filter, then normalize_coeffs_8bpc. */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter's support is 1
  const size = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * size);
  const k = new Float64Array(size);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterScale);
      k[x] = t < 1 ? 1 - t : 0;
      ww += k[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww === 0 ? k[x]! : k[x]! / ww;
      weights[xx * size + x] = Math.trunc(w < 0 ? -0.5 + w * 2 ** PRECISION_BITS : 0.5 + w * 2 ** PRECISION_BITS);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, size };
}

/** One 8-bit value from a fixed-point sum, as PIL's clip8. */
const clip8 = (sum: number) => {
  const v = Math.floor(sum / 2 ** PRECISION_BITS);
  return Math.min(Math.max(v, 0), 255);
};

/** An 8-bit interleaved image. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Resamples along x (rows `rowFirst` … `rowFirst + rows − 1` of `img`). */
function horizontal(img: RawImage, outWidth: number, rowFirst: number, rows: number): RawImage {
  const t = taps(img.width, outWidth);
  const c = img.channels;
  const out = new Uint8Array(outWidth * rows * c);
  const half = 2 ** (PRECISION_BITS - 1);
  for (let y = 0; y < rows; y++) {
    const row = (rowFirst + y) * img.width * c;
    for (let xx = 0; xx < outWidth; xx++) {
      const x0 = t.first[xx]!;
      const n = t.count[xx]!;
      const w = xx * t.size;
      for (let ch = 0; ch < c; ch++) {
        let sum = half;
        for (let x = 0; x < n; x++) sum += img.data[row + (x0 + x) * c + ch]! * t.weights[w + x]!;
        out[(y * outWidth + xx) * c + ch] = clip8(sum);
      }
    }
  }
  return { data: out, width: outWidth, height: rows, channels: c };
}

/** Resamples along y with taps whose first rows are shifted by `shift` (the rows the horizontal pass kept). */
function vertical(img: RawImage, t: Taps, shift: number, outHeight: number): RawImage {
  const c = img.channels;
  const rowLength = img.width * c;
  const out = new Uint8Array(img.width * outHeight * c);
  const half = 2 ** (PRECISION_BITS - 1);
  for (let yy = 0; yy < outHeight; yy++) {
    const y0 = t.first[yy]! - shift;
    const n = t.count[yy]!;
    const w = yy * t.size;
    for (let i = 0; i < rowLength; i++) {
      let sum = half;
      for (let y = 0; y < n; y++) sum += img.data[(y0 + y) * rowLength + i]! * t.weights[w + y]!;
      out[yy * rowLength + i] = clip8(sum);
    }
  }
  return { data: out, width: img.width, height: outHeight, channels: c };
}

/** PIL's `Image.resize((width, height), BILINEAR)` of an 8-bit image (a copy when the size is unchanged). */
export function resizeBilinear(img: RawImage, width: number, height: number): RawImage {
  if (width === img.width && height === img.height) return img;
  const vert = taps(img.height, height);
  // The rows the vertical pass reads: the horizontal pass resamples only those.
  const rowFirst = vert.first[0]!;
  const rowLast = vert.first[height - 1]! + vert.count[height - 1]!;
  let out = img;
  let shift = 0;
  if (width !== img.width) {
    out = horizontal(img, width, rowFirst, rowLast - rowFirst);
    shift = rowFirst;
  }
  return height !== img.height ? vertical(out, vert, shift, height) : out;
}

/** torchvision's Resize(size) output size for an int size: the shorter side to `size`, the longer truncated. */
export function resizedSize(width: number, height: number, size: number): { width: number; height: number } {
  const [short, long] = width <= height ? [width, height] : [height, width];
  if (short === size) return { width, height };
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? { width: size, height: newLong } : { width: newLong, height: size };
}

/** Python's round() of a half-integer or integer: half to even. */
const roundHalfEven = (x: number) => {
  const f = Math.floor(x);
  const diff = x - f;
  return diff > 0.5 || (diff === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** torchvision's CenterCrop(size) of an image at least `size` on each side. */
export function centerCrop(img: RawImage, size: number): RawImage {
  if (img.width === size && img.height === size) return img;
  const top = roundHalfEven((img.height - size) / 2);
  const left = roundHalfEven((img.width - size) / 2);
  const c = img.channels;
  const out = new Uint8Array(size * size * c);
  for (let y = 0; y < size; y++)
    out.set(
      img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + size) * c),
      y * size * c,
    );
  return { data: out, width: size, height: size, channels: c };
}

/** PIL's convert('L') of an RGB image: ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 + B·114/1000, in PIL's fixed point. */
export function toGrey(img: RawImage): RawImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [img.data[3 * i]!, img.data[3 * i + 1]!, img.data[3 * i + 2]!];
    out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  }
  return { data: out, width: img.width, height: img.height, channels: 1 };
}

/** PIL's convert('RGB') of a CMYK image (Convert.c cmyk2rgb): each channel (255 − K) − C·(255 − K)/255, no colour management. */
export function cmykToRgb(img: RawImage): RawImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const mulDiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - img.data[4 * i + 3]!;
    for (let ch = 0; ch < 3; ch++)
      out[3 * i + ch] = Math.max(0, Math.min(255, nk - mulDiv255(img.data[4 * i + ch]!, nk)));
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}
