/**
 * Where each trial of a sweep stands, whatever executor ran it: the run directory decides
 * finished / failed (error.json) / running (a live local process), and Slurm's squeue, when a job of
 * this sweep was submitted, adds queued and running tasks and tasks that ended without finishing
 * (FAILED, CANCELLED, TIMEOUT…, with their log).
 */
import { basename } from 'node:path';
import { runPaths } from '../runs/files.js';
import { listRuns } from '../runs/scan.js';
import { taskStates } from './slurm.js';
import { formatTrials, type Trial } from './trials.js';

export type StateName = 'finished' | 'running' | 'queued' | 'failed' | 'pending' | 'damaged';

export interface StatusLine {
  name: StateName;
  detail: string; // e.g. "slurm 12_3 RUNNING, checkpoint at epoch 2/6" or the error and its log
}

export interface SweepStatus {
  states: StatusLine[];
  tally: string;
}

/** `experimentDir` holds the trials' run directories (listRuns reads them); `slurmDir` the sweep's Slurm jobs. */
export function sweepStatus(trials: Trial[], experimentDir: string, slurmDir: string, epochs: number): SweepStatus {
  const tasks = taskStates(slurmDir) ?? new Map();
  const listed = new Map(listRuns(experimentDir).map((run) => [run.name, run]));
  const states = trials.map((trial): StatusLine => {
    // A trial whose folder holds nothing yet is not listed: pending.
    const disk = listed.get(basename(trial.identity.dir)) ?? {
      state: 'pending',
      checkpointEpoch: null,
      error: null,
      damage: null,
    };
    const task = tasks.get(trial.index);
    const ckpt = disk.checkpointEpoch ? `checkpoint at epoch ${disk.checkpointEpoch}/${epochs}` : '';
    const join2 = (...parts: string[]) => parts.filter(Boolean).join(', ');
    if (disk.state === 'finished') return { name: 'finished', detail: '' };
    if (disk.state === 'damaged') return { name: 'damaged', detail: disk.damage! };
    if (task?.active)
      return {
        name: task.state === 'PENDING' ? 'queued' : 'running',
        detail: join2(`slurm ${task.jobId}_${task.trial} ${task.state}`, ckpt, `log ${task.log}`),
      };
    if (disk.state === 'running') return { name: 'running', detail: join2('local process', ckpt) };
    const log = task ? task.log : runPaths(trial.identity.dir).trialLog;
    if (disk.error) return { name: 'failed', detail: join2(disk.error.message, ckpt, `log ${disk.error.log ?? log}`) };
    if (task && task.state !== 'COMPLETED')
      return {
        name: 'failed',
        detail: join2(`slurm ${task.jobId}_${task.trial} ${task.state}`, ckpt, `log ${task.log}`),
      };
    return { name: 'pending', detail: ckpt }; // pending or interrupted: either way the next sweep runs it
  });
  const count = (n: StateName) => states.filter((s) => s.name === n).length;
  const tally = `${trials.length} trials: ${count('finished')} finished, ${count('running')} running, ${count('queued')} queued, ${count('failed')} failed, ${count('pending')} pending${count('damaged') ? `, ${count('damaged')} damaged` : ''}`;
  return { states, tally };
}

export function formatStatus(trials: Trial[], status: SweepStatus): string {
  const lines = new Map(status.states.map((s, i) => [i, s.detail ? `${s.name}: ${s.detail}` : s.name]));
  return `${formatTrials(trials, lines)}\n${status.tally}`;
}
