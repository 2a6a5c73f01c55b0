/**
 * `lcconv sweep <config>`: list (--dry-run), inspect (--status) or run every trial of the config's
 * `sweep:` grid; the flags are parsed here and the workflow is src/sweep/run.ts's. Executors:
 * `local` (N worker processes, then the report) or `slurm` (an sbatch array, one task per
 * unfinished trial; --wait blocks, then reports).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { SCHEMA_FLAGS } from '../../config/flag-table.js';
import type { Override } from '../../config/load.js';
import { InputError } from '../../errors.js';
import { handleInterrupts } from '../interrupt.js';
import { SweepBoard } from '../sweep-board.js';

/** slurm.* and sweep.max_trials as flags (from the schema, via src/config/flag-table.ts). */
const CONFIG_FLAGS = SCHEMA_FLAGS.filter((f) => f.key.startsWith('slurm.') || f.key === 'sweep.max_trials');

export type SweepArgs = {
  config: string;
  set: string[];
  grid: string[];
  executor: 'local' | 'slurm';
  workers: number;
  devices?: string;
  dryRun: boolean;
  status: boolean;
  wait: boolean;
  poll: number;
} & Record<string, unknown>;

/**
 * The config-key flags as overrides, so the one schema validates them and errors name the flag. In
 * the config (and so in the copy workers and Slurm tasks read), not only in this process.
 */
function configFlagOverrides(args: SweepArgs): Override[] {
  return CONFIG_FLAGS.filter((f) => args[f.flag] !== undefined).map((f) => ({
    spec: `${f.key}=${JSON.stringify(args[f.flag])}`,
    flag: `--${f.flag}`,
  }));
}

/** yargs options of the config-key flags; no yargs default, so the config file's value stays the base. */
function configFlagOptions(y: Argv): Argv {
  for (const f of CONFIG_FLAGS)
    y.option(f.flag, {
      type: f.form === 'list' ? 'string' : f.form,
      ...(f.form === 'list' ? { array: true } : {}),
      describe: `${f.key.startsWith('slurm.') ? 'slurm: ' : ''}${f.describe} (= ${f.key}${f.form === 'list' ? ', repeatable, replaces the list' : ''}; default ${f.default ?? 'unset'})`,
    });
  return y;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep <config>',
  describe: "run every trial of a config's sweep: grid (resumable), locally or as a Slurm array",
  builder: (y: Argv) =>
    configFlagOptions(y)
      .positional('config', { type: 'string', demandOption: true, describe: 'YAML experiment with a sweep: block' })
      .group(
        CONFIG_FLAGS.map((f) => f.flag),
        'Config keys (each flag sets the key named, over the config file):',
      )
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
      ...configFlagOverrides(args),
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
