/**
 * The reuse and resume policy of a run directory, in one place:
 * - a finished run is reused, not retrained (unless `force`);
 * - an unfinished one continues from its checkpoint with `resume`, else restarts: its checkpoint is
 *   removed first, which a later resume would otherwise continue under this attempt's metrics.csv;
 * - a sweep trial marks its directory as running while it runs and records its failure in
 *   error.json (not an interruption, which leaves a checkpoint to resume from).
 */
import type { Config } from '../config/schema.js';
import { clearRunning, clearTrialError, readFinishedSummary, removeCheckpoint, writeRunning, writeTrialError } from './files.js';
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

/** The run of `config` with `seed`: its finished summary to reuse, or a recorder to train into. */
export function openRun(config: Config, seed: number, options: OpenRunOptions): OpenedRun {
  const identity = runIdentity(config, seed);
  const finished = options.force ? null : readFinishedSummary(identity.dir);
  if (finished) return { identity, finished };
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
