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
import { isUserModel } from '../config/names.js';
import {
  buildModel,
  type Model,
  type ModelSources,
  modelSpec,
  sourceSha256,
  type UserModelSource,
} from '../models/index.js';
import { readUserModel } from '../models/user-model.js';
import { filterSecondMoments } from '../models/init.js';
import { spatialConvsOf } from '../models/index.js';
import { loadCheckpoint } from './checkpoint.js';
import { readRunConfig } from './config.js';
import { checkpointFolder, runPaths, writeAtomic } from './files.js';
import { runIdentity, sourceRunIdentity } from './identity.js';
import type { TrainState } from './records.js';

export interface LoadedRun {
  /** The run's resolved config (its `seed` is the run's seed). */
  config: Config;
  model: Model;
  /** The training state at the checkpoint (its epoch: the last one trained). */
  state: TrainState;
  /** A line for the user when the run's model script differs from the file model.arch names now, else null. */
  modelScriptNote: string | null;
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
    return { config, model, state: state!, modelScriptNote: userModelChange(dir, config) };
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
  return buildModel(config, datasetShape(config.dataset), config.seed, runModelSources(dir, config));
}

/** What the run in `dir` was built from besides its config, from its own directory only. */
export function runModelSources(dir: string, config: Config): ModelSources {
  return { spatialCovariance: storedSpatialInit(dir, config), userModel: storedUserModel(dir, config) };
}

interface ModelScriptRecord {
  arch: string;
  file: string;
  sha256: string;
}

/**
 * model.arch: ./your/model.js, resolved once before training: the script is copied into the run
 * directory with its SHA-256, so that resume, eval, analyze and export rebuild the network it
 * trained, whatever happens to the file later. On a resume the stored copy is used; `log` gets a
 * line when the file has changed since. Undefined for the built-in architectures.
 */
export function resolveUserModel(
  config: Config,
  dir: string,
  log?: (line: string) => void,
): UserModelSource | undefined {
  if (!isUserModel(config.model.arch)) return undefined;
  const paths = runPaths(dir);
  if (existsSync(paths.modelScriptRecord)) {
    const stored = readStoredScript(dir, config);
    const note = changeNote(dir, stored);
    if (note) log?.(note);
    return stored.source;
  }
  const source = readUserModel(config.model.arch);
  writeAtomic(paths.modelScript, source.text);
  const record: ModelScriptRecord = { arch: source.arch, file: source.file, sha256: sourceSha256(source.text) };
  writeAtomic(paths.modelScriptRecord, `${JSON.stringify(record, null, 2)}\n`);
  return source;
}

/**
 * For the checks before any run starts: the script a run of `config` would train, the copy in its
 * directory when it already has one (a resume), else undefined (model.arch's file is read).
 */
export function plannedModelSources(config: Config, seed: number): ModelSources {
  const { dir } = runIdentity(config, seed);
  return existsSync(runPaths(dir).modelScriptRecord) ? { userModel: storedUserModel(dir, config) } : {};
}

/** The script a run was built from (its stored copy, checked against its SHA-256); undefined for a built-in architecture. */
export function storedUserModel(dir: string, config: Config): UserModelSource | undefined {
  return isUserModel(config.model.arch) ? readStoredScript(dir, config).source : undefined;
}

/** The run's copy of its script and the record beside it (the original path, the SHA-256), or one line saying what is wrong. */
function readStoredScript(dir: string, config: Config): { source: UserModelSource; record: ModelScriptRecord } {
  const paths = runPaths(dir);
  const damaged = (why: string) =>
    new InputError(
      `${dir}: the run's copy of its model script is ${why}; the network cannot be rebuilt (retrain the run)`,
    );
  let record: ModelScriptRecord;
  let text: string;
  try {
    record = JSON.parse(readFileSync(paths.modelScriptRecord, 'utf8')) as ModelScriptRecord;
    text = readFileSync(paths.modelScript, 'utf8');
  } catch (err) {
    throw damaged((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable');
  }
  if (typeof record?.sha256 !== 'string' || sourceSha256(text) !== record.sha256)
    throw damaged(
      `not what was recorded (${paths.modelScript} does not match the SHA-256 in ${paths.modelScriptRecord})`,
    );
  return { source: { arch: config.model.arch, file: paths.modelScript, text }, record };
}

/**
 * A line saying that the script the run was copied from is gone or differs from the run's copy, or
 * null when it is the same; for eval, export and analyze, which rebuild from the copy.
 */
export function userModelChange(dir: string, config: Config): string | null {
  if (!isUserModel(config.model.arch) || !existsSync(runPaths(dir).modelScriptRecord)) return null;
  return changeNote(dir, readStoredScript(dir, config));
}

/** The original file is compared by its absolute path, recorded with the copy, so any working directory compares the same file. */
function changeNote(dir: string, { source, record }: ReturnType<typeof readStoredScript>): string | null {
  let now: string | null;
  try {
    now = readFileSync(record.file, 'utf8');
  } catch {
    now = null;
  }
  if (now !== null && sourceSha256(now) === record.sha256) return null;
  return `${dir}: its model script ${record.file} ${now === null ? 'is gone' : 'has changed'} since the run was built; using the run's copy (${source.file})`;
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
        runModelSources(from, source.config),
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
