/**
 * dataset.image_folder.resize: torchvision decodes as torchvision does: on a varied generated tree
 * (17 to 300 px sides, up- and downscales, JPEG and PNG, greyscale, palette, RGBA, CMYK, EXIF-rotated
 * files), every image is within mean |Δ| ≤ 1 and max |Δ| ≤ 8 (0–255) of torchvision's Resize + CenterCrop on PIL
 * (test/data/torchvision_decode.py). Needs Debian's python3-torchvision (and PIL); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, decodeWithSharp } from '../../src/data/image-folder-build.js';
import { nativeImageDecoder } from '../../src/data/native-decode.js';
import { centerCrop, resizeBilinear, resizedSize, toGrey } from '../../src/data/resample.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { tempDir } from '../fixtures.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(PACKAGE_ROOT, 'test', 'data', 'torchvision_decode.py');
const haveTorchvision =
  spawnSync(PYTHON, ['-c', 'import PIL, torchvision'], { encoding: 'utf8' }).status === 0
    ? null
    : 'needs /usr/bin/python3 with PIL and torchvision (Debian: apt-get install python3-torchvision)';

/** A smooth colour field with edges and noise: what photos have that resampling must get right. */
function pattern(width: number, height: number, seed: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  let s = seed * 7919 + 1;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 40 - 20;
  };
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const edge = (x + 2 * y + seed) % 23 < 6 ? 90 : 0;
      out[i] = Math.max(0, Math.min(255, 128 + 100 * Math.sin((x + seed) / 7) + edge + rand()));
      out[i + 1] = Math.max(0, Math.min(255, 128 + 100 * Math.cos((y - seed) / 5) + rand()));
      out[i + 2] = Math.max(0, Math.min(255, ((x * y + seed * 13) % 256) * 0.6 + edge + rand()));
    }
  return out;
}

/** Picture sizes (width, height) from 17 to 300 px: square, tall, wide, odd. */
const TREE_SIZES: readonly (readonly [number, number])[] = [
  [17, 17],
  [17, 100],
  [100, 17],
  [31, 45],
  [64, 64],
  [96, 72],
  [120, 300],
  [300, 299],
  [250, 180],
  [37, 37],
];

/**
 * A varied tree: sizes 17 to 300 px (up- and downscales), JPEG and PNG, then the modes torchvision's
 * loader converts with convert('RGB') (greyscale, palette with and without transparency, RGBA, grey
 * with alpha, a 1-bit palette, CMYK), progressive and interlaced files, and every EXIF orientation (JPEG and PNG).
 */
async function writeVariedTree(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const [i, [w, h]] of TREE_SIZES.entries()) {
    const raw = () => sharp(pattern(w, h, i), { raw: { width: w, height: h, channels: 3 } });
    files.push(join(dir, `${i}.png`), join(dir, `${i}.jpg`));
    await raw().png().toFile(files.at(-2)!);
    await raw().jpeg({ quality: 92 }).toFile(files.at(-1)!);
  }
  const [w, h] = [90, 70];
  const colour = () => sharp(pattern(w, h, 42), { raw: { width: w, height: h, channels: 3 } });
  const write = async (name: string, img: ReturnType<typeof sharp>) => {
    files.push(join(dir, name));
    await img.toFile(files.at(-1)!);
  };
  await write('cmyk.jpg', colour().toColourspace('cmyk').jpeg({ quality: 95 }));
  await write('grey.png', colour().toColourspace('b-w').png());
  await write('grey.jpg', colour().toColourspace('b-w').jpeg());
  await write('palette.png', colour().png({ palette: true, colours: 64 }));
  await write('palette-alpha.png', colour().ensureAlpha(0.5).png({ palette: true, colours: 32 }));
  await write('rgba.png', colour().ensureAlpha(0.6).png());
  await write('grey-alpha.png', colour().toColourspace('b-w').ensureAlpha(0.3).png());
  await write('two-colour.png', colour().png({ palette: true, colours: 2 })); // 1 bit per pixel
  await write('interlaced.png', colour().png({ progressive: true }));
  await write('progressive.jpg', colour().jpeg({ progressive: true, quality: 85 }));
  for (let orientation = 1; orientation <= 8; orientation++) {
    await write(`exif-${orientation}.jpg`, colour().jpeg({ quality: 90 }).withMetadata({ orientation }));
    await write(`exif-${orientation}.png`, colour().png().withMetadata({ orientation }));
  }
  return files;
}

test("the native decoder gives sharp's full-size RGB on every file it reads, and declines only CMYK", {
  skip: nativeImageDecoder()
    ? false
    : 'the native image decoder is not built (needs libjpeg62-turbo-dev and libpng-dev)',
}, async () => {
  const files = await writeVariedTree(tempDir('native-decode'));
  const declined: string[] = [];
  for (const file of files) {
    const ours = await nativeImageDecoder()!.decode(file);
    if (!ours) {
      declined.push(basename(file));
      continue;
    }
    const theirs = await decodeWithSharp(file);
    assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height], file);
    const turned = /exif-[5-8]\./.test(file); // orientations 5-8 swap the sides of the 90 × 70 picture
    if (/exif-/.test(file)) assert.deepEqual([ours.width, ours.height], turned ? [70, 90] : [90, 70], file);
    let max = 0;
    for (let j = 0; j < ours.data.length; j++) max = Math.max(max, Math.abs(ours.data[j]! - theirs.data[j]!));
    assert.equal(max, 0, `${file}: max |Δ| ${max} from sharp`);
  }
  assert.deepEqual(declined, ['cmyk.jpg']);
});

