/**
 * A run directory's identity: `<results_dir>/<name>/<run id>/`, the id readable from its parameters
 * plus a hash of the resolved config, so an identical run is recognised (and reused) and a changed
 * one is not.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { standardOf } from '../config/grid.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { CHECKPOINT_WEIGHTS, checkpointFolder, readFinishedSummary } from './files.js';
import { within } from '../fs-safety.js';
import type { RunIdentity } from './records.js';

/**
 * Keys that change where, how fast or how a run is reported, not what it computes. `sweep` and
 * `slurm` are here so a sweep's trial and the same config run alone share one run directory;
 * `eval` only adds an evaluation after training.
 */
export const PRESENTATION_KEYS = [
  'name',
  'seeds',
  'seed',
  'compare_to_standard',
  'backend',
  'threads',
  'results_dir',
  'sweep',
  'slurm',
  'eval',
] as const;

/**
 * Model keys that choose how the same function is computed, like `backend` and `threads` above:
 * `lc_compute` picks the LC block's form, whose weights, function and gradients are the same (its
 * float32 rounding differs, as a backend's does), so runs under either form share one directory.
 */
export const COMPUTE_MODEL_KEYS = ['lc_compute'] as const;

/**
 * The config of one run: a single seed, presentation and compute keys dropped. `model.spatial_init_from` is
 * replaced by that run's identity (run id and weights digest), so the hash follows the filters the
 * covariance is estimated from, not the path they were found at.
 */
export function runConfig(
  config: Config,
  seed: number,
): Omit<Config, (typeof PRESENTATION_KEYS)[number]> & { seed: number } {
  const copy: Record<string, unknown> = structuredClone(config);
  for (const k of PRESENTATION_KEYS) delete copy[k];
  for (const k of COMPUTE_MODEL_KEYS) delete (copy.model as Record<string, unknown>)[k];
  const from = config.model.spatial_init_from;
  if (from !== undefined) (copy.model as Record<string, unknown>).spatial_init_from = sourceRunIdentity(from);
  return { ...(copy as Omit<Config, (typeof PRESENTATION_KEYS)[number]>), seed };
}

/** `<run id>@<sha256 of its checkpoint weights>` of the finished run model.spatial_init_from names. */
export function sourceRunIdentity(dir: string): string {
  const summary = readFinishedSummary(dir);
  const folder = checkpointFolder(dir);
  if (!summary || !folder)
    throw new InputError(
      `model.spatial_init_from: ${dir} is not a finished run (no summary.json or checkpoint); train it first`,
    );
  return `${summary.run_id}@${createHash('sha256')
    .update(readFileSync(join(folder, CHECKPOINT_WEIGHTS)))
    .digest('hex')
    .slice(0, 16)}`;
}

/** Stable JSON (sorted keys) so the hash does not depend on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const shortHash = (value: unknown) => createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 8);

export function runIdentity(config: Config, seed: number): RunIdentity {
  const m = config.model;
  const hash = shortHash(runConfig(config, seed));
  const init = m.spatial_init === 'default' ? '' : `-${m.spatial_init.replace('_', '')}`;
  const runId = `${config.freeze}-k${m.kernel_size}-E${m.lc_expansion}${m.lc_depthwise ? '-dw' : ''}${init}-seed${seed}-${hash}`;
  return {
    run_id: runId,
    dir: within(experimentDir(config), runId),
    seed,
    freeze: config.freeze,
    kernel_size: m.kernel_size,
    lc_expansion: m.lc_expansion,
    lc_depthwise: m.lc_depthwise,
    group: groupOf(config),
    standard_group: groupOf(standardOf(config)),
    spatial_init: m.spatial_init,
  };
}

/** Hash of a config without freeze mode and seed (see RunIdentity.group). */
function groupOf(config: Config): string {
  const { freeze: _freeze, seed: _seed, ...rest } = runConfig(config, 0);
  return shortHash(rest);
}

/** `<results_dir>/<name>`; every file of an experiment is written below it. */
export function experimentDir(config: Config): string {
  return within(config.results_dir, config.name);
}
