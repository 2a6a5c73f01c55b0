/**
 * Dataset registry: one loader per name in the config schema's `dataset.name` enum.
 */
import type { DatasetConfig, DatasetName } from '../config/schema.js';
import { loadCifar10 } from './cifar.js';
import type { Dataset } from './dataset.js';
import { loadSynthetic } from './synthetic.js';

const LOADERS: Record<DatasetName, (cfg: DatasetConfig, seed: number) => Dataset> = {
  synthetic: (cfg, seed) => loadSynthetic(cfg.synthetic, seed),
  cifar10: (cfg) => loadCifar10(cfg.root),
};

/** Loads the configured dataset; the synthetic set is generated from `seed`. */
export function loadDataset(cfg: DatasetConfig, seed: number): Dataset {
  return LOADERS[cfg.name](cfg, seed);
}

export type { Dataset, ImageSplit } from './dataset.js';
