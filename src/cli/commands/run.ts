/**
 * `lcconv run [config]`: train one experiment (every seed, plus the standard-training arm) and
 * print the comparison table. Without a config, runs the built-in smoke experiment. With
 * `--trial <index|run id>`, runs exactly one trial of the config's sweep (what `lcconv sweep`'s
 * workers and Slurm array tasks run), so an external scheduler can run one trial per job.
 */
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { PACKAGE_ROOT } from '../../provenance.js';
import { BACKEND_OPTION, chooseBackendFor, configOverrides } from '../backend-banner.js';
import { ConsoleSink } from '../console-sink.js';
import { handleInterrupts } from '../interrupt.js';
import type { Config } from '../../config/schema.js';
import type { ExperimentOptions } from '../../experiment/experiment.js';
import type { Trial } from '../../sweep/trials.js';

export interface RunArgs {
  config?: string;
  set: string[];
  backend?: string;
  force: boolean;
  resume: boolean;
  trial?: string;
  quiet: boolean;
  json: boolean;
}

export const DEFAULT_CONFIG = join(PACKAGE_ROOT, 'configs', 'smoke.yaml');

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run [config]',
  describe: 'train an experiment and compare it with standard training',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', describe: 'YAML experiment (default: the built-in configs/smoke.yaml)' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'override a config key, e.g. --set train.epochs=2 (repeatable)',
      })
      .option('backend', BACKEND_OPTION)
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'retrain runs that already finished, and start interrupted ones over (dropping their checkpoint)',
      })
      .option('resume', {
        type: 'boolean',
        default: false,
        describe: 'continue unfinished runs from their last end-of-epoch checkpoint',
      })
      .option('trial', {
        type: 'string',
        describe: 'run one trial of the sweep: its index or run id (lcconv sweep --dry-run lists them)',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the final table' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print a JSON summary on stdout (logs go to stderr)',
      })
      .example(
        '$0 run',
        'the built-in default: frozen random filters in LC blocks vs standard training, on generated data',
      )
      .example('$0 run configs/smoke.yaml --set model.kernel_size=5', 'override any config key')
      .example('$0 run my.yaml --set "seeds=[0,1,2]" --json', 'three seeds, JSON summary on stdout')
      .example('$0 run my.yaml --resume', 'continue an interrupted run from its last checkpoint')
      .example(
        '$0 run configs/smoke-sweep.yaml --trial 3',
        'one trial of a sweep (what a Slurm array task runs)',
      ) as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const { file, config, trial } = await readRunArgs(args);
    // Heavy modules (tfjs) load only once a config is valid, so --help and bad input stay fast.
    const { releaseBackends } = await import('../../backends/index.js');
    const { RunInterrupted } = await import('../../train/trainer.js');
    const out = args.json ? process.stderr : process.stdout;
    const say = (line: string) => (args.quiet ? undefined : out.write(`${line}\n`));
    if (!args.config) say(`no config given: running the built-in smoke experiment (${file})`);
    const backend = await chooseBackendFor(config, say);
    const interrupt = handleInterrupts((line) => process.stderr.write(`${line}\n`));
    const options: ExperimentOptions = {
      backend,
      configFile: file,
      force: args.force,
      resume: args.resume,
      log: say,
      signal: interrupt.signal,
      loading: interrupt.atOnce,
      sinksFor: () => [new ConsoleSink(out, args.quiet ? 'quiet' : 'normal')],
    };
    try {
      if (trial) await runOneTrial(trial, options, args.json);
      else await runWholeExperiment(config, options, args.json);
    } catch (err) {
      if (!(err instanceof RunInterrupted)) throw err;
      process.stderr.write(`lcconv: ${err.message}\n`);
      process.exitCode = 130;
    } finally {
      interrupt.dispose();
      await releaseBackends(); // the WebGPU device would keep Node alive
    }
  },
};

/** The config (file or the built-in default, with --set and --backend) and the --trial it names, checked. */
async function readRunArgs(args: RunArgs): Promise<{ file: string; config: Config; trial: Trial | null }> {
  const file = args.config ?? DEFAULT_CONFIG;
  // Loaded here, not at the top: --help must not load the schema (zod) or tfjs.
  const { loadConfigFile } = await import('../../config/load.js');
  const { config } = loadConfigFile(file, configOverrides(args));
  if (config.sweep && args.trial === undefined)
    throw new InputError(
      `${file}: has a sweep: block; run every trial with 'lcconv sweep ${file}', or one with --trial <index|run id>`,
    );
  const { sweepTrials, findTrial } = await import('../../sweep/trials.js');
  return { file, config, trial: args.trial === undefined ? null : findTrial(sweepTrials(config), args.trial) };
}

/** One trial of a sweep (what sweep workers and Slurm tasks run). */
async function runOneTrial(trial: Trial, options: ExperimentOptions, json: boolean): Promise<void> {
  const { runTrial } = await import('../../experiment/experiment.js');
  options.log?.(`trial ${trial.index}: ${trial.identity.run_id}`);
  const summary = await runTrial(trial, options);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ backend: options.backend, trial: trial.index, run: summary }, null, 2)}\n`,
    );
}

/** Every seed of the experiment and its standard-training arm, then the comparison table. */
async function runWholeExperiment(config: Config, options: ExperimentOptions, json: boolean): Promise<void> {
  const { runExperiment } = await import('../../experiment/experiment.js');
  const { seedsOf } = await import('../../config/grid.js');
  const { formatComparison, summarySentence } = await import('../../results/comparison.js');
  options.log?.(`seeds: ${seedsOf(config).join(', ')}`);
  const result = await runExperiment(config, options);
  if (json) {
    const { backend } = options;
    process.stdout.write(`${JSON.stringify({ backend, runs: result.runs, comparison: result.comparison }, null, 2)}\n`);
    return;
  }
  const sentence = summarySentence(result.comparison, result.accuracy);
  process.stdout.write(
    `\n${formatComparison(result.comparison, result.accuracy)}\n\ncomparison written to ${result.comparisonFile}\n${sentence ? `${sentence}\n` : ''}`,
  );
}
