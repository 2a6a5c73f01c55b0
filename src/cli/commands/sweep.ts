/**
 * `lcconv sweep <config>`: list (--dry-run), inspect (--status) or run every trial of the config's
 * `sweep:` grid; the flags are parsed here and the workflow is src/sweep/run.ts's. Executors:
 * `local` (N worker processes, then the report) or `slurm` (an sbatch array, one task per
 * unfinished trial; --wait blocks, then reports).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DEFAULT_MAX_TRIALS } from '../../config/choices.js';
import type { Override } from '../../config/load.js';
import { InputError } from '../../errors.js';
import { handleInterrupts } from '../interrupt.js';
import { SweepBoard } from '../sweep-board.js';

export interface SweepArgs {
  config: string;
  set: string[];
  grid: string[];
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

/** Slurm flags and --max-trials become overrides, so the one schema validates them; errors name the flag. */
function slurmOverrides(args: SweepArgs): Override[] {
  const flags: [string, string, unknown][] = [
    ['slurm.partition', '--partition', args.partition],
    ['slurm.gpus_per_task', '--gpus-per-task', args.gpusPerTask],
    ['slurm.cpus_per_task', '--cpus-per-task', args.cpusPerTask],
    ['slurm.time', '--time', args.time],
    ['slurm.max_parallel', '--max-parallel', args.maxParallel],
    ['slurm.sbatch_args', '--sbatch-arg', args.sbatchArg],
    // In the config (and so in the copy workers and Slurm tasks read), not only in this process.
    ['sweep.max_trials', '--max-trials', args.maxTrials],
  ];
  return flags
    .filter(([, , v]) => v !== undefined)
    .map(([key, flag, v]) => ({ spec: `${key}=${JSON.stringify(v)}`, flag }));
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep <config>',
  describe: "run every trial of a config's sweep: grid (resumable), locally or as a Slurm array",
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'YAML experiment with a sweep: block' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'override a config key, e.g. --set train.epochs=2 or --set sweep.model.kernel_size=[3,5] (repeatable)',
      })
      .option('grid', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'sweep a key over comma-separated values, e.g. --grid model.kernel_size=3,5,7 (repeatable; adds to or replaces axes of the sweep: block)',
      })
      .option('executor', {
        choices: ['local', 'slurm'],
        default: 'local',
        describe: 'run trials here (worker processes) or submit them to Slurm',
      })
      .option('workers', { type: 'number', default: 1, describe: 'local: trials run at once, each in its own process' })
      .option('devices', {
        type: 'string',
        describe:
          'local: GPU ids for the workers, e.g. 0,1 (worker i gets CUDA_VISIBLE_DEVICES=ids[i mod n]; tfjs-node-gpu only)',
      })
      .option('partition', { type: 'string', describe: 'slurm: partition (= --set slurm.partition=P)' })
      .option('gpus-per-task', { type: 'number', describe: 'slurm: GPUs per array task (= slurm.gpus_per_task)' })
      .option('cpus-per-task', { type: 'number', describe: 'slurm: CPU cores per array task (= slurm.cpus_per_task)' })
      .option('time', { type: 'string', describe: 'slurm: wall-time limit per task, HH:MM:SS (= slurm.time)' })
      .option('max-parallel', {
        type: 'number',
        describe: 'slurm: at most M tasks at once, the array %M throttle (= slurm.max_parallel)',
      })
      .option('sbatch-arg', {
        type: 'string',
        array: true,
        describe:
          'slurm: extra sbatch option, repeatable, e.g. --sbatch-arg=--account=abc (replaces slurm.sbatch_args)',
      })
      .option('max-trials', {
        type: 'number',
        describe: `refuse grids larger than this (= sweep.max_trials, default ${DEFAULT_MAX_TRIALS.toLocaleString('en-US')})`,
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'list the trials (slurm: write and print the sbatch script); run nothing',
      })
      .option('status', {
        type: 'boolean',
        default: false,
        describe: 'show which trials are finished, running (squeue), failed (with the log) or pending',
      })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'slurm: block until the array ends, then write the report',
      })
      .option('poll', {
        type: 'number',
        default: 5,
        hidden: true,
        describe: 'seconds between squeue polls with --wait',
      })
      .example('$0 sweep configs/smoke-sweep.yaml --dry-run', 'list the trials and their state')
      .example(
        '$0 sweep configs/smoke-sweep.yaml --workers 2',
        'run them, two processes at a time, then write the report',
      )
      .example(
        '$0 sweep configs/smoke.yaml --grid model.kernel_size=3,5,7 --grid freeze=learned,frozen',
        'a grid from the command line (Hydra-style multirun)',
      )
      .example(
        '$0 sweep configs/kernel-sweep.yaml --executor slurm --partition gpu --gpus-per-task 1',
        'one Slurm array task per unfinished trial',
      )
      .example(
        '$0 sweep configs/kernel-sweep.yaml --status',
        'finished / running / failed / pending',
      ) as unknown as Argv<SweepArgs>,
  handler: async (args: ArgumentsCamelCase<SweepArgs>) => {
    if (!Number.isInteger(args.workers) || args.workers < 1)
      throw new InputError(`--workers: expected an integer >= 1, got ${args.workers}`);
    const { gridOverride, loadConfigFile } = await import('../../config/load.js');
    const { config } = loadConfigFile(args.config, [
      ...args.set,
      ...args.grid.map(gridOverride),
      ...slurmOverrides(args),
    ]);
    if (!config.sweep)
      throw new InputError(
        `${args.config}: no sweep: block to run; add one (docs/sweeps.md), give axes with --grid key=v1,v2, or train it once with 'lcconv run ${args.config}'`,
      );
    const { runSweep } = await import('../../sweep/run.js');
    const say = (line: string) => process.stdout.write(`${line}\n`);
    process.exitCode = await runSweep(config, {
      source: args.config,
      executor: args.executor,
      workers: args.workers,
      devices: args.devices?.split(','),
      dryRun: args.dryRun,
      status: args.status,
      wait: args.wait,
      poll: args.poll,
      say,
      warn: (line) => process.stderr.write(`lcconv: warning: ${line}\n`),
      interrupts: (onForce) => handleInterrupts(say, onForce),
      board: process.stdout.isTTY && !process.env.CI ? (n) => new SweepBoard(process.stdout, n) : undefined,
    });
  },
};
