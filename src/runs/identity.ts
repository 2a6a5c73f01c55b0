/**
 * A run directory's identity: `<results_dir>/<name>/<run id>/`, the id readable from its parameters
 * plus a hash of the resolved config, so an identical run is recognised (and reused) and a changed
 * one is not.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { within } from '../fs-safety.js';
import type { RunIdentity } from './records.js';

/**
 * Keys that change where, how fast or how a run is reported, not what it computes. `sweep` and
 * `slurm` are here so a sweep's trial and the same config run alone share one run directory.
 */
const PRESENTATION_KEYS = ['name', 'seeds', 'seed', 'compare_to_standard', 'backend', 'threads', 'results_dir', 'sweep', 'slurm'] as const;

/** The config of one run: a single seed, presentation keys dropped. */
export function runConfig(config: Config, seed: number): Omit<Config, (typeof PRESENTATION_KEYS)[number]> & { seed: number } {
  const copy: Record<string, unknown> = structuredClone(config);
  for (const k of PRESENTATION_KEYS) delete copy[k];
  return { ...(copy as Omit<Config, (typeof PRESENTATION_KEYS)[number]>), seed };
}

/** Stable JSON (sorted keys) so the hash does not depend on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const shortHash = (value: unknown) => createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 8);

export function runIdentity(config: Config, seed: number): RunIdentity {
  const m = config.model;
  const hash = shortHash(runConfig(config, seed));
  const { freeze: _freeze, seed: _seed, ...rest } = runConfig(config, seed);
  const runId = `${config.freeze}-k${m.kernel_size}-E${m.lc_expansion}${m.lc_depthwise ? '-dw' : ''}-seed${seed}-${hash}`;
  return {
    run_id: runId,
    dir: within(experimentDir(config), runId),
    seed,
    freeze: config.freeze,
    kernel_size: m.kernel_size,
    lc_expansion: m.lc_expansion,
    lc_depthwise: m.lc_depthwise,
    group: shortHash(rest),
  };
}

/** `<results_dir>/<name>`; every file of an experiment is written below it. */
export function experimentDir(config: Config): string {
  return within(config.results_dir, config.name);
}
