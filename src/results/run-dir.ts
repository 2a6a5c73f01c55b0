/**
 * Run directories: `<results_dir>/<name>/<run id>/`, the id readable from its parameters plus a hash
 * of the resolved config, so an identical run is recognised (and reused) and a changed one is not.
 * Files that must never be half-written (summary, config) are written to a temp file and renamed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { makeDir, within } from '../fs-safety.js';
import type { RunIdentity, RunSummary } from './records.js';

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
    runId,
    dir: within(experimentDir(config), runId),
    seed,
    freeze: config.freeze,
    kernelSize: m.kernel_size,
    lcExpansion: m.lc_expansion,
    lcDepthwise: m.lc_depthwise,
    group: shortHash(rest),
  };
}

/** `<results_dir>/<name>`; every file of an experiment is written below it. */
export function experimentDir(config: Config): string {
  return within(config.results_dir, config.name);
}

export const SUMMARY_FILE = 'summary.json';
export const METRICS_FILE = 'metrics.csv';
export const CONFIG_FILE = 'config.yaml';
/** A trial that failed leaves its error here (lcconv run --trial, or the sweep's worker). */
export const ERROR_FILE = 'error.json';
/** Present while a trial runs: {pid, host, since, slurm_job}. */
export const RUNNING_FILE = 'running.json';

/** The summary of a finished run, or null if the run has not finished. */
export function readFinishedSummary(dir: string): RunSummary | null {
  const file = join(dir, SUMMARY_FILE);
  if (!existsSync(file)) return null;
  const summary = JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  return summary.status === 'finished' ? summary : null;
}

/** Writes `text` to `file` atomically: a reader sees the old file or the new one, never a part. */
export function writeAtomic(file: string, text: string): void {
  makeDir(dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A run's failure, recorded in its directory so a sweep's status and report can tell (error.json). */
export interface TrialError {
  message: string;
  exit?: string; // exit code or signal, when a parent saw the process end
  log?: string; // where its output went
  at: string;
}

export function writeTrialError(dir: string, error: Omit<TrialError, 'at'>): void {
  writeAtomic(join(dir, ERROR_FILE), `${JSON.stringify({ ...error, at: new Date().toISOString() }, null, 2)}\n`);
}

export function readTrialError(dir: string): TrialError | null {
  const file = join(dir, ERROR_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TrialError) : null;
}

/** Marks a trial as running in this process (for --status); removed when the process ends it. */
export function writeRunning(dir: string): void {
  writeAtomic(join(dir, RUNNING_FILE), `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), slurm_job: process.env.SLURM_JOB_ID ?? null })}\n`);
}
