/**
 * The runs under a folder a command was given, each with its state, summary, config and what is
 * wrong with it: the one reader of run folders for the commands that work on many runs (report,
 * eval, analyze, export, sweep --status). A damaged run (a malformed summary.json, config.yaml or
 * metrics.csv, a missing checkpoint) is named with its cause and the command goes on with the
 * others; the command then ends non-zero (SomeRunsSkipped, in src/errors.ts).
 * Reads files only (no tfjs), so listing stays cheap.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FlagError, firstLine, InputError } from '../errors.js';
import {
  CHECKPOINT_DIR,
  checkpointFolder,
  CONFIG_FILE,
  DamagedFile,
  ERROR_FILE,
  METRICS_FILE,
  readRecordedConfig,
  RUNNING_FILE,
  SUMMARY_FILE,
  TRIAL_LOG,
  type TrialError,
} from './files.js';
import { readRunConfig } from './config.js';
import type { RunSummary } from './records.js';
import { type RunStateName, runState } from './state.js';

/** One run directory as read from its files. */
export interface ListedRun {
  dir: string;
  /** The folder's name (the run id). */
  name: string;
  state: RunStateName;
  /** A finished run's summary.json. */
  summary: RunSummary | null;
  /** A failed run's error.json. */
  error: TrialError | null;
  /** The last checkpointed epoch of an unfinished run. */
  checkpointEpoch: number | null;
  /** config.yaml as the run recorded it (keys as written, not checked against today's schema); null without one. */
  config: Record<string, unknown> | null;
  /** What is wrong with a damaged run's files ("<file>: damaged (not valid JSON)"), else null. */
  damage: string | null;
}

/** A run a command could not use, and why (one line). */
export interface SkippedRun {
  name: string;
  cause: string;
}

export interface FolderRuns {
  /** Finished runs whose summary, metrics, config and checkpoint read back, sorted. */
  finished: string[];
  /** Damaged runs, by name and cause. */
  skipped: SkippedRun[];
  /** Runs that have not finished (running, interrupted, failed): not damaged, not used. */
  unfinished: SkippedRun[];
  /** `path` is itself a run directory. */
  single: boolean;
}

/** Files that only a run directory holds. */
const RUN_MARKERS = [CONFIG_FILE, SUMMARY_FILE, RUNNING_FILE, ERROR_FILE, TRIAL_LOG, METRICS_FILE, CHECKPOINT_DIR];
const isRunDir = (dir: string) => RUN_MARKERS.some((f) => existsSync(join(dir, f)));

/**
 * The run directories directly inside an experiment or sweep folder, sorted (none when it does not
 * exist): the one rule for which subfolders are runs (not sweep/, analysis/ or other folders).
 */
export function runDirsIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && isRunDir(join(folder, e.name)))
    .map((e) => join(folder, e.name))
    .sort();
}

/** Every run directory directly inside `folder`, read (sorted by name; none when it does not exist). */
export function listRuns(folder: string): ListedRun[] {
  return runDirsIn(folder).map(readRun);
}

/** One run directory, read as listRuns reads it (a folder that does not exist is `pending`). */
export function readRun(dir: string): ListedRun {
  const { state, summary, error, checkpointEpoch, damage } = runState(dir);
  const run: ListedRun = {
    dir,
    name: basename(dir),
    state,
    summary,
    error,
    checkpointEpoch,
    config: null,
    damage: damage ?? null,
  };
  if (run.damage) return run;
  try {
    run.config = readRecordedConfig(dir);
  } catch (err) {
    if (!(err instanceof DamagedFile)) throw err;
    run.damage = err.message;
    if (state !== 'running') run.state = 'damaged'; // a live run's files are its own; it is not written off
    run.summary = null;
  }
  return run;
}

/** What keeps a run from being used as a finished run, or null; `unfinished` when it is only not done. */
function problemOf(run: ListedRun): { cause: string; unfinished: boolean } | null {
  const { dir } = run;
  if (run.damage) return { cause: run.damage, unfinished: false };
  if (run.state !== 'finished')
    return {
      cause: run.error
        ? `failed: ${firstLine(run.error.message)}`
        : `the run has not finished (${run.state}); finish it with lcconv run --resume`,
      unfinished: true,
    };
  try {
    readRunConfig(dir); // against today's schema: eval, analyze and export rebuild the network from it
  } catch (err) {
    if (err instanceof InputError || err instanceof DamagedFile) return { cause: firstLine(err), unfinished: false };
    throw err;
  }
  if (!checkpointFolder(dir)) return { cause: 'no checkpoint (checkpoint/ is missing)', unfinished: false };
  return null;
}

/**
 * The runs of a run directory, or of every run directory directly inside an experiment or sweep
 * folder. A single run directory that cannot be used is refused in one line (InputError); in a
 * folder each such run is listed and the others go on. `purpose` words the refusal of a folder
 * without any usable run ("to evaluate").
 */
export function finishedRunsUnder(path: string, purpose: string): FolderRuns {
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new InputError(`${path}: no such folder (give a run directory, or an experiment or sweep folder)`);
  if (isRunDir(path)) {
    const problem = problemOf(readRun(path));
    if (problem) throw new InputError(`${path}: ${problem.cause}`);
    return { finished: [path], skipped: [], unfinished: [], single: true };
  }
  const result: FolderRuns = { finished: [], skipped: [], unfinished: [], single: false };
  for (const run of listRuns(path)) {
    const problem = problemOf(run);
    if (!problem) result.finished.push(run.dir);
    else (problem.unfinished ? result.unfinished : result.skipped).push({ name: run.name, cause: problem.cause });
  }
  if (result.finished.length === 0) {
    const named = [...result.skipped, ...result.unfinished].map((s) => `${s.name} (${s.cause})`);
    throw new InputError(
      `${path}: no finished run ${purpose}${named.length ? `: ${named.join('; ')}` : ` (no run directory with ${CONFIG_FILE})`}`,
    );
  }
  return result;
}

/**
 * Runs `work` on each run of `folder`; a run whose files turn out damaged while it is read (a
 * checkpoint that fails its checksum, …: an InputError or DamagedFile) is added to `skipped` and the
 * others go on. A single run directory's problem is the command's: it is thrown (one line, exit 2).
 */
export async function eachRun<T>(
  folder: Pick<FolderRuns, 'single'>,
  dirs: string[],
  work: (dir: string) => Promise<T>,
  skipped: SkippedRun[],
  say?: (line: string) => void,
): Promise<T[]> {
  const done: T[] = [];
  for (const dir of dirs) {
    try {
      done.push(await work(dir));
    } catch (err) {
      const damage = err instanceof DamagedFile || (err instanceof InputError && !(err instanceof FlagError));
      if (folder.single || !damage) throw err;
      const cause = firstLine(err).replace(`${dir}: `, '');
      skipped.push({ name: basename(dir), cause });
      say?.(`skipping ${basename(dir)}: ${cause}`);
    }
  }
  return done;
}
