/**
 * The reuse and resume policy of a run directory, in one place:
 * - a finished run is reused, not retrained (unless `force`);
 * - an unfinished one with a checkpoint continues from it with `resume`, starts over with `force`
 *   (its checkpoint removed first, which a later resume would otherwise continue under the new
 *   attempt's metrics.csv), and with neither is refused: progress is never discarded silently;
 * - `--force` retrains a finished run from scratch, with or without `resume`;
 * - a run holds its directory's lock while it runs and records its failure in error.json (not an
 *   interruption, which leaves a checkpoint to resume from).
 */
import { existsSync, rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { firstLine, InputError } from '../errors.js';
import {
  checkpointEpoch,
  checkpointFolder,
  clearTrialError,
  DamagedFile,
  hasStarted,
  lockRun,
  readFinishedSummary,
  readTrialError,
  removeCheckpoint,
  removeRunTemps,
  removeSummary,
  runningHere,
  writeTrialError,
} from './files.js';
import { runIdentity } from './identity.js';
import type { RunIdentity, RunSummary } from './records.js';
import { RunRecorder } from './recorder.js';
import { TensorBoardWriter } from './tensorboard.js';

export interface OpenRunOptions {
  /** Retrain a run that already finished. */
  force?: boolean;
  /** Continue an unfinished run from its last checkpoint instead of restarting it. */
  resume?: boolean;
  configFile?: string;
  gitCommit: string | null;
}

/** The finished summary, or null; a damaged summary.json counts as unfinished (the run is redone). */
function readSummaryIfSound(dir: string): RunSummary | null {
  try {
    return readFinishedSummary(dir);
  } catch (err) {
    if (err instanceof DamagedFile) return null;
    throw err;
  }
}

/** Whether the run of `config` with `seed` has finished (a damaged summary.json counts as unfinished). */
export function isFinishedRun(config: Config, seed: number): boolean {
  return readSummaryIfSound(runIdentity(config, seed).dir) !== null;
}

export type OpenedRun =
  | { identity: RunIdentity; finished: RunSummary }
  | { identity: RunIdentity; finished: null; recorder: RunRecorder; tensorboard: TensorBoardWriter };

/**
 * Throws (one line, exit 2) when the run of `config` with `seed` has unfinished progress (a
 * checkpoint) and neither `resume` nor `force` says what to do with it. Callers that open several
 * runs check them all first, so nothing trains before the refusal.
 */
export function checkUnfinished(config: Config, seed: number, options: Pick<OpenRunOptions, 'force' | 'resume'>): void {
  if (options.force || options.resume) return;
  const { dir, run_id } = runIdentity(config, seed);
  // A live process is still training it: taking the lock will say who, which is the useful answer.
  if (runningHere(dir)) return;
  const epoch = readFinishedSummary(dir) ? null : checkpointEpoch(dir);
  if (epoch === null) return;
  // A run that failed (error.json: non-finite loss, a full disk…) was not interrupted: say how it ended.
  let failure: string | null = null;
  try {
    failure = readTrialError(dir)?.message ?? null;
  } catch {
    failure = 'its error.json is damaged';
  }
  throw new InputError(
    failure
      ? `${run_id}: failed after epoch ${epoch}: ${firstLine(failure)}; start it over with --force, or retry from the checkpoint of epoch ${epoch} (in ${dir}) with --resume`
      : `${run_id}: interrupted after epoch ${epoch} (checkpoint in ${dir}); continue it with --resume, or start it over with --force`,
  );
}

/** The run of `config` with `seed`: its finished summary to reuse, or the sinks to train into (run directory, TensorBoard). */
export function openRun(config: Config, seed: number, options: OpenRunOptions): OpenedRun {
  const identity = runIdentity(config, seed);
  const finished = readSummaryIfSound(identity.dir);
  if (finished && !options.force) return { identity, finished };
  if (!finished) checkUnfinished(config, seed, options);
  // A fresh start, and --force on a finished run even with --resume, retrains from epoch 1.
  if (!options.resume || finished) removeCheckpoint(identity.dir);
  if (finished) removeSummary(identity.dir); // not finished any more: a failed retrain must not look like one
  return {
    identity,
    finished: null,
    recorder: new RunRecorder(config, identity.dir, { configFile: options.configFile, gitCommit: options.gitCommit }),
    tensorboard: new TensorBoardWriter(config, identity.dir),
  };
}

/**
 * Runs `work` on the run of `config` with `seed` while holding its lock (one writer per run
 * directory; a second process gets RunLocked, exit 2): leftovers of killed writers are removed,
 * the reuse/resume policy decides (openRun), and a failure that `isInterruption` does not accept
 * is recorded in error.json, so status and report list the run as failed. Interruptions leave the
 * checkpoint to resume from and record nothing.
 */
export async function withRun(
  config: Config,
  seed: number,
  options: OpenRunOptions & {
    isInterruption: (err: unknown) => boolean;
    log?: (line: string) => void;
    /** A sweep trial records every failure; a plain run only one after it started writing (bad input leaves nothing behind). */
    trial?: boolean;
  },
  work: (run: OpenedRun) => Promise<RunSummary>,
): Promise<RunSummary> {
  const { dir } = runIdentity(config, seed);
  const created = [dirname(dir), dir].filter((d) => !existsSync(d));
  const lock = lockRun(dir);
  try {
    removeRunTemps(dir);
    const run = openRun(config, seed, options);
    if (run.finished) return await work(run);
    clearTrialError(dir);
    if (options.resume && !checkpointFolder(dir))
      options.log?.(`${run.identity.run_id}: no checkpoint to resume from in ${dir}; starting at epoch 1`);
    try {
      return await work(run);
    } catch (err) {
      if (!options.isInterruption(err) && (options.trial || hasStarted(dir))) {
        try {
          writeTrialError(dir, { message: err instanceof Error ? err.message : String(err) });
        } catch {
          // e.g. the disk is full: the original error says more than this one
        }
      }
      throw err;
    }
  } finally {
    lock.release();
    // Folders this call created and left empty (a run refused before it wrote anything) go again.
    for (const d of created.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        break; // not empty: the run wrote something
      }
    }
  }
}
