/**
 * A finished (or checkpointed) run's trained model, rebuilt from its directory alone: the network
 * from the run's stored config.yaml and seed (which also regenerates the frozen filters), the trained
 * weights and BatchNorm statistics from its checkpoint, whose frozen-weights digest must match. For
 * evaluating, exporting or analysing a run after training. Reads asynchronously only (webgpu cannot
 * read synchronously), so it works on every backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { layerWeights } from '../models/effective-filters.js';
import { datasetShape } from '../data/index.js';
import { InputError } from '../errors.js';
import { buildModel, modelSpec, type Model } from '../models/index.js';
import { filterSecondMoments } from '../models/init.js';
import { spatialConvsOf } from '../models/index.js';
import { loadCheckpoint } from './checkpoint.js';
import { readRunConfig } from './config.js';
import { checkpointFolder, runPaths, writeAtomic } from './files.js';
import { sourceRunIdentity } from './identity.js';
import type { TrainState } from './records.js';

export interface LoadedRun {
  /** The run's resolved config (its `seed` is the run's seed). */
  config: Config;
  model: Model;
  /** The training state at the checkpoint (its epoch: the last one trained). */
  state: TrainState;
}

/**
 * Builds the run's model in `dir` and loads its trained weights; the caller disposes `model`.
 * Throws InputError when the folder is not a run directory with a checkpoint.
 */
export async function loadRunModel(dir: string): Promise<LoadedRun> {
  if (!checkpointFolder(dir))
    throw new InputError(`${dir}: no checkpoint (not a run directory, or a run that never finished an epoch)`);
  const config = readRunConfig(dir);
  const model = initialRunModel(dir, config);
  try {
    const state = await loadCheckpoint(dir, model, null);
    return { config, model, state: state! };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * The network of the run in `dir` as initialised (nothing loaded), from its own directory only: its
 * config and, for model.spatial_init: from_run, the covariance stored there before training.
 */
export function initialRunModel(dir: string, config: Config = readRunConfig(dir)): Model {
  return buildModel(config, datasetShape(config.dataset), config.seed, storedSpatialInit(dir, config));
}

/**
 * model.spatial_init: from_run, resolved once before training: the covariance of the source run's
 * filters, stored in the new run's directory (spatial-init.json) so the run stands alone — it reloads,
 * evaluates and exports after the source is gone, and a resumed run keeps the covariance it started
 * with. Undefined for every other init.
 */
export async function resolveSpatialInit(config: Config, dir: string): Promise<number[][] | undefined> {
  if (config.model.spatial_init !== 'from_run') return undefined;
  if (existsSync(runPaths(dir).spatialInit)) return storedSpatialInit(dir, config);
  const covariance = await sourceFilterCovariance(config);
  writeAtomic(runPaths(dir).spatialInit, `${JSON.stringify({ from: config.model.spatial_init_from, covariance })}\n`);
  return covariance;
}

/** The covariance stored by resolveSpatialInit; undefined unless the run's init is from_run. */
export function storedSpatialInit(dir: string, config: Config): number[][] | undefined {
  if (config.model.spatial_init !== 'from_run') return undefined;
  const file = runPaths(dir).spatialInit;
  const k2 = config.model.kernel_size ** 2;
  let covariance: unknown;
  try {
    covariance = (JSON.parse(readFileSync(file, 'utf8')) as { covariance?: unknown }).covariance;
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not valid JSON';
    throw new InputError(`${file}: ${cause} (the from_run covariance this run was initialised with); retrain the run`);
  }
  const ok =
    Array.isArray(covariance) &&
    covariance.length === k2 &&
    covariance.every((row) => Array.isArray(row) && row.length === k2 && row.every(Number.isFinite));
  if (!ok) throw new InputError(`${file}: covariance is not a ${k2}×${k2} matrix of numbers; retrain the run`);
  return covariance as number[][];
}

/**
 * The second moments (1/N)·Σ w wᵀ of every k×k effective filter of the finished run
 * spatial_init_from (all spatial layers pooled, each filter one sample).
 */
/**
 * Refuses (one line) a `from_run` spatial init whose source run cannot give the covariance: not a
 * finished run, or another k. Cheap (reads the source's summary and config), so it runs before
 * anything is written.
 */
export function checkSpatialInitSource(config: Config): void {
  if (config.model.spatial_init !== 'from_run') return;
  const from = config.model.spatial_init_from!;
  sourceRunIdentity(from); // a finished run, or one clear line
  const k = readRunConfig(from).model.kernel_size;
  if (k !== config.model.kernel_size)
    throw new InputError(
      `model.spatial_init_from: ${from} has k = ${k}, this run k = ${config.model.kernel_size}; use a run with the same kernel size`,
    );
}

async function sourceFilterCovariance(config: Config): Promise<number[][]> {
  const from = config.model.spatial_init_from!;
  sourceRunIdentity(from); // a finished run, or one clear line
  const source = await loadRunModel(from);
  try {
    const k = source.config.model.kernel_size;
    if (k !== config.model.kernel_size)
      throw new InputError(
        `model.spatial_init_from: ${from} has k = ${k}, this run k = ${config.model.kernel_size}; use a run with the same kernel size`,
      );
    const convs = spatialConvsOf(
      modelSpec(
        source.config,
        datasetShape(source.config.dataset),
        source.config.seed,
        storedSpatialInit(from, source.config),
      ),
    );
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
