/**
 * Every file of a run directory, by name, and how it is read and written (all but the checkpoint's
 * tensors, which src/runs/checkpoint.ts encodes with tfjs; this module stays free of tfjs so that
 * listing a sweep or reading a report does not load it):
 *
 *   config.yaml    the resolved config with provenance, written when the run starts
 *   metrics.csv    one row per epoch (EPOCH_COLUMNS), appended
 *   checkpoint/    the newest end-of-epoch checkpoint (checkpoint.json + weights.bin, with checksums)
 *   checkpoint.prev/  the one before, kept until the newest is completely written
 *   summary.json   written last; its presence (status: finished) marks the run as finished
 *   error.json     why the run failed (written by the run, or by the parent that saw it die)
 *   running.json   the run's lock, held while a process runs it: {pid, host, started, since, slurm_job}
 *   trial.log      a sweep worker's output for this run
 *   eval.csv       robustness evaluation (lcconv eval, eval.after_training; src/eval/run-eval.ts)
 *   export/        lcconv export's PyTorch weights (src/export/pytorch.ts)
 *   events.out.tfevents.<unix seconds>.<host>  TensorBoard event files, one per start of the run (src/runs/tensorboard.ts)
 *
 * Files that must never be half-written are written to a temp file and renamed. A file that is
 * there but unreadable (malformed JSON, a CSV without its header…) raises DamagedFile, which
 * state.ts turns into a `damaged` run, so one bad run never breaks a listing of the others.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeDir, removeStaleTemps, within, writeAtomic } from '../fs-safety.js';
import { firstLine } from '../errors.js';
import { acquireLock, lockOwner, type RunLock } from './lock.js';
import type { EpochRow, RunSummary, TrainState } from './records.js';

export const CONFIG_FILE = 'config.yaml';
export const METRICS_FILE = 'metrics.csv';
export const SUMMARY_FILE = 'summary.json';
export const ERROR_FILE = 'error.json';
export const RUNNING_FILE = 'running.json';
export const TRIAL_LOG = 'trial.log';
export const EVAL_FILE = 'eval.csv';
/** model.spatial_init: from_run: the source run's filter covariance, resolved before training. */
export const SPATIAL_INIT_FILE = 'spatial-init.json';
/** model.arch: ./your/model.js: the script as the run was built from it, and its path and SHA-256. */
export const MODEL_SCRIPT_FILE = 'model-script.js';
export const MODEL_SCRIPT_RECORD = 'model-script.json';
export const EXPORT_DIR = 'export';
export const CHECKPOINT_DIR = 'checkpoint';
export const CHECKPOINT_MANIFEST = 'checkpoint.json';
export const CHECKPOINT_WEIGHTS = 'weights.bin';
/** TensorBoard event files start with this; the rest is `<unix seconds>.<host>` (src/runs/tensorboard.ts). */
export const EVENTS_FILE_PREFIX = 'events.out.tfevents.';

// The experiment folder's own entries (results/<name>/, beside its run directories): named here
// only, so this module owns every path on disk (test/runs/paths.test.ts fails on a literal elsewhere).
export const COMPARISON_FILE = 'comparison.csv';
export const ROBUSTNESS_FILE = 'robustness.csv';
export const REPORT_CSV = 'report.csv';
export const REPORT_MD = 'report.md';
/** `lcconv analyze`'s output folder, inside the experiment folder (never inside a run directory). */
export const ANALYSIS_DIR = 'analysis';
/** A sweep's own folder: resolved config copies, and `slurm/` with the sbatch scripts, logs and jobs.json. */
export const SWEEP_DIR = 'sweep';
export const SLURM_DIR = 'slurm';
export const SLURM_JOBS_FILE = 'jobs.json';

/** `lcconv analyze`'s files in its output folder (per run: layers … counts; across runs: runs, layers). */
export const ANALYSIS_FILES = {
  runs: 'runs.csv',
  layers: 'layers.csv',
  spectrum: 'spectrum.csv',
  energy: 'energy.csv',
  lcWeights: 'lc_weights.csv',
  counts: 'counts.csv',
} as const;

