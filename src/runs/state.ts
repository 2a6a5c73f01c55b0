/**
 * A run directory's state, from its files alone (a sweep merges Slurm's view in on top):
 *   finished     summary.json says so
 *   running      running.json names a live process (or a Slurm task on another node)
 *   failed       error.json, and not running
 *   interrupted  started (config, metrics or a checkpoint) but none of the above: resumable
 *   pending      nothing there yet
 */
import { checkpointEpoch, hasStarted, readFinishedSummary, readTrialError, runningHere, type TrialError } from './files.js';
import type { RunSummary } from './records.js';

export type RunStateName = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted';

export interface RunState {
  state: RunStateName;
  summary: RunSummary | null;
  /** Last checkpointed epoch of an unfinished run. */
  checkpointEpoch: number | null;
  error: TrialError | null;
}

export function runState(dir: string): RunState {
  const summary = readFinishedSummary(dir);
  if (summary) return { state: 'finished', summary, checkpointEpoch: null, error: null };
  const epoch = checkpointEpoch(dir);
  if (runningHere(dir)) return { state: 'running', summary: null, checkpointEpoch: epoch, error: null };
  const error = readTrialError(dir);
  if (error) return { state: 'failed', summary: null, checkpointEpoch: epoch, error };
  return { state: hasStarted(dir) ? 'interrupted' : 'pending', summary: null, checkpointEpoch: epoch, error: null };
}
