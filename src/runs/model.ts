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
import { datasetShape } from '../data/index.js';
import { InputError } from '../errors.js';
import { buildModel, type Model } from '../models/index.js';
import { loadCheckpoint } from './checkpoint.js';
import { CONFIG_FILE, checkpointFolder } from './files.js';
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
  if (!checkpointFolder(dir)) throw new InputError(`${dir}: no checkpoint (not a run directory, or a run that never finished an epoch)`);
  const config = readRunConfig(dir);
  const model = buildModel(config, datasetShape(config.dataset), config.seed);
  try {
    const state = await loadCheckpoint(dir, model, null);
    return { config, model, state: state! };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