test('the native resize, crop and grey conversion give the bytes of resample.ts (the reference)', {
  skip: nativeImageDecoder() ? false : 'the native image decoder is not built',
}, () => {
  let cases = 0;
  for (const [w, h] of [...TREE_SIZES, [5, 9]] as const)
    for (const [size, resize] of [
      [16, 16],
      [16, 18],
      [24, 27],
      [32, 32],
      [80, 80],
      [7, 8],
    ] as const)
      for (const grey of [false, true]) {
        const rgb = new Uint8Array(pattern(w, h, w * h + size));
        const img = { data: rgb, width: w, height: h, channels: 3 };
        const fitted = resizedSize(w, h, resize);
        const cropped = centerCrop(resizeBilinear(img, fitted.width, fitted.height), size);
        const theirs = grey ? toGrey(cropped) : cropped;
        const ours = nativeImageDecoder()!.resample(rgb, w, h, resize, size, grey);
        const what = `${w}×${h} → Resize(${resize}) + CenterCrop(${size})${grey ? ' grey' : ''}`;
        assert.deepEqual([ours.width, ours.height, ours.channels], [size, size, grey ? 1 : 3], what);
        assert.ok(Buffer.from(ours.data).equals(Buffer.from(theirs.data)), what);
        cases++;
      }
  assert.equal(cases, 132);
});

test('a damaged JPEG or PNG is an error naming the problem, not grey pixels', {
  skip: nativeImageDecoder() ? false : 'the native image decoder is not built',
}, async () => {
  const dir = tempDir('native-damaged');
  const img = sharp(pattern(40, 30, 1), { raw: { width: 40, height: 30, channels: 3 } });
  for (const [name, bytes] of [
    ['cut.jpg', await img.clone().jpeg().toBuffer()],
    ['cut.png', await img.clone().png().toBuffer()],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(nativeImageDecoder()!.decode(file), (err: Error) => {
      assert.match(err.message, /\w/);
      return true;
    });
  }
  await assert.rejects(nativeImageDecoder()!.decode(join(dir, 'absent.jpg')), /cannot open/);
  writeFileSync(join(dir, 'note.txt'), 'not an image');
  assert.equal(await nativeImageDecoder()!.decode(join(dir, 'note.txt')), null, 'another format: left to sharp');
});

test('torchvision Resize output sizes: shorter side to the size, longer truncated; crop offsets round half to even', () => {
  assert.deepEqual(resizedSize(300, 200, 32), { width: 48, height: 32 });
  assert.deepEqual(resizedSize(17, 299, 32), { width: 32, height: 562 }); // int(32 · 299 / 17) = int(562.8)
  assert.deepEqual(resizedSize(32, 40, 32), { width: 32, height: 40 }, 'the shorter side already there: unchanged');
  // Offsets as Python's round((n − size) / 2): 1.5 → 2 and 2.5 → 2 (half to even).
  const row = (width: number) => ({
    data: Uint8Array.from({ length: width * 3 }, (_, i) => i % width),
    width,
    height: 3,
    channels: 1,
  });
  assert.deepEqual([...centerCrop(row(6), 3).data.subarray(0, 3)], [2, 3, 4]);
  assert.deepEqual([...centerCrop(row(8), 3).data.subarray(0, 3)], [2, 3, 4]);
  assert.deepEqual([...centerCrop(row(9), 3).data.subarray(0, 3)], [3, 4, 5]);
  const img = row(5);
  const same = resizeBilinear(img, 5, 3);
  assert.equal(same, img, 'no resampling at the same size');
});

test('image_folder resize torchvision matches torchvision on a varied tree (mean |Δ| ≤ 1, max ≤ 8)', {
  skip: haveTorchvision ?? false,
  timeout: 300_000,
}, async (t) => {
  const files = await writeVariedTree(tempDir('tv-decode'));

  for (const [size, crop, channels] of [
    [32, 1, 3],
    [32, 0.875, 3],
    [80, 1, 3], // upscales most of the tree
    [24, 0.875, 1],
  ] as const) {
    const r = spawnSync(PYTHON, [SCRIPT, String(size), String(crop), String(channels), ...files], {
      maxBuffer: 1 << 28,
    });
    assert.equal(r.status, 0, r.stderr?.toString());
    const per = size * size * channels;
    assert.equal(r.stdout.length, per * files.length);
    const worst = { torchvision: [0, 0], lanczos: [0, 0] };
    for (const [i, file] of files.entries()) {
      const theirs = r.stdout.subarray(i * per, (i + 1) * per);
      for (const resize of ['torchvision', 'lanczos'] as const) {
        const ours = await decodeImage(file, { image_size: size, crop_fraction: crop, channels, resize });
        let sum = 0;
        let max = 0;
        for (let j = 0; j < per; j++) {
          const d = Math.abs(ours[j]! - theirs[j]!);
          sum += d;
          max = Math.max(max, d);
        }
        const mean = sum / per;
        worst[resize] = [Math.max(worst[resize][0]!, mean), Math.max(worst[resize][1]!, max)];
        if (resize === 'torchvision')
          assert.ok(
            mean <= 1 && max <= 8,
            `${file} at ${size} px, crop ${crop}, ${channels} ch: mean |Δ| ${mean.toFixed(3)}, max ${max}`,
          );
      }
    }
    // The measured gap, for the record (lanczos: lcconv's decode before resize: torchvision existed).
    t.diagnostic(
      `${size} px, crop ${crop}, ${channels} ch, worst image: torchvision mean |Δ| ${worst.torchvision[0]!.toFixed(3)} max ${worst.torchvision[1]}; lanczos mean ${worst.lanczos[0]!.toFixed(2)} max ${worst.lanczos[1]}`,
    );
  }
});
