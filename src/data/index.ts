/**
 * Dataset registry: one loader per name in the config schema's `dataset.name` enum; `subset` and
 * `val_split` (split.ts) are applied after loading, the same way for every dataset.
 */
import type { DatasetConfig, DatasetName } from '../config/schema.js';
import { loadCifar10, loadCifar100 } from './cifar.js';
import type { Dataset } from './dataset.js';
import { loadIdx } from './idx.js';
import { loadFashionMnist, loadMnist10k } from './mnist-package.js';
import { selectSplits } from './split.js';
import { loadSynthetic } from './synthetic.js';

export const LOADERS: Record<DatasetName, (cfg: DatasetConfig, seed: number) => Dataset> = {
  synthetic: (cfg, seed) => loadSynthetic(cfg.synthetic, seed),
  cifar10: (cfg) => loadCifar10(cfg.root),
  cifar100: (cfg) => loadCifar100(cfg.root, cfg.label_mode),
  'fashion-mnist': () => loadFashionMnist(),
  'mnist-10k': () => loadMnist10k(),
  'mnist-idx': (cfg) => loadIdx(cfg.root, 'mnist'),
  'fashion-mnist-idx': (cfg) => loadIdx(cfg.root, 'fashion-mnist'),
};

/** Loads the configured dataset (the synthetic set is generated from `seed`), then applies subset / val_split. */
export function loadDataset(cfg: DatasetConfig, seed: number): Dataset {
  return selectSplits(LOADERS[cfg.name](cfg, seed), cfg);
}

export type { Dataset, ImageSplit } from './dataset.js';
