#!/usr/bin/env node
// Writes a small class-folder image tree (train/<class>/*, val/<class>/*) of real JPEG, PNG and WebP
// files with sharp: the worked example of docs/datasets.md and the fixture of the image_folder tests.
// Each class is a seeded oriented stripe pattern in its own colour, each image a shifted noisy copy,
// so a tiny network learns it in one epoch. With `--awkward` (the default) train/ also gets the files
// a real tree has: a truncated JPEG, a text file named .png, a CMYK JPEG, a greyscale JPEG and a
// JPEG stored sideways with an EXIF orientation tag.
//
//   node scripts/make-image-tree.mjs <dir> [--classes 3] [--train 12] [--val 4] [--size 40]
//                                          [--aspect 0.75] [--formats jpg,png,webp] [--no-awkward]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

/** Class names whose code-point order ('Zebra' < 'ant') differs from a case-insensitive one, as torchvision sorts. */
const CLASS_NAMES = ['ant', 'Zebra', 'bee', 'cow', 'dog', 'eel', 'fox', 'gnu', 'hen', 'ibis'];

function lcg(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** RGB pixels of image `i` of class `c`: stripes at the class's angle and colour, shifted and noisy. */
function pixels(c, i, width, height) {
  const rng = lcg(1000 * c + i + 7);
  const angle = (Math.PI * c) / CLASS_NAMES.length;
  const colour = [(c * 97) % 256, (c * 53 + 80) % 256, (c * 151 + 160) % 256];
  const phase = rng() * 2 * Math.PI;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = 0.5 + 0.5 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) * 0.6 + phase);
      for (let k = 0; k < 3; k++) {
        const noisy = colour[k] * v + 40 * (rng() - 0.5);
        out[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(noisy)));
      }
    }
  return out;
}

const raw = (c, i, width, height) => sharp(pixels(c, i, width, height), { raw: { width, height, channels: 3 } });

async function writeImage(file, c, i, size, aspect, format) {
  const img = raw(c, i, size, Math.round(size * aspect)); // landscape by default: the loader's centre crop matters
  if (format === 'png') await img.png().toFile(file);
  else if (format === 'webp') await img.webp({ quality: 90 }).toFile(file);
  else await img.jpeg({ quality: 90 }).toFile(file);
}

/**
 * Writes the tree under `dir`; returns what it wrote. Options: classes, train and val images per
 * class, size (width in pixels), aspect (height / width), formats (cycled), awkward (the extra train/ files listed above).
 */
export async function makeImageTree(dir, options = {}) {
  const {
    classes = 3,
    train = 12,
    val = 4,
    size = 40,
    aspect = 0.75,
    formats = ['jpg', 'png', 'webp'],
    awkward = true,
  } = options;
  const names = CLASS_NAMES.slice(0, classes);
  if (names.length < classes) for (let c = names.length; c < classes; c++) names.push(`class${c}`);
  const written = { train: 0, val: 0, awkward: {} };
  for (const [split, count] of [
    ['train', train],
    ['val', val],
  ]) {
    if (count === 0) continue;
    for (const [c, name] of names.entries()) {
      const classDir = join(dir, split, name);
      mkdirSync(classDir, { recursive: true });
      const offset = split === 'train' ? 0 : 100_000;
      for (let i = 0; i < count; i++) {
        const format = formats[i % formats.length];
        await writeImage(
          join(classDir, `${String(i).padStart(5, '0')}.${format}`),
          c,
          offset + i,
          size,
          aspect,
          format,
        );
        written[split]++;
      }
    }
  }
  if (awkward && train > 0) {
    const at = (name) => join(dir, 'train', names[0], name);
    const h = Math.round(size * 0.75);
    const jpeg = await raw(0, 900, size, h).jpeg().toBuffer();
    writeFileSync(at('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    writeFileSync(at('not-an-image.png'), 'this is a text file with an image name\n');
    await raw(0, 901, size, h).jpeg().toColourspace('cmyk').toFile(at('cmyk.jpg'));
    await raw(0, 902, size, h).toColourspace('b-w').jpeg().toFile(at('grey.jpg'));
    // Stored portrait-sideways (h × size) with orientation 6: displayed (and decoded) as size × h.
    await raw(0, 903, h, size).jpeg().withMetadata({ orientation: 6 }).toFile(at('exif-rotated.jpg'));
    written.awkward = {
      bad: ['truncated.jpg', 'not-an-image.png'].map((f) => join(names[0], f)),
      good: ['cmyk.jpg', 'grey.jpg', 'exif-rotated.jpg'].map((f) => join(names[0], f)),
    };
  }
  return { classes: names, ...written };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const dir = args.find(
    (a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--(classes|train|val|size|aspect|formats)$/),
  );
  if (!dir) {
    process.stderr.write(
      'usage: node scripts/make-image-tree.mjs <dir> [--classes N] [--train N] [--val N] [--size S] [--aspect A] [--formats jpg,png,webp] [--no-awkward]\n',
    );
    process.exit(2);
  }
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const result = await makeImageTree(dir, {
    classes: Number(opt('classes', 3)),
    train: Number(opt('train', 12)),
    val: Number(opt('val', 4)),
    size: Number(opt('size', 40)),
    aspect: Number(opt('aspect', 0.75)),
    formats: opt('formats', 'jpg,png,webp').split(','),
    awkward: !args.includes('--no-awkward'),
  });
  process.stdout.write(
    `${dir}: ${result.classes.length} classes (${result.classes.join(', ')}), ${result.train} train and ${result.val} val images` +
      `${result.awkward.bad ? `, plus ${result.awkward.bad.length} unreadable and ${result.awkward.good.length} awkward-but-valid files in train/` : ''}\n`,
  );
}
