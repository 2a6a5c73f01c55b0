/**
 * Quick-experiment selections applied after any loader: `dataset.subset` keeps at most N training
 * images per class, `dataset.val_split` holds out a fraction of each class of the (subset) training
 * images as the validation split, which then replaces the test split as what the trainer evaluates
 * on. Both are drawn from `dataset.split_seed`, not the run seed, so every arm and seed of an
 * experiment trains and validates on the same images.
 */
import type { DatasetConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import { rngFor } from '../random.js';
import { permutation } from './batches.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';

/** Indices of each class, in dataset order. */
function byClass(split: ImageSplit, classes: number): number[][] {
  const out: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < split.count; i++) out[split.labels[i]!]!.push(i);
  return out;
}

/** The images at `indices` (kept in ascending dataset order), as a new split. */
export function pick(split: ImageSplit, indices: number[], pixels: number): ImageSplit {
  const sorted = Uint32Array.from(indices).sort();
  const images = new Uint8Array(sorted.length * pixels);
  const labels = new Uint8Array(sorted.length);
  sorted.forEach((src, i) => {
    images.set(split.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
    labels[i] = split.labels[src]!;
  });
  return { images, labels, count: sorted.length };
}

/** Per class, a seeded shuffle of its indices (one stream per class, so classes are independent). */
function shuffledByClass(split: ImageSplit, classes: number, seed: number, stream: string): number[][] {
  return byClass(split, classes).map((idx, c) =>
    Array.from(permutation(idx.length, rngFor(seed, `${stream}/${c}`)), (j) => idx[j]!),
  );
}

/** Applies `subset` and `val_split` to a loaded dataset; returns it unchanged when neither is set. */
export function selectSplits(data: Dataset, cfg: Pick<DatasetConfig, 'subset' | 'val_split' | 'split_seed'>): Dataset {
  if (cfg.subset === undefined && cfg.val_split === 0) return data;
  const classes = data.classNames.length;
  const pixels = data.height * data.width * data.channels;
  let train = data.train;
  if (cfg.subset !== undefined)
    train = pick(
      train,
      shuffledByClass(train, classes, cfg.split_seed, 'subset').flatMap((idx) => idx.slice(0, cfg.subset)),
      pixels,
    );
  let test = data.test;
  if (cfg.val_split > 0) {
    const perClass = shuffledByClass(train, classes, cfg.split_seed, 'val');
    const held = perClass.map((idx) => idx.slice(0, Math.round(idx.length * cfg.val_split)));
    const valCount = held.reduce((s, h) => s + h.length, 0);
    const fewest = Math.min(...perClass.map((idx) => idx.length));
    if (valCount === 0)
      throw new InputError(
        `dataset.val_split: ${cfg.val_split} of ${fewest} training images per class (the smallest class) holds out none; use a larger fraction`,
      );
    const emptied = perClass.findIndex((idx, c) => idx.length > 0 && held[c]!.length === idx.length);
    if (emptied >= 0)
      throw new InputError(
        `dataset.val_split: ${cfg.val_split} holds out every training image of class ${emptied} (${perClass[emptied]!.length} images); use a smaller fraction or a larger dataset.subset`,
      );
    // Allowed (the other classes still measure), but said: that class's validation accuracy is unmeasured.
    const unheld = perClass
      .map((idx, c) => (idx.length > 0 && held[c]!.length === 0 ? (data.classNames[c] ?? String(c)) : null))
      .filter((c): c is string => c !== null);
    if (unheld.length)
      process.stderr.write(
        `dataset.val_split: ${cfg.val_split} holds out no image of class${unheld.length > 1 ? 'es' : ''} ${unheld.slice(0, 5).join(', ')}${unheld.length > 5 ? ', …' : ''} (too few images); validation accuracy does not measure ${unheld.length > 1 ? 'them' : 'it'}\n`,
      );
    test = pick(train, held.flat(), pixels);
    train = pick(
      train,
      perClass.flatMap((idx, c) => idx.slice(held[c]!.length)),
      pixels,
    );
  }
  return { ...data, train, test, ...channelStats(train, data.channels) };
}
