/**
 * Decodes a class-folder split into its cache (image-cache.ts), with the native JPEG/PNG decoder
 * (native-decode.ts) where it applies, else sharp (libvips). Run as a
 * child process by image-folder.ts: `node image-folder-build.js <jobs.json>`; progress and skipped
 * files go to stderr, and an input problem is printed on stdout with exit code 2 (the parent raises
 * it as its own InputError).
 *
 * Per image (dataset.image_folder.resize): EXIF orientation applied, then either the pixels
 * torchvision's Resize(image_size / crop_fraction) + CenterCrop(image_size) gives on PIL images
 * (`torchvision`, resample.ts), or libvips' Lanczos-3 resize of the shorter side and the centre
 * square (`lanczos`); alpha dropped (as PIL's convert('RGB') in torchvision's loader).
 */
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { usableCores } from '../cores.js';
import { InputError } from '../errors.js';
import { StorageError } from '../fs-safety.js';
import { formatCount } from '../format.js';
import { channelStats, type ImageSplit } from './dataset.js';
import { type CacheHeader, payloadSha256, writeCache } from './image-cache.js';
import { nativeImageDecoder } from './native-decode.js';
import { centerCrop, cmykToRgb, type RawImage, resizeBilinear, resizedSize, toGrey } from './resample.js';
import { BUILD_EXIT, type BuildJob, decoderVersion, type Geometry, unwritableCache } from './image-folder.js';

/** One image's pixels at the cache geometry, or throws (sharp's message) when the file cannot be decoded. */
export async function decodeImage(path: string, g: Geometry): Promise<Uint8Array> {
  return g.resize === 'torchvision' ? decodeAsTorchvision(path, g) : decodeLanczos(path, g);
}

/**
 * As torchvision sees the file (`pil_loader`, then Resize(R) + CenterCrop(S), then PIL's convert('L')
 * for one channel): decoded at full size (no JPEG shrink-on-load) to 8-bit RGB as PIL's
 * convert('RGB') gives it (alpha dropped, not composited; CMYK by PIL's formula), by PIL's own
 * libjpeg-turbo and libpng where the native decoder is built (native-decode.ts), else by sharp;
 * resample.ts resizes and crops as PIL and torchvision do (the native decoder, the same way in C++).
 */
async function decodeAsTorchvision(path: string, g: Geometry): Promise<Uint8Array> {
  const S = g.image_size;
  const R = Math.max(S, Math.round(S / g.crop_fraction));
  // The native decoder resizes on its worker thread too (the same arithmetic as resample.ts).
  const native = await nativeImageDecoder()?.decode(path, { resize: R, size: S, grey: g.channels === 1 });
  if (native) return native.data;
  const decoded = await decodeWithSharp(path);
  const size = resizedSize(decoded.width, decoded.height, R);
  const rgb = centerCrop(resizeBilinear(decoded, size.width, size.height), S);
  return (g.channels === 1 ? toGrey(rgb) : rgb).data;
}

/** A file at full size as PIL's convert('RGB') gives it, by sharp: for what the native decoder declines, or without it. */
export async function decodeWithSharp(path: string): Promise<RawImage> {
  const source = sharp(path, { failOn: 'warning' });
  // CMYK is converted as PIL does (a formula, no colour management): sharp hands over the file's CMYK.
  const cmyk = (await source.metadata()).space === 'cmyk';
  const { data, info } = await (cmyk
    ? source.pipelineColourspace('cmyk').toColourspace('cmyk')
    : source.toColourspace('srgb')
  )
    .rotate()
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== (cmyk ? 4 : 3))
    throw new Error(`decoded to ${info.channels} channels, expected ${cmyk ? 'CMYK' : 'RGB'}`);
  const pixels = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: info.channels,
  };
  return cmyk ? cmykToRgb(pixels) : pixels;
}

