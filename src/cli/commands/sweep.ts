/**
 * `lcconv sweep <config>`: list (--dry-run), inspect (--status) or run every trial of the config's
 * `sweep:` grid. Trials that finished are skipped, unfinished ones resume from their checkpoint,
 * failures are recorded and the others go on. Executors: `local` (N worker processes, then the
 * report) or `slurm` (an sbatch array, one task per unfinished trial; --wait blocks, then reports).
 */
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigFile } from '../../config/load.js';
import { DEFAULT_MAX_TRIALS } from '../../config/schema.js';
import { InputError } from '../../errors.js';
import { ERROR_FILE } from '../../results/run-dir.js';
import { handleInterrupts } from '../interrupt.js';

export interface SweepArgs {
  config: string;
  set: string[];
  executor: 'local' | 'slurm';
  workers: number;
  devices?: string;
  partition?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  time?: string;
  maxParallel?: number;
  sbatchArg?: string[];
  maxTrials?: number;
  dryRun: boolean;
  status: boolean;
  wait: boolean;
  poll: number;
}

/** Slurm flags and --max-trials become `--set` overrides, so the one schema validates them. */
function slurmOverrides(args: SweepArgs): string[] {
  const flags: [string, unknown][] = [
    ['partition', args.partition], ['gpus_per_task', args.gpusPerTask], ['cpus_per_task', args.cpusPerTask],
    ['time', args.time], ['max_parallel', args.maxParallel], ['sbatch_args', args.sbatchArg],
  ];
  const overrides = flags.filter(([, v]) => v !== undefined).map(([k, v]) => `slurm.${k}=${JSON.stringify(v)}`);
  // In the config (and so in the copy workers and Slurm tasks read), not only in this process.
  if (args.maxTrials !== undefined) overrides.push(`sweep.max_trials=${JSON.stringify(args.maxTrials)}`);
  return overrides;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep <config>',
  describe: "run every trial of a config's sweep: grid (resumable), locally or as a Slurm array",
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'YAML experiment with a sweep: block' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (repeatable)' })
      .option('executor', { choices: ['local', 'slurm'], default: 'local', describe: 'run trials here (worker processes) or submit them to Slurm' })
      .option('workers', { type: 'number', default: 1, describe: 'local: trials run at once, each in its own process' })
      .option('devices', { type: 'string', describe: 'local: GPU ids for the workers, e.g. 0,1 (worker i gets CUDA_VISIBLE_DEVICES=ids[i mod n]; tfjs-node-gpu only)' })
      .option('partition', { type: 'string', describe: 'slurm: partition (= --set slurm.partition=P)' })
      .option('gpus-per-task', { type: 'number', describe: 'slurm: GPUs per array task (= slurm.gpus_per_task)' })
      .option('cpus-per-task', { type: 'number', describe: 'slurm: CPU cores per array task (= slurm.cpus_per_task)' })
      .option('time', { type: 'string', describe: 'slurm: wall-time limit per task, HH:MM:SS (= slurm.time)' })
      .option('max-parallel', { type: 'number', describe: 'slurm: at most M tasks at once, the array %M throttle (= slurm.max_parallel)' })
      .option('sbatch-arg', { type: 'string', array: true, describe: 'slurm: extra sbatch option, repeatable, e.g. --sbatch-arg=--account=abc (replaces slurm.sbatch_args)' })
      .option('max-trials', { type: 'number', describe: `refuse grids larger than this (= sweep.max_trials, default ${DEFAULT_MAX_TRIALS.toLocaleString('en-US')})` })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list the trials (slurm: write and print the sbatch script); run nothing' })
      .option('status', { type: 'boolean', default: false, describe: 'show which trials are finished, running (squeue), failed (with the log) or pending' })
      .option('wait', { type: 'boolean', default: false, describe: 'slurm: block until the array ends, then write the report' })
      .option('poll', { type: 'number', default: 5, hidden: true, describe: 'seconds between squeue polls with --wait' }) as unknown as Argv<SweepArgs>,
  handler: async (args: ArgumentsCamelCase<SweepArgs>) => {
    if (!Number.isInteger(args.workers) || args.workers < 1) throw new InputError(`--workers: expected an integer >= 1, got ${args.workers}`);
    const { config } = loadConfigFile(args.config, [...args.set, ...slurmOverrides(args)]);
    const { sweepTrials, sweepDir, writeConfigCopy } = await import('../../sweep/trials.js');
    const { sweepStatus, formatStatus } = await import('../../sweep/status.js');
    const trials = sweepTrials(config);
    const slurmDir = join(sweepDir(config), 'slurm');
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const status = sweepStatus(trials, slurmDir, config.train.epochs);

    if (args.status || (args.dryRun && args.executor === 'local')) {
      say(formatStatus(trials, status));
      return;
    }
    const todo = trials.filter((_, i) => status.states[i]!.name === 'failed' || status.states[i]!.name === 'pending');
    const configCopy = writeConfigCopy(config, args.config);
    const { experimentDir } = await import('../../results/run-dir.js');
    const report = async () => {
      const { writeReport } = await import('../../results/report.js');
      const { formatComparison } = await import('../../results/comparison.js');
      const r = await writeReport(experimentDir(config));
      if (r.runs.length) say(`\n${formatComparison(r.rows)}\n\nreport: ${r.files.join(', ')}`);
    };

    if (args.executor === 'slurm') {
      const slurm = await import('../../sweep/slurm.js');
      const { PACKAGE_ROOT } = await import('../../provenance.js');
      for (const w of slurm.sharedStorageWarnings({ 'results folder': experimentDir(config), 'lcconv checkout': PACKAGE_ROOT })) process.stderr.write(`lcconv: warning: ${w}\n`);
      if (todo.length === 0) {
        say(`${status.tally}; nothing to submit`);
      } else {
        const { scriptFile, script, jobId } = slurm.submitSweep(config, todo, configCopy, slurmDir, args.dryRun);
        if (!jobId) {
          say(`# ${scriptFile} (not submitted: --dry-run)\n${script}`);
          return;
        }
        say(`submitted job ${jobId}: ${todo.length} array task(s) for trials ${slurm.arraySpec(todo.map((t) => t.index))} (script ${scriptFile}; logs ${slurmDir}/${jobId}_<trial>.log)`);
      }
      if (!args.wait) return;
      await slurm.waitForTasks(slurmDir, args.poll);
      const after = sweepStatus(trials, slurmDir, config.train.epochs);
      say(formatStatus(trials, after));
      await report();
      const failed = trials.filter((_, i) => after.states[i]!.name === 'failed');
      if (failed.length) throw new Error(`${failed.length} of ${trials.length} trials failed: ${failed.map((t) => `${t.index} (${after.states[t.index]!.detail})`).join(', ')}`);
      return;
    }

    say(`${status.tally}; running ${todo.length} with ${Math.min(args.workers, Math.max(todo.length, 1))} worker(s); config copy ${configCopy}`);
    const { runLocal, killChildren } = await import('../../sweep/local.js');
    const interrupt = handleInterrupts(say, killChildren);
    const started = performance.now();
    let result;
    try {
      result = await runLocal(todo, { configCopy, workers: args.workers, devices: args.devices?.split(','), log: say, signal: interrupt.signal });
    } finally {
      interrupt.dispose();
    }
    say(`sweep: ${result.finished.length} finished, ${result.failed.length} failed, ${result.interrupted.length} stopped in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await report();
    if (result.interrupted.length) {
      say(`stopped: rerun 'lcconv sweep ${args.config}' to resume`);
      process.exitCode = 130;
    } else if (result.failed.length) {
      throw new Error(`${result.failed.length} of ${todo.length} trials failed: ${result.failed.map((t) => `${t.index} (${join(t.identity.dir, ERROR_FILE)})`).join(', ')}`);
    }
  },
};
