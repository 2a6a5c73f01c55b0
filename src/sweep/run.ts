/**
 * A sweep, start to end: list (dryRun) or inspect (status) its trials, or run the unfinished ones —
 * locally in worker processes, then the report; or as a Slurm array (wait: block until it ends, then
 * report). Trials that finished are skipped, unfinished ones resume from their checkpoint (each trial
 * is `lcconv run --trial <i> --resume`), failures are recorded and the others go on.
 */
import { basename } from 'node:path';
import type { Config } from '../config/schema.js';
import { PACKAGE_ROOT } from '../provenance.js';
import { SomeRunsSkipped } from '../errors.js';
import { runPaths, slurmFolder } from '../runs/files.js';
import { experimentDir } from '../runs/identity.js';
import { formatStatus, sweepStatus } from './status.js';
import { sweepDir, sweepTrials, writeConfigCopy } from './trials.js';
import type { TrialWatcher } from './local.js';

export interface SweepOptions {
  /** The config file the sweep came from (named in the config copy and in the resume hint). */
  source: string;
  executor: 'local' | 'slurm';
  workers: number;
  devices?: string[];
  dryRun: boolean;
  status: boolean;
  wait: boolean;
  /** Seconds between squeue polls with `wait`. */
  poll: number;
  say: (line: string) => void;
  warn: (line: string) => void;
  /** local: the stop signal (Ctrl-C) and what a second one kills. */
  interrupts: (onForce: () => void) => { signal: AbortSignal; dispose: () => void };
  /** local: a live view of the running trials (on a terminal), given the number of trials to run. */
  board?: (trials: number) => TrialWatcher & { log(line: string): void; stop(): void };
}

/** Runs the sweep; throws when trials failed; returns the exit code (130 when stopped). */
export async function runSweep(config: Config, options: SweepOptions): Promise<number> {
  const { say } = options;
  const trials = sweepTrials(config);
  const slurmDir = slurmFolder(sweepDir(config));
  const status = sweepStatus(trials, experimentDir(config), slurmDir, config.train.epochs);

  if (options.status || (options.dryRun && options.executor === 'local')) {
    say(formatStatus(trials, status));
    // Damaged trials are listed above; the status then ends non-zero, naming each.
    const damaged = trials.filter((_, i) => status.states[i]!.name === 'damaged');
    if (options.status && damaged.length)
      throw new SomeRunsSkipped(
        damaged.map((t) => ({ name: basename(t.identity.dir), cause: status.states[t.index]!.detail })),
      );
    return 0;
  }
  const todo = trials.filter((_, i) => ['failed', 'pending', 'damaged'].includes(status.states[i]!.name)); // a damaged summary is redone from the checkpoint
  // A refusal writes nothing: the Slurm tools are checked before the config copy is written.
  if (options.executor === 'slurm' && !options.dryRun && todo.length > 0) (await import('./slurm.js')).requireSbatch();
  const configCopy = writeConfigCopy(config, options.source);
  const report = async () => {
    const { writeReport } = await import('../results/report.js');
    const { formatComparison } = await import('../results/comparison.js');
    const r = await writeReport(experimentDir(config));
    if (r.runs.length) say(`\n${formatComparison(r.rows, r.accuracy)}\n\nreport: ${r.files.join(', ')}`);
  };

  if (options.executor === 'slurm') {
    const slurm = await import('./slurm.js');
    for (const w of slurm.sharedStorageWarnings({
      'results folder': experimentDir(config),
      'lcconv checkout': PACKAGE_ROOT,
    }))
      options.warn(w);
    if (todo.length === 0) {
      say(`${status.tally}; nothing to submit`);
    } else {
      const { scriptFile, script, jobId } = slurm.submitSweep(config, todo, configCopy, slurmDir, options.dryRun);
      if (!jobId) {
        say(`# ${scriptFile} (not submitted: --dry-run)\n${script}`);
        return 0;
      }
      say(
        `submitted job ${jobId}: ${todo.length} array task(s) for trials ${slurm.arraySpec(todo.map((t) => t.index))} (script ${scriptFile}; logs ${slurmDir}/${jobId}_<trial>.log)`,
      );
    }
    if (!options.wait) return 0;
    await slurm.waitForTasks(slurmDir, options.poll);
    const after = sweepStatus(trials, experimentDir(config), slurmDir, config.train.epochs);
    say(formatStatus(trials, after));
    await report();
    const failed = trials.filter((_, i) => after.states[i]!.name === 'failed');
    if (failed.length)
      throw new Error(
        `${failed.length} of ${trials.length} trials failed: ${failed.map((t) => `${t.index} (${after.states[t.index]!.detail})`).join(', ')}`,
      );
    return 0;
  }

  say(
    `${status.tally}; running ${todo.length} with ${Math.min(options.workers, Math.max(todo.length, 1))} worker(s); config copy ${configCopy}`,
  );
  const { runLocal, killChildren } = await import('./local.js');
  const board = options.board?.(todo.length);
  const interrupt = options.interrupts(killChildren);
  const started = performance.now();
  let result: Awaited<ReturnType<typeof runLocal>>;
  try {
    result = await runLocal(todo, {
      configCopy,
      workers: options.workers,
      devices: options.devices,
      log: board ? (l) => board.log(l) : say,
      signal: interrupt.signal,
      watcher: board,
    });
  } finally {
    board?.stop();
    interrupt.dispose();
  }
  say(
    `sweep: ${result.finished.length} finished, ${result.failed.length} failed, ${result.interrupted.length} stopped${result.skipped.length ? `, ${result.skipped.length} skipped (run by another process)` : ''} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await report();
  if (result.interrupted.length) {
    say(`stopped: rerun 'lcconv sweep ${options.source}' to resume`);
    return 130;
  }
  if (result.failed.length) {
    throw new Error(
      `${result.failed.length} of ${todo.length} trials failed: ${result.failed.map((t) => `${t.index} (${runPaths(t.identity.dir).error})`).join(', ')}`,
    );
  }
  return 0;
}
