/**
 * The native JPEG/PNG decoder (native/src/image_decode.cc: the system's libjpeg-turbo and libpng,
 * the libraries Debian's PIL links), used by the `torchvision` decode of class-folder images: about
 * twenty times sharp's rate on small JPEGs (docs/benchmarks.md). Optional: without it (headers
 * missing at install, another platform) every file goes through sharp, as the files it declines
 * (CMYK JPEGs, 16-bit PNGs, other formats) always do.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** 8-bit pixels, row-major, interleaved. */
export interface NativeImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** torchvision's Resize(resize) + CenterCrop(size), then PIL's convert('L') when `grey`. */
export interface NativeGeometry {
  resize: number;
  size: number;
  grey: boolean;
}

interface ImageAddon {
  /**
   * The file (EXIF orientation applied) in RGB at full size, or through `geometry` as
   * src/data/resample.ts computes it, on a worker thread; null for a file the addon leaves to
   * sharp; rejects with the library's message on a damaged file.
   */
  decode(path: string, geometry?: NativeGeometry): Promise<(NativeImage & { format: 'jpeg' | 'png' }) | null>;
  /** The geometry step alone on RGB pixels, synchronously (the test that holds it equal to resample.ts). */
  resample(rgb: Uint8Array, width: number, height: number, resize: number, size: number, grey: boolean): NativeImage;
  versions(): { libjpeg_turbo: number; libpng: number };
}

/** Repository root: this file runs as dist/src/data/native-decode.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADDON_PATH = join(ROOT, 'native', 'build', 'Release', 'lcconv_image.node');

let addon: ImageAddon | null | undefined;

/** The addon, or null when it was not built or does not load (then sharp decodes everything). */
export function nativeImageDecoder(): ImageAddon | null {
  if (addon === undefined) {
    try {
      addon =
        process.env.LCCONV_NATIVE_DECODE !== '0' && existsSync(ADDON_PATH)
          ? (createRequire(import.meta.url)(ADDON_PATH) as ImageAddon)
          : null;
    } catch {
      addon = null; // a broken build costs speed, never a dataset
    }
  }
  return addon;
}

/** libjpeg-turbo's and libpng's versions as people write them (2001005 → 2.1.5), or null without the addon. */
export function nativeDecoderVersion(): string | null {
  const a = nativeImageDecoder();
  if (!a) return null;
  const v = a.versions();
  const dotted = (n: number, unit: number) =>
    `${Math.floor(n / unit / unit)}.${Math.floor(n / unit) % unit}.${n % unit}`;
  return `libjpeg-turbo ${dotted(v.libjpeg_turbo, 1000)}, libpng ${dotted(v.libpng, 100)}`;
}

/** What decodes class-folder images here, for `lcconv doctor`. */
export function imageDecoderSummary(): { native: boolean; line: string } {
  const native = nativeDecoderVersion();
  if (native)
    return {
      native: true,
      line: `${native} for JPEG and PNG (resize: torchvision); sharp for other files and lanczos`,
    };
  const why =
    process.env.LCCONV_NATIVE_DECODE === '0'
      ? 'LCCONV_NATIVE_DECODE=0'
      : existsSync(ADDON_PATH)
        ? `${ADDON_PATH} does not load`
        : 'native decoder not built: needs the libjpeg-turbo and libpng headers';
  return {
    native: false,
    line: `sharp for every file (${why}; fix: apt-get install libjpeg62-turbo-dev libpng-dev && npm run build:native)`,
  };
}
