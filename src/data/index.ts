/**
 * Dataset registry: one entry per name in the config schema's `dataset.name` enum, with its loader
 * and its image shape (known without loading, for `lcconv bench`). `subset` and `val_split`
 * (split.ts) are applied after loading, the same way for every dataset.
 */
import type { DatasetConfig, DatasetName } from '../config/schema.js';
import { CIFAR10_SHAPE, loadCifar10, loadCifar100 } from './cifar.js';
import type { Dataset, DatasetShape } from './dataset.js';
import { loadIdx } from './idx.js';
import { imageFolderShape, loadImageFolder } from './image-folder.js';
import { loadFashionMnist, loadMnist10k } from './mnist-package.js';
import { selectSplits } from './split.js';
import { loadSynthetic } from './synthetic.js';

interface DatasetEntry {
  load: (cfg: DatasetConfig, seed: number) => Dataset;
  shape: (cfg: DatasetConfig) => DatasetShape;
}

const GREY_28 = { height: 28, width: 28, channels: 1, classes: 10 };

export const LOADERS: Record<DatasetName, DatasetEntry> = {
  synthetic: {
    load: (cfg, seed) => loadSynthetic(cfg.synthetic, seed),
    shape: ({ synthetic: s }) => ({
      height: s.image_size,
      width: s.image_size,
      channels: s.channels,
      classes: s.classes,
    }),
  },
  cifar10: { load: (cfg) => loadCifar10(cfg.root), shape: () => CIFAR10_SHAPE },
  cifar100: {
    load: (cfg) => loadCifar100(cfg.root, cfg.label_mode),
    shape: (cfg) => ({ ...CIFAR10_SHAPE, classes: cfg.label_mode === 'coarse' ? 20 : 100 }),
  },
  'fashion-mnist': { load: () => loadFashionMnist(), shape: () => GREY_28 },
  'mnist-10k': { load: () => loadMnist10k(), shape: () => GREY_28 },
  'mnist-idx': { load: (cfg) => loadIdx(cfg.root, 'mnist'), shape: () => GREY_28 },
  'fashion-mnist-idx': { load: (cfg) => loadIdx(cfg.root, 'fashion-mnist'), shape: () => GREY_28 },
  image_folder: { load: (cfg) => loadImageFolder(cfg), shape: (cfg) => imageFolderShape(cfg) },
};

/** Loads the configured dataset (the synthetic set is generated from `seed`), then applies subset / val_split. */
export function loadDataset(cfg: DatasetConfig, seed: number): Dataset {
  return selectSplits(LOADERS[cfg.name].load(cfg, seed), cfg);
}

/** Image shape and class count of the configured dataset without loading it (`lcconv bench` needs only these). */
export function datasetShape(cfg: DatasetConfig): DatasetShape {
  return LOADERS[cfg.name].shape(cfg);
}

export type { Dataset, DatasetShape, ImageSplit } from './dataset.js';
export { shapeOf } from './dataset.js';
