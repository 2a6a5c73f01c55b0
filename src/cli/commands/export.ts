/**
 * `lcconv export <run dir>`: the trained network as a PyTorch state_dict (safetensors) plus
 * model.json, loadable into bench/pytorch_reference.py's ResNet (README 'Exporting to PyTorch').
 */
import { EXPORT_DIR } from '../../runs/files.js';
import { InputError } from '../../errors.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { within } from '../../fs-safety.js';

interface ExportArgs {
  run: string;
  format: 'safetensors';
  out?: string;
  json: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <run>',
  describe: 'write a finished run’s weights as a PyTorch state_dict (safetensors) and model.json',
  builder: (y: Argv) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'a finished run directory' })
      .option('format', {
        choices: ['safetensors'] as const,
        default: 'safetensors' as const,
        describe: 'weights file format',
      })
      .option('out', { type: 'string', describe: 'output folder (default: <run>/export)' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the written files as JSON',
      })
      .example(
        '$0 export results/fashion-mnist/frozen-k3-E4-seed0-a69f898f',
        'model.safetensors + model.json for PyTorch',
      ) as unknown as Argv<ExportArgs>,
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    const { readFinishedRun, loadFinishedModel } = await import('../../eval/load-run.js');
    if (args.out !== undefined && args.out.trim() === '')
      throw new InputError('--out: empty; name the folder to write the export into');
    const run = readFinishedRun(args.run);
    const { selectBackend, releaseBackends } = await import('../../backends/index.js');
    await selectBackend('cpu'); // exact float32 reads; export does no heavy compute
    try {
      const { loadDataset } = await import('../../data/index.js');
      const { exportRun } = await import('../../export/pytorch.js');
      const data = loadDataset(run.config.dataset, run.config.seed);
      const model = await loadFinishedModel(run);
      try {
        const files = await exportRun(run, model, data, args.out ?? within(args.run, EXPORT_DIR));
        process.stdout.write(
          args.json ? `${JSON.stringify({ run: run.summary.run_id, files })}\n` : `wrote ${files.join(', ')}\n`,
        );
      } finally {
        model.dispose();
      }
    } finally {
      await releaseBackends();
    }
  },
};
