/**
 * `lcconv analyze <run | experiment | sweep>`: statistics and pictures of trained weights (filters,
 * LC combination weights, spatial structure, weight counts) as CSV, SVG and PNG.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { InputError, SomeRunsSkipped } from '../../errors.js';

interface AnalyzeArgs {
  path: string;
  layers?: string;
  plots: boolean;
  set: string[];
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <path>',
  describe: 'filter pictures, LC weight sparsity and spatial structure of trained runs (CSV, SVG, PNG)',
  builder: (y: Argv) =>
    y
      .positional('path', {
        type: 'string',
        demandOption: true,
        describe: 'a run directory, an experiment or sweep folder (results/<name>), or its config file',
      })
      .option('layers', {
        type: 'string',
        describe: "spatial layers to picture, comma-separated (default: stem.conv and each stage's block1.conv1)",
      })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'with a config file: override a config key (as for run)',
      })
      .option('plots', {
        type: 'boolean',
        default: true,
        describe: 'render the pictures (--no-plots writes only the CSVs)',
      })
      .example('$0 analyze results/fashion-mnist-grid', 'filters, LC weights and spatial statistics of every run')
      .example(
        '$0 analyze configs/fashion-mnist-grid.yaml',
        "the config's experiment folder",
      ) as unknown as Argv<AnalyzeArgs>,
  handler: async (args: ArgumentsCamelCase<AnalyzeArgs>) => {
    if (!existsSync(args.path))
      throw new InputError(`${args.path}: no such run directory, experiment folder or config file`);
    let folder = args.path;
    if (statSync(args.path).isFile()) {
      const { loadConfigFile } = await import('../../config/load.js');
      const { experimentDir } = await import('../../runs/identity.js');
      folder = experimentDir(loadConfigFile(args.path, args.set).config);
    }
    // Only weights are read (no forward pass): the pure-JS cpu backend reads them exactly, everywhere.
    const { selectBackend } = await import('../../backends/index.js');
    await selectBackend('cpu');
    const { analyzePath } = await import('../../analysis/run.js');
    const layers = args.layers
      ?.split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const result = await analyzePath(folder, { layers, plots: args.plots, say });
    for (const run of result.runs) {
      const stats = run.analysis.layers;
      const lc = stats.filter((l) => l.lc_hoyer !== null);
      const lcText = lc.length ? `, LC Hoyer ${(lc.reduce((a, l) => a + l.lc_hoyer!, 0) / lc.length).toFixed(3)}` : '';
      process.stdout.write(`${run.summary.run_id}: ${stats.length} spatial layers${lcText} → ${run.out}\n`);
    }
    process.stdout.write(`${result.runs.length} run(s) analyzed; wrote ${result.out}\n`);
    if (result.skipped.length) {
      throw new SomeRunsSkipped(result.skipped);
    }
  },
};
