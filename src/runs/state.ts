/**
 * A run directory's state, from its files alone (a sweep merges Slurm's view in on top):
 *   finished     summary.json says so
 *   running      running.json names a live process (or a Slurm task on another node)
 *   failed       error.json, and not running
 *   interrupted  started (config, metrics or a checkpoint) but none of the above: resumable
 *   pending      nothing there yet
 *   damaged      a file is there but unreadable (malformed JSON or CSV): named in `damage`, so a
 *                listing reports this run and goes on with the others
 */
import {
  checkMetricsComplete,
  checkpointEpoch,
  DamagedFile,
  hasStarted,
  readFinishedSummary,
  readMetrics,
  readTrialError,
  runningHere,
  type TrialError,
} from './files.js';
import type { RunSummary } from './records.js';

export type RunStateName = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted' | 'damaged';

export interface RunState {
  state: RunStateName;
  summary: RunSummary | null;
  /** Last checkpointed epoch of an unfinished run. */
  checkpointEpoch: number | null;
  error: TrialError | null;
  /** What is wrong with a damaged run's files ("<file>: damaged (not valid JSON)"). */
  damage?: string;
}

export function runState(dir: string): RunState {
  try {
    return stateFromFiles(dir);
  } catch (err) {
    if (!(err instanceof DamagedFile)) throw err;
    return {
      state: runningHere(dir) ? 'running' : 'damaged',
      summary: null,
      checkpointEpoch: null,
      error: null,
      damage: err.message,
    };
  }
}

function stateFromFiles(dir: string): RunState {
  const summary = readFinishedSummary(dir);
  if (summary) {
    // A finished run whose metrics.csv is damaged, cut or gone is damaged too.
    if (typeof summary.epochs === 'number') checkMetricsComplete(dir, summary.epochs);
    else readMetrics(dir);
    return { state: 'finished', summary, checkpointEpoch: null, error: null };
  }
  const epoch = checkpointEpoch(dir);
  if (runningHere(dir)) return { state: 'running', summary: null, checkpointEpoch: epoch, error: null };
  const error = readTrialError(dir);
  if (error) return { state: 'failed', summary: null, checkpointEpoch: epoch, error };
  return { state: hasStarted(dir) ? 'interrupted' : 'pending', summary: null, checkpointEpoch: epoch, error: null };
}
