/**
 * `lcconv export <run dir | folder>`: the trained network as a PyTorch state_dict (safetensors)
 * plus model.json, loadable into its twin in bench/pytorch_reference.py (docs/eval-export.md 'Exporting to
 * PyTorch'). Given an experiment or sweep folder, every finished run is exported; damaged runs are
 * named and skipped (src/runs/scan.ts).
 */
import { exportFolder } from '../../runs/files.js';
import { InputError, SomeRunsSkipped } from '../../errors.js';
import { basename, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface ExportArgs {
  run: string;
  format: 'safetensors';
  out?: string;
  fold: boolean;
  json: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <run>',
  describe: 'write a finished run’s weights as a PyTorch state_dict (safetensors) and model.json',
  builder: (y: Argv) =>
    y
      .positional('run', {
        type: 'string',
        demandOption: true,
        describe: 'a finished run directory, or an experiment or sweep folder of runs',
      })
      .option('format', {
        choices: ['safetensors'] as const,
        default: 'safetensors' as const,
        describe: 'weights file format',
      })
      .option('out', {
        type: 'string',
        describe: 'output folder (default: <run>/export; for a folder of runs, <out>/<run name>)',
      })
      .option('fold', {
        type: 'boolean',
        default: false,
        describe:
          'contract every LC block into one k×k conv (filter W·L): a plain network of the same function, loadable with freeze=learned, E=1',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the written files as JSON',
      })
      .example(
        '$0 export results/fashion-mnist/frozen-k3-E4-seed0-a69f898f',
        'model.safetensors + model.json for PyTorch',
      )
      .example(
        '$0 export results/fashion-mnist/frozen-k3-E4-seed0-a69f898f --fold --out folded',
        'the same network with each LC block contracted to one k×k conv',
      ) as unknown as Argv<ExportArgs>,
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    const { readFinishedRun, loadFinishedModel } = await import('../../eval/load-run.js');
    if (args.out !== undefined && args.out.trim() === '')
      throw new InputError('--out: empty; name the folder to write the export into');
    const { finishedRunsUnder, eachRun } = await import('../../runs/scan.js');
    const folder = finishedRunsUnder(args.run, 'to export');
    const say = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
    for (const s of folder.skipped) say(`skipping ${s.name}: ${s.cause}`);
    const skipped = [...folder.skipped];
    const outOf = (dir: string) =>
      args.out === undefined ? exportFolder(dir) : folder.single ? args.out : join(args.out, basename(dir));
    const { selectBackend, releaseBackends } = await import('../../backends/index.js');
    await selectBackend('cpu'); // exact float32 reads; export does no heavy compute
    try {
      const { loadDataset } = await import('../../data/index.js');
      const { exportRun } = await import('../../export/pytorch.js');
      const written = await eachRun(
        folder,
        folder.finished,
        async (dir) => {
          const run = readFinishedRun(dir);
          const data = loadDataset(run.config.dataset, run.config.seed);
          const model = await loadFinishedModel(run);
          try {
            const files = await exportRun(run, model, data, outOf(dir), { fold: args.fold });
            if (!args.json) process.stdout.write(`wrote ${files.join(', ')}\n`);
            return { run: run.summary.run_id, files };
          } finally {
            model.dispose();
          }
        },
        skipped,
        say,
      );
      if (args.json) process.stdout.write(`${JSON.stringify(folder.single ? written[0] : written)}\n`);
      if (skipped.length) throw new SomeRunsSkipped(skipped); // after every healthy run is exported
    } finally {
      await releaseBackends();
    }
  },
};