/**
 * The paths of the files of run directory `dir`: the one place a run's file path is joined (a test
 * fails on a join of these names elsewhere).
 */
export function runPaths(dir: string) {
  return {
    config: join(dir, CONFIG_FILE),
    metrics: join(dir, METRICS_FILE),
    summary: join(dir, SUMMARY_FILE),
    error: join(dir, ERROR_FILE),
    running: join(dir, RUNNING_FILE),
    trialLog: join(dir, TRIAL_LOG),
    eval: join(dir, EVAL_FILE),
    spatialInit: join(dir, SPATIAL_INIT_FILE),
    modelScript: join(dir, MODEL_SCRIPT_FILE),
    modelScriptRecord: join(dir, MODEL_SCRIPT_RECORD),
  };
}

/** The experiment folder's own files, beside its run directories. */
export function experimentPaths(dir: string) {
  return {
    comparison: join(dir, COMPARISON_FILE),
    robustness: join(dir, ROBUSTNESS_FILE),
    reportCsv: join(dir, REPORT_CSV),
    reportMd: join(dir, REPORT_MD),
  };
}

/** Folders lcconv makes inside a user's folders: each refused when it is a link (fs-safety's within). */
export const exportFolder = (runDir: string) => within(runDir, EXPORT_DIR);
export const analysisFolder = (experimentDir: string) => within(experimentDir, ANALYSIS_DIR);
export const sweepFolder = (experimentDir: string) => within(experimentDir, SWEEP_DIR);
export const slurmFolder = (sweepDir: string) => within(sweepDir, SLURM_DIR);
export const slurmJobsFile = (slurmDir: string) => join(slurmDir, SLURM_JOBS_FILE);
/** An `analyze` output folder's file (ANALYSIS_FILES). */
export const analysisFile = (out: string, name: keyof typeof ANALYSIS_FILES) => join(out, ANALYSIS_FILES[name]);

/** The one atomic, full-or-nothing writer (src/fs-safety.ts), re-exported for the run directory's writers. */
export { writeAtomic };

/** A run-directory file that exists but cannot be read as what it should hold. */
export class DamagedFile extends Error {
  override name = 'DamagedFile';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** The JSON object in `file`, null when absent; DamagedFile when it is not a JSON object. */
function readJson<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new DamagedFile(file, 'damaged (not valid JSON)');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new DamagedFile(file, 'damaged (not a JSON object)');
  return value as T;
}

// ---- config.yaml

