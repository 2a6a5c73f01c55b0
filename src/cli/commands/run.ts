/**
 * `lcconv run [config]`: train one experiment (every seed, plus the standard-training arm) and
 * print the comparison table. Without a config, runs the built-in smoke experiment.
 */
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigFile } from '../../config/load.js';
import { PACKAGE_ROOT } from '../../provenance.js';
import { ConsoleSink } from '../console-sink.js';

export interface RunArgs {
  config?: string;
  set: string[];
  backend?: string;
  force: boolean;
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
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key, e.g. --set train.epochs=2 (repeatable)' })
      .option('backend', { type: 'string', describe: 'shorthand for --set backend=NAME' })
      .option('force', { type: 'boolean', default: false, describe: 'retrain runs that already finished' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the final table' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout (logs go to stderr)' }) as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const file = args.config ?? DEFAULT_CONFIG;
    const overrides = [...args.set, ...(args.backend ? [`backend=${args.backend}`] : [])];
    const { config } = loadConfigFile(file, overrides);
    // Heavy modules (tfjs) load only once a config is valid, so --help and bad input stay fast.
    const { selectBackend, releaseBackends } = await import('../../backends/index.js');
    const { runExperiment } = await import('../../train/experiment.js');
    const { formatComparison } = await import('../../results/comparison.js');
    const out = args.json ? process.stderr : process.stdout;
    const say = (line: string) => { if (!args.quiet) out.write(`${line}\n`); };

    if (!args.config) say(`no config given: running the built-in smoke experiment (${file})`);
    try {
      const backend = await selectBackend(config.backend);
      say(`backend: ${backend.backend} — ${backend.device}`);
      for (const why of backend.skipped) say(`  skipped ${why}`);
      say(`seeds: ${(config.seeds ?? [config.seed]).join(', ')}`);

      const result = await runExperiment(config, {
        backend,
        configFile: file,
        force: args.force,
        log: say,
        sinksFor: () => [new ConsoleSink(out, args.quiet ? 'quiet' : 'normal')],
      });
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ backend, runs: result.runs, comparison: result.comparison }, null, 2)}\n`);
      } else {
        process.stdout.write(`\n${formatComparison(result.comparison)}\n\ncomparison written to ${result.comparisonFile}\n`);
      }
    } finally {
      await releaseBackends(); // the WebGPU device would keep Node alive
    }
  },
};
