/**
 * Dataset registry: one loader per name in the config schema's `dataset.name` enum.
 */
import type { DatasetConfig, DatasetName } from '../config/schema.js';
import { CIFAR10_SHAPE, loadCifar10 } from './cifar.js';
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

export interface DatasetShape {
  height: number;
  width: number;
  channels: number;
  classes: number;
}

const SHAPES: Record<DatasetName, (cfg: DatasetConfig) => DatasetShape> = {
  synthetic: ({ synthetic: s }) => ({ height: s.image_size, width: s.image_size, channels: s.channels, classes: s.classes }),
  cifar10: () => CIFAR10_SHAPE,
};

/** Image shape and class count of the configured dataset without loading it (`lcconv bench` needs only these). */
export function datasetShape(cfg: DatasetConfig): DatasetShape {
  return SHAPES[cfg.name](cfg);
}

export type { Dataset, ImageSplit } from './dataset.js';
