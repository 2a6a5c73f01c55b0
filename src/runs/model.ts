/**
 * A finished (or checkpointed) run's trained model, rebuilt from its directory alone: the network
 * from the run's stored config.yaml and seed (which also regenerates the frozen filters), the trained
 * weights and BatchNorm statistics from its checkpoint, whose frozen-weights digest must match. For
 * evaluating, exporting or analysing a run after training. Reads asynchronously only (webgpu cannot
 * read synchronously), so it works on every backend.
 */
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { layerWeights } from '../analysis/layers.js';
import type { DatasetShape } from '../data/dataset.js';
import { datasetShape } from '../data/index.js';
import { InputError } from '../errors.js';
import { buildModel, resNetSpec, type Model } from '../models/index.js';
import { filterSecondMoments } from '../models/init.js';
import { planSpatialConvs } from '../models/resnet.js';
import { loadCheckpoint } from './checkpoint.js';
import { CONFIG_FILE, checkpointFolder } from './files.js';
import { sourceRunIdentity } from './identity.js';
import type { TrainState } from './records.js';

export interface LoadedRun {
  /** The run's resolved config (its `seed` is the run's seed). */
  config: Config;
  model: Model;
  /** The training state at the checkpoint (its epoch: the last one trained). */
  state: TrainState;
}

/** The run's stored config (config.yaml, validated against the schema). */
export function readRunConfig(dir: string): Config {
  return loadConfigFile(join(dir, CONFIG_FILE)).config;
}

/**
 * Builds the run's model in `dir` and loads its trained weights; the caller disposes `model`.
 * Throws InputError when the folder is not a run directory with a checkpoint.
 */
export async function loadRunModel(dir: string): Promise<LoadedRun> {
  if (!checkpointFolder(dir))
    throw new InputError(`${dir}: no checkpoint (not a run directory, or a run that never finished an epoch)`);
  const config = readRunConfig(dir);
  const model = await buildRunModel(config, config.seed);
  try {
    const state = await loadCheckpoint(dir, model, null);
    return { config, model, state: state! };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * A run's network as initialised (nothing loaded): the model builder plus, for
 * model.spatial_init: from_run, the covariance estimated from the source run's filters.
 */
export async function buildRunModel(
  config: Config,
  seed: number,
  shape: DatasetShape = datasetShape(config.dataset),
): Promise<Model> {
  return buildModel(config, shape, seed, await sourceFilterCovariance(config));
}

/**
 * model.spatial_init: from_run: the second moments (1/N)·Σ w wᵀ of every k×k effective filter of
 * the finished run spatial_init_from (all spatial layers pooled, each filter one sample).
 */
async function sourceFilterCovariance(config: Config): Promise<number[][] | undefined> {
  const from = config.model.spatial_init_from;
  if (config.model.spatial_init !== 'from_run' || from === undefined) return undefined;
  sourceRunIdentity(from); // a finished run, or one clear line
  const source = await loadRunModel(from);
  try {
    const k = source.config.model.kernel_size;
    if (k !== config.model.kernel_size)
      throw new InputError(
        `model.spatial_init_from: ${from} has k = ${k}, this run k = ${config.model.kernel_size}; use a run with the same kernel size`,
      );
    const convs = planSpatialConvs(resNetSpec(source.config, datasetShape(source.config.dataset), source.config.seed));
    const layers = await layerWeights(source.model, convs);
    const sum = Array.from({ length: k * k }, () => new Array<number>(k * k).fill(0));
    let filters = 0;
    for (const layer of layers) {
      const n = layer.effective.length / (k * k);
      const moments = filterSecondMoments(layer.effective, k * k);
      moments.forEach((row, p) => {
        row.forEach((v, q) => {
          sum[p]![q]! += v * n;
        });
      });
      filters += n;
    }
    return sum.map((row) => row.map((v) => v / filters));
  } finally {
    source.model.dispose();
  }
}
