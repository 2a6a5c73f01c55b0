/**
 * Every file of a run directory, by name, and how it is read and written (all but the checkpoint's
 * tensors, which src/runs/checkpoint.ts encodes with tfjs; this module stays free of tfjs so that
 * listing a sweep or reading a report does not load it):
 *
 *   config.yaml    the resolved config with provenance, written when the run starts
 *   metrics.csv    one row per epoch (EPOCH_COLUMNS), appended
 *   checkpoint/    the newest end-of-epoch checkpoint (checkpoint.json + weights.bin)
 *   summary.json   written last; its presence (status: finished) marks the run as finished
 *   error.json     why the run failed (written by the run, or by the parent that saw it die)
 *   running.json   present while a process runs it: {pid, host, since, slurm_job}
 *   trial.log      a sweep worker's output for this run
 *
 * Files that must never be half-written are written to a temp file and renamed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { makeDir } from '../fs-safety.js';
import type { EpochRow, RunSummary, TrainState } from './records.js';

export const CONFIG_FILE = 'config.yaml';
export const METRICS_FILE = 'metrics.csv';
export const SUMMARY_FILE = 'summary.json';
export const ERROR_FILE = 'error.json';
export const RUNNING_FILE = 'running.json';
export const TRIAL_LOG = 'trial.log';
export const CHECKPOINT_DIR = 'checkpoint';
export const CHECKPOINT_MANIFEST = 'checkpoint.json';
export const CHECKPOINT_WEIGHTS = 'weights.bin';

/** Writes `text` to `file` atomically: a reader sees the old file or the new one, never a part. */
export function writeAtomic(file: string, text: string): void {
  makeDir(dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const readJson = <T>(file: string): T | null => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null);

// ---- summary.json

/** summary.json keys written in camelCase before one spelling (snake_case, as in YAML and CSV) was used throughout. */
const OLD_SUMMARY_KEYS: Record<string, keyof RunSummary> = { runId: 'run_id', kernelSize: 'kernel_size', lcExpansion: 'lc_expansion', lcDepthwise: 'lc_depthwise' };

/** The summary of a finished run, or null if the run has not finished. Reads older summaries too. */
export function readFinishedSummary(dir: string): RunSummary | null {
  const raw = readJson<Record<string, unknown>>(join(dir, SUMMARY_FILE));
  if (raw?.status !== 'finished') return null;
  for (const [old, key] of Object.entries(OLD_SUMMARY_KEYS)) {
    if (old in raw && !(key in raw)) raw[key] = raw[old];
    delete raw[old];
  }
  return raw as unknown as RunSummary;
}

export function writeSummary(summary: RunSummary): void {
  writeAtomic(join(summary.dir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
}

// ---- metrics.csv (the one parser)

interface MetricsLines {
  header: string;
  rows: { epoch: number; line: string; cells: string[] }[];
}

function readMetricsLines(file: string): MetricsLines | null {
  if (!existsSync(file)) return null;
  const [header = '', ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const epochAt = header.split(',').indexOf('epoch');
  return { header, rows: lines.map((line) => { const cells = line.split(','); return { epoch: Number(cells[epochAt]), line, cells }; }) };
}

/** The rows of a run's metrics.csv (empty cells, e.g. val_acc on epochs without evaluation, are null). */
export function readMetrics(dir: string): EpochRow[] {
  const metrics = readMetricsLines(join(dir, METRICS_FILE));
  if (!metrics) return [];
  const columns = metrics.header.split(',');
  return metrics.rows.map(({ cells }) => Object.fromEntries(columns.map((c, i) => [c, cells[i] === undefined || cells[i] === '' ? null : Number(cells[i])])) as unknown as EpochRow);
}

/** Keeps the header and the rows of epochs <= `lastEpoch` (rows written after the checkpoint a resume starts from). */
export function truncateMetrics(dir: string, lastEpoch: number): void {
  const file = join(dir, METRICS_FILE);
  const metrics = readMetricsLines(file);
  if (!metrics) return;
  const kept = metrics.rows.filter((r) => r.epoch <= lastEpoch);
  if (kept.length !== metrics.rows.length) writeAtomic(file, [metrics.header, ...kept.map((r) => r.line)].map((l) => `${l}\n`).join(''));
}

// ---- error.json and running.json

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
  return readJson<TrialError>(join(dir, ERROR_FILE));
}

export function clearTrialError(dir: string): void {
  rmSync(join(dir, ERROR_FILE), { force: true });
}

/** Marks a run as running in this process (for --status); clearRunning removes the mark. */
export function writeRunning(dir: string): void {
  writeAtomic(join(dir, RUNNING_FILE), `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), slurm_job: process.env.SLURM_JOB_ID ?? null })}\n`);
}

export function clearRunning(dir: string): void {
  rmSync(join(dir, RUNNING_FILE), { force: true });
}

/** A running.json whose process is still alive (only checkable on the same host). */
export function runningHere(dir: string): boolean {
  const marker = readJson<{ pid: number; host: string; slurm_job: string | null }>(join(dir, RUNNING_FILE));
  if (!marker) return false;
  if (marker.host !== hostname()) {
    // Another node: a Slurm task's marker outlives a killed task (SIGKILL, node failure), so squeue
    // decides for those; a local worker's marker on another host cannot be checked and is trusted.
    return marker.slurm_job === null;
  }
  try {
    process.kill(marker.pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---- checkpoint/ (the folder; its tensors are src/runs/checkpoint.ts's)

/** The checkpoint manifest, checkpoint.json; `weightSpecs` are tfjs's, opaque here. */
export interface CheckpointManifest {
  format: string;
  state: TrainState;
  frozenDigest: string;
  weightSpecs: unknown[];
}

/** The folder holding the newest complete checkpoint of a run, or null. */
export function checkpointFolder(dir: string): string | null {
  // checkpoint.old is what a kill between saveCheckpoint's two renames leaves.
  for (const name of [CHECKPOINT_DIR, `${CHECKPOINT_DIR}.old`]) {
    if (existsSync(join(dir, name, CHECKPOINT_MANIFEST)) && existsSync(join(dir, name, CHECKPOINT_WEIGHTS))) return join(dir, name);
  }
  return null;
}

export function readCheckpointManifest(folder: string): CheckpointManifest {
  return JSON.parse(readFileSync(join(folder, CHECKPOINT_MANIFEST), 'utf8')) as CheckpointManifest;
}

/** The last finished epoch of a run's checkpoint, without loading weights (for status listings). */
export function checkpointEpoch(dir: string): number | null {
  const folder = checkpointFolder(dir);
  return folder ? readCheckpointManifest(folder).state.epoch : null;
}

/** Removes a run's checkpoint (a fresh start must not later resume from an older attempt). */
export function removeCheckpoint(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === CHECKPOINT_DIR || name.startsWith(`${CHECKPOINT_DIR}.`)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Whether a run has left anything behind (config, metrics or a checkpoint): started, maybe stopped. */
export function hasStarted(dir: string): boolean {
  return existsSync(join(dir, CONFIG_FILE)) || existsSync(join(dir, METRICS_FILE)) || checkpointFolder(dir) !== null;
}