/** libvips' Lanczos-3 resize of the shorter side (sharp's default, with JPEG shrink-on-load). */
async function decodeLanczos(path: string, g: Geometry): Promise<Uint8Array> {
  const S = g.image_size;
  const R = Math.max(S, Math.round(S / g.crop_fraction));
  // failOn 'warning': a truncated JPEG is an error, not a silently grey lower half. Alpha is dropped
  // before resizing, as PIL's convert('RGB') drops it: libvips resizes an image with alpha
  // premultiplied, which turns the colour of fully transparent pixels black. sharp applies
  // removeAlpha after the resize whatever the call order, so such an image is decoded in two steps.
  const source = sharp(path, { failOn: 'warning' });
  let img = (await source.metadata()).hasAlpha
    ? await source
        .rotate()
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true })
        .then(({ data, info }) =>
          sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }),
        )
    : source.rotate();
  img = img.resize({ width: R, height: R, fit: 'cover', position: 'centre' });
  if (R > S) {
    const at = Math.floor((R - S) / 2);
    img = img.extract({ left: at, top: at, width: S, height: S });
  }
  img = g.channels === 3 ? img.toColourspace('srgb') : img.toColourspace('b-w');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== S || info.height !== S || info.channels !== g.channels)
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${S}×${S}×${g.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Where progress goes: a bar with images/s and ETA on a terminal, one line per stage elsewhere. */
async function progressFor(job: BuildJob, total: number) {
  const out = process.stderr;
  const start = performance.now();
  if (!out.isTTY) {
    out.write(`image_folder: ${job.split}: decoding ${formatCount(total)} images into ${job.file}\n`);
    return { tick() {}, stop() {}, start };
  }
  const cliProgress = (await import('cli-progress')).default;
  const bar = new cliProgress.SingleBar(
    {
      format: `image_folder ${job.split} |{bar}| {value}/{total} images, {rate} images/s, ETA {eta_formatted}`,
      stream: out,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 200,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '-' });
  let done = 0;
  return {
    tick() {
      done++;
      if (done % 16 === 0 || done === total)
        bar.update(done, { rate: Math.round(done / ((performance.now() - start) / 1000)) });
    },
    stop: () => bar.stop(),
    start,
  };
}

/** Decodes every file of a job, `concurrency` at a time; bad files are skipped or stop the build (on_bad_image). */
export async function buildSplit(job: BuildJob, concurrency: number): Promise<CacheHeader> {
  const { files, classes } = job.tree;
  const g = job.geometry;
  const pixels = g.image_size * g.image_size * g.channels;
  const images = new Uint8Array(files.length * pixels);
  const ok = new Uint8Array(files.length);
  const failures: { index: number; reason: string }[] = [];
  const progress = await progressFor(job, files.length);
  let next = 0;
  let stop: InputError | null = null;
  const worker = async () => {
    while (next < files.length && !stop) {
      const i = next++;
      try {
        const problem = files[i]!.problem;
        if (problem) throw new Error(problem); // found by the scan: never opened (a FIFO would block)
        images.set(await decodeImage(files[i]!.path, g), i * pixels);
        ok[i] = 1;
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0]!;
        if (job.onBadImage === 'error')
          stop = new InputError(
            `${files[i]!.path}: not a readable image (${reason}); dataset.image_folder.on_bad_image: skip leaves such files out`,
          );
        failures.push({ index: i, reason });
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  progress.stop();
  if (stop) throw stop;
  failures.sort((a, b) => a.index - b.index);
  for (const f of failures)
    process.stderr.write(`image_folder: skipped ${files[f.index]!.path}: not a readable image (${f.reason})\n`);

  // Leave the failures out, keeping the tree's order.
  const kept = files.length - failures.length;
  const split: ImageSplit = { images: new Uint8Array(kept * pixels), labels: new Uint8Array(kept), count: kept };
  const perClass = new Array<number>(classes.length).fill(0);
  for (let i = 0, k = 0; i < files.length; i++) {
    if (!ok[i]) continue;
    split.images.set(images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
    split.labels[k++] = files[i]!.label;
    perClass[files[i]!.label]!++;
  }
  const emptied = perClass.indexOf(0);
  if (emptied >= 0)
    throw new InputError(
      `dataset image_folder: no file of class folder ${job.tree.dir}/${classes[emptied]} could be decoded (see the skipped lines above)`,
    );
  const seconds = (performance.now() - progress.start) / 1000;
  const header: CacheHeader = {
    format: 'lcconv-image-cache',
    version: 2,
    key: job.key,
    count: kept,
    height: g.image_size,
    width: g.image_size,
    channels: g.channels,
    class_names: classes,
    skipped: failures.map((f) => ({ file: files[f.index]!.rel, reason: f.reason })),
    ...channelStats(split, g.channels),
    payload_sha256: payloadSha256(split),
    decoder: decoderVersion(g.resize),
    built_at: new Date().toISOString(),
  };
  try {
    writeCache(job.file, header, split);
  } catch (err) {
    throw unwritableCache(dirname(job.file), (err as Error).cause ?? err);
  }
  process.stderr.write(
    `image_folder: ${job.split}: ${formatCount(kept)} images decoded in ${seconds.toFixed(1)} s (${Math.round(files.length / seconds)} images/s)` +
      `${failures.length ? `, ${failures.length} skipped` : ''}, cache ${job.file}\n`,
  );
  return header;
}

/** libvips runs one thread per image; the parallelism is images in flight, a couple per core to hide file reads. */
export async function buildAll(jobs: BuildJob[]): Promise<void> {
  sharp.concurrency(1);
  sharp.cache(false);
  const concurrency = 2 * usableCores(); // the cores the cgroup and Slurm allow, as training uses
  for (const job of jobs) await buildSplit(job, concurrency);
}

async function main(jobFile: string): Promise<void> {
  try {
    await buildAll(JSON.parse(readFileSync(jobFile, 'utf8')) as BuildJob[]);
  } catch (err) {
    if (err instanceof InputError || err instanceof StorageError) {
      process.stdout.write(err.message);
      process.exitCode = err instanceof StorageError ? BUILD_EXIT.storage : BUILD_EXIT.input;
      return;
    }
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv[2]!);
