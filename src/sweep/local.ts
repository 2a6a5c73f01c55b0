/**
 * The local executor: runs a sweep's unfinished trials in N child processes, each
 * `node bin/lcconv.js run <config copy> --trial <i> --resume` (the same command a Slurm array task
 * runs), its output appended to `<run dir>/trial.log`. A failed trial is recorded in its `error.json`
 * (by the child, or here when the child died without writing one) and the others go on.
 *
 * GPUs: tfjs-node-gpu sees the devices in CUDA_VISIBLE_DEVICES; with `devices` set, worker slot i
 * gets devices[i mod n], so N workers on N GPUs use one device each. The other backends have no
 * device choice (cpu, wasm) or pick the default adapter (webgpu).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { usableCores } from '../cores.js';
import { makeDir } from '../fs-safety.js';
import { runningHere, runPaths, writeTrialError } from '../runs/files.js';
import { runState } from '../runs/state.js';
import { trialArgs, type Trial } from './trials.js';

export type TrialOutcome = 'finished' | 'failed' | 'interrupted' | 'skipped';

/** Follows the trials as they start and end (the terminal's live view). */
export interface TrialWatcher {
  trial(trial: Trial, event: TrialOutcome | 'started'): void;
}

export interface LocalOptions {
  watcher?: TrialWatcher;
  configCopy: string;
  workers: number;
  devices?: string[];
  log: (line: string) => void;
  /** Aborted = stop: children get SIGINT (they abandon their epoch, keeping the checkpoint); no new trial starts. */
  signal?: AbortSignal;
}

export interface LocalResult {
  finished: Trial[];
  failed: Trial[];
  interrupted: Trial[];
  /** Trials another process was already running (their lock was held): left to it. */
  skipped: Trial[];
}

/** Children alive right now, so a second Ctrl-C can kill them. */
const alive = new Set<ChildProcess>();

/** CPU threads for each of `workers` concurrent trials on `cores` cores (at least 1). */
export function threadsPerWorker(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

export function killChildren(): void {
  for (const child of alive) child.kill('SIGKILL');
}

export async function runLocal(trials: Trial[], options: LocalOptions): Promise<LocalResult> {
  const result: LocalResult = { finished: [], failed: [], interrupted: [], skipped: [] };
  const queue = [...trials];
  const onAbort = () => {
    for (const child of alive) child.kill('SIGINT');
  };
  options.signal?.addEventListener('abort', onAbort);

  const concurrent = Math.max(1, Math.min(options.workers, trials.length));
  const worker = async (slot: number) => {
    for (let trial = queue.shift(); trial && !options.signal?.aborted; trial = queue.shift()) {
      options.watcher?.trial(trial, 'started');
      const outcome = await runChild(trial, slot, options, concurrent);
      result[outcome].push(trial);
      options.watcher?.trial(trial, outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrent }, (_, slot) => worker(slot)));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return result;
}

function runChild(trial: Trial, slot: number, options: LocalOptions, concurrent: number): Promise<TrialOutcome> {
  const { dir, run_id: runId } = trial.identity;
  makeDir(dir);
  const logFile = runPaths(dir).trialLog;
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' }; // plain per-epoch lines in the log, no progress bar
  if (options.devices?.length) env.CUDA_VISIBLE_DEVICES = options.devices[slot % options.devices.length]!;
  // Workers divide the cores (a config's `threads` or an explicit LCCONV_THREADS still wins).
  if (!env.LCCONV_THREADS) env.LCCONV_THREADS = String(threadsPerWorker(usableCores(), concurrent));
  const started = Date.now();
  options.log(`[worker ${slot}] trial ${trial.index} ${runId}: started (log ${logFile})`);
  // Own process group: a terminal's Ctrl-C reaches only this parent, which forwards one SIGINT, so a
  // child never mistakes the parent's forwarding for a second Ctrl-C.
  const child = spawn(process.execPath, trialArgs(options.configCopy, String(trial.index)), {
    stdio: ['ignore', fd, fd],
    env,
    detached: true,
  });
  alive.add(child);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      alive.delete(child);
      closeSync(fd);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0 && runState(dir).state === 'finished') {
        options.log(`[worker ${slot}] trial ${trial.index} ${runId}: finished in ${seconds} s`);
        return resolve('finished');
      }
      if (options.signal?.aborted && (code === 130 || signal === 'SIGINT' || signal === 'SIGKILL')) {
        options.log(
          `[worker ${slot}] trial ${trial.index} ${runId}: stopped after ${seconds} s (resumes from its checkpoint)`,
        );
        return resolve('interrupted');
      }
      if (code === 2 && runningHere(dir)) {
        // Refused with RunLocked: a Slurm task or another sweep holds this trial; not a failure.
        options.log(
          `[worker ${slot}] trial ${trial.index} ${runId}: skipped, another process is running it (log ${logFile})`,
        );
        return resolve('skipped');
      }
      const exit = signal ? `signal ${signal}` : `exit code ${code}`;
      const recorded = runState(dir).error; // null when absent or damaged: then this parent records the failure
      if (!recorded || Date.parse(recorded.at) < started)
        writeTrialError(dir, { message: `trial process ended with ${exit}`, exit, log: logFile });
      options.log(
        `[worker ${slot}] trial ${trial.index} ${runId}: FAILED (${exit}) after ${seconds} s: ${runState(dir).error?.message} (log ${logFile})`,
      );
      resolve('failed');
    });
  });
}