/** The resolved config a run recorded at its start (comments dropped), or null for a run without one. */
export function readRecordedConfig(dir: string): Record<string, unknown> | null {
  const file = join(dir, CONFIG_FILE);
  if (!existsSync(file)) return null;
  let config: unknown;
  try {
    config = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DamagedFile(file, `not valid YAML (${firstLine(err)})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new DamagedFile(file, `${config === null ? 'the document is null, ' : ''}not a mapping of config keys`);
  return config as Record<string, unknown>;
}

// ---- summary.json

/** summary.json keys written in camelCase before one spelling (snake_case, as in YAML and CSV) was used throughout. */
const OLD_SUMMARY_KEYS: Record<string, keyof RunSummary> = {
  runId: 'run_id',
  kernelSize: 'kernel_size',
  lcExpansion: 'lc_expansion',
  lcDepthwise: 'lc_depthwise',
  standardGroup: 'standard_group',
};

/** The summary of a finished run, or null if the run has not finished. Reads older summaries too. */
export function readFinishedSummary(dir: string): RunSummary | null {
  const raw = readJson<Record<string, unknown>>(join(dir, SUMMARY_FILE));
  if (raw?.status !== 'finished') return null;
  for (const [old, key] of Object.entries(OLD_SUMMARY_KEYS)) {
    if (old in raw && !(key in raw)) raw[key] = raw[old];
    delete raw[old];
  }
  // What comparisons and reports compute with must be there, or the run is damaged, not a result.
  const missing = ['run_id', 'freeze']
    .filter((k) => typeof raw[k] !== 'string')
    .concat(
      ['seed', 'kernel_size', 'lc_expansion', 'final_val_acc', 'best_val_acc'].filter(
        (k) => typeof raw[k] !== 'number' || !Number.isFinite(raw[k]),
      ),
    );
  if (missing.length) throw new DamagedFile(join(dir, SUMMARY_FILE), `damaged (no valid ${missing.join(', ')})`);
  return raw as unknown as RunSummary;
}

export function removeSummary(dir: string): void {
  rmSync(join(dir, SUMMARY_FILE), { force: true });
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
  const [header = '', ...lines] = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const epochAt = header.split(',').indexOf('epoch');
  if (epochAt < 0) throw new DamagedFile(file, 'damaged (no header with an epoch column)');
  const rows = lines.map((line) => {
    const cells = line.split(',');
    return { epoch: Number(cells[epochAt]), line, cells };
  });
  const bad = rows.findIndex((r) => !Number.isInteger(r.epoch) || r.epoch < 1);
  if (bad >= 0) throw new DamagedFile(file, `damaged (line ${bad + 2} has no epoch number)`);
  return { header, rows };
}

/** The rows of a run's metrics.csv (empty cells, e.g. val_acc on epochs without evaluation, are null). */
export function readMetrics(dir: string): EpochRow[] {
  const metrics = readMetricsLines(join(dir, METRICS_FILE));
  if (!metrics) return [];
  const columns = metrics.header.split(',');
  return metrics.rows.map(
    ({ cells }) =>
      Object.fromEntries(
        columns.map((c, i) => [c, cells[i] === undefined || cells[i] === '' ? null : Number(cells[i])]),
      ) as unknown as EpochRow,
  );
}

/**
 * Throws DamagedFile unless metrics.csv holds exactly one row for each epoch 1..`epochs`, in order
 * (what a finished run, or the checkpoint a resume starts from, says was trained): a cut, deleted,
 * duplicated or reordered file must not pass as a complete history. `rowsAfter`: rows of later
 * epochs may follow (a resume drops them: they were written after the checkpoint it starts from);
 * without it, any row past `epochs` is damage.
 */
export function checkMetricsComplete(dir: string, epochs: number, options: { rowsAfter?: boolean } = {}): void {
  const file = join(dir, METRICS_FILE);
  const metrics = readMetricsLines(file);
  if (!metrics) throw new DamagedFile(file, `missing (epochs 1 to ${epochs} were trained)`);
  const seen = metrics.rows.map((r) => r.epoch);
  const have = new Set(seen);
  const missing = Array.from({ length: epochs }, (_, i) => i + 1).filter((e) => !have.has(e));
  if (missing.length)
    throw new DamagedFile(
      file,
      `damaged (no row for epoch${missing.length > 1 ? 's' : ''} ${formatEpochs(missing)} of the ${epochs} trained)`,
    );
  const repeated = [...new Set(seen.filter((e, i) => seen.indexOf(e) !== i))];
  if (repeated.length)
    throw new DamagedFile(
      file,
      `damaged (epoch${repeated.length > 1 ? 's' : ''} ${formatEpochs(repeated)} ha${repeated.length > 1 ? 've' : 's'} more than one row)`,
    );
  const outOfOrder = seen.findIndex((e, i) => i > 0 && e < seen[i - 1]!);
  if (outOfOrder >= 0)
    throw new DamagedFile(
      file,
      `damaged (rows out of order: epoch ${seen[outOfOrder]} after epoch ${seen[outOfOrder - 1]})`,
    );
  const extra = options.rowsAfter ? [] : seen.filter((e) => e > epochs);
  if (extra.length)
    throw new DamagedFile(
      file,
      `damaged (row${extra.length > 1 ? 's' : ''} for epoch${extra.length > 1 ? 's' : ''} ${extra.join(', ')}, but ${epochs} were trained)`,
    );
}

/** 1, 2, 3, 7 → "1-3, 7". */
function formatEpochs(epochs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < epochs.length; ) {
    let j = i;
    while (j + 1 < epochs.length && epochs[j + 1] === epochs[j]! + 1) j++;
    parts.push(i === j ? `${epochs[i]}` : `${epochs[i]}-${epochs[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** Keeps the header and the rows of epochs <= `lastEpoch` (rows written after the checkpoint a resume starts from). */
export function truncateMetrics(dir: string, lastEpoch: number): void {
  const file = join(dir, METRICS_FILE);
  const metrics = readMetricsLines(file);
  if (!metrics) return;
  const kept = metrics.rows.filter((r) => r.epoch <= lastEpoch);
  if (kept.length !== metrics.rows.length)
    writeAtomic(file, [metrics.header, ...kept.map((r) => r.line)].map((l) => `${l}\n`).join(''));
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
  const error = readJson<TrialError>(join(dir, ERROR_FILE));
  if (error && typeof error.message !== 'string') throw new DamagedFile(join(dir, ERROR_FILE), 'damaged (no message)');
  return error;
}

export function clearTrialError(dir: string): void {
  rmSync(join(dir, ERROR_FILE), { force: true });
}

/**
 * Takes the run's lock (running.json) for this process: one writer per run directory. Throws
 * RunLocked (exit 2, naming the holder) when another live process holds it; see lock.ts.
 */
export function lockRun(dir: string): RunLock {
  makeDir(dir);
  return acquireLock(join(dir, RUNNING_FILE), dir);
}

/** Whether a live process holds the run's lock (a dead or silent holder's lock is stale). */
export function runningHere(dir: string): boolean {
  return lockOwner(join(dir, RUNNING_FILE)) !== null;
}

/** Removes what killed writers left in a run directory; call with the run's lock held. */
export function removeRunTemps(dir: string): void {
  for (const name of [CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, ERROR_FILE, CHECKPOINT_DIR])
    removeStaleTemps(join(dir, name), true);
}

// ---- checkpoint/ (the folder; its tensors are src/runs/checkpoint.ts's)

/** The checkpoint manifest, checkpoint.json; `weightSpecs` are tfjs's, opaque here. */
export interface CheckpointManifest {
  format: string;
  state: TrainState;
  frozenDigest: string;
  weightSpecs: unknown[];
}

/** The previous checkpoint, kept until the newest is complete (and then as a fall-back). */
export const PREVIOUS_CHECKPOINT_DIR = `${CHECKPOINT_DIR}.prev`;

/** The folder holding the newest complete checkpoint of a run, or null. */
export function checkpointFolder(dir: string): string | null {
  // checkpoint.prev alone is what a kill between saveCheckpoint's two renames leaves.
  for (const name of [CHECKPOINT_DIR, PREVIOUS_CHECKPOINT_DIR]) {
    if (existsSync(join(dir, name, CHECKPOINT_MANIFEST)) && existsSync(join(dir, name, CHECKPOINT_WEIGHTS)))
      return join(dir, name);
  }
  return null;
}

/** The last finished epoch of a run's checkpoint, without loading or verifying weights (for status listings). */
export function checkpointEpoch(dir: string): number | null {
  const folder = checkpointFolder(dir);
  if (!folder) return null;
  const file = join(folder, CHECKPOINT_MANIFEST);
  const epoch = readJson<CheckpointManifest>(file)?.state?.epoch;
  if (typeof epoch !== 'number') throw new DamagedFile(file, 'damaged (no state.epoch)');
  return epoch;
}

/** Removes a run's checkpoint (a fresh start must not later resume from an older attempt). */
export function removeCheckpoint(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === CHECKPOINT_DIR || name.startsWith(`${CHECKPOINT_DIR}.`))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Whether a run has left anything behind (config, metrics or a checkpoint): started, maybe stopped. */
export function hasStarted(dir: string): boolean {
  return existsSync(join(dir, CONFIG_FILE)) || existsSync(join(dir, METRICS_FILE)) || checkpointFolder(dir) !== null;
}

/** The size in bytes of a checkpoint folder's weights (checkpointFolder's). */
export function checkpointWeightBytes(folder: string): number {
  return statSync(join(folder, CHECKPOINT_WEIGHTS)).size;
}
