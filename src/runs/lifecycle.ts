/**
 * The reuse and resume policy of a run directory, in one place:
 * - a finished run is reused, not retrained (unless `force`);
 * - an unfinished one with a checkpoint continues from it with `resume`, starts over with `force`
 *   (its checkpoint removed first, which a later resume would otherwise continue under the new
 *   attempt's metrics.csv), and with neither is refused: progress is never discarded silently;
 * - a sweep trial marks its directory as running while it runs and records its failure in
 *   error.json (not an interruption, which leaves a checkpoint to resume from).
 */
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { checkpointEpoch, clearRunning, clearTrialError, readFinishedSummary, removeCheckpoint, writeRunning, writeTrialError } from './files.js';
import { runIdentity } from './identity.js';
import type { RunIdentity, RunSummary } from './records.js';
import { RunRecorder } from './recorder.js';

export interface OpenRunOptions {
  /** Retrain a run that already finished. */
  force?: boolean;
  /** Continue an unfinished run from its last checkpoint instead of restarting it. */
  resume?: boolean;
  configFile?: string;
  gitCommit: string | null;
}

export type OpenedRun =
  | { identity: RunIdentity; finished: RunSummary }
  | { identity: RunIdentity; finished: null; recorder: RunRecorder };

/**
 * Throws (one line, exit 2) when the run of `config` with `seed` has unfinished progress (a
 * checkpoint) and neither `resume` nor `force` says what to do with it. Callers that open several
 * runs check them all first, so nothing trains before the refusal.
 */
export function checkUnfinished(config: Config, seed: number, options: Pick<OpenRunOptions, 'force' | 'resume'>): void {
  if (options.force || options.resume) return;
  const { dir, run_id } = runIdentity(config, seed);
  const epoch = readFinishedSummary(dir) ? null : checkpointEpoch(dir);
  if (epoch !== null) throw new InputError(`${run_id}: interrupted after epoch ${epoch} (checkpoint in ${dir}); continue it with --resume, or start it over with --force`);
}

/** The run of `config` with `seed`: its finished summary to reuse, or a recorder to train into. */
export function openRun(config: Config, seed: number, options: OpenRunOptions): OpenedRun {
  const identity = runIdentity(config, seed);
  const finished = options.force ? null : readFinishedSummary(identity.dir);
  if (finished) return { identity, finished };
  checkUnfinished(config, seed, options);
  if (!options.resume) removeCheckpoint(identity.dir);
  return { identity, finished: null, recorder: new RunRecorder(config, identity.dir, { configFile: options.configFile, gitCommit: options.gitCommit }) };
}

/**
 * Runs `work` as a trial of the run in `dir`: running.json while it runs, error.json when it fails
 * with an error that `isInterruption` does not accept.
 */
export async function asTrial<T>(dir: string, work: () => Promise<T>, isInterruption: (err: unknown) => boolean): Promise<T> {
  clearTrialError(dir);
  writeRunning(dir);
  try {
    return await work();
  } catch (err) {
    if (!isInterruption(err)) writeTrialError(dir, { message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    clearRunning(dir);
  }
}
