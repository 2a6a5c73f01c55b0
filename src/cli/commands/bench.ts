/**
 * `lcconv bench <config>`: training and evaluation throughput (images/s), time per step and peak
 * tensor memory of the config's model and batch size on the chosen backend, on random data of the
 * dataset's shape. Numbers for docs/benchmarks.md come from here.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import type { BackendChoice } from '../../backends/index.js';
import type { Config } from '../../config/schema.js';
import { BACKEND_OPTION, chooseBackendFor, configOverrides } from '../backend-banner.js';

/** Counts per step are averages: whole numbers print as such, fractions with two decimals. */
const fmtCount = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

interface BenchArgs {
  config: string;
  set: string[];
  backend?: string;
  steps: number;
  warmup: number;
  json: boolean;
  pytorch?: string;
  wholeRun: boolean;
  epochs: number;
  repeats: number;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <config>',
  describe: 'measure training and evaluation throughput of a config on a backend',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', describe: 'YAML experiment: model, batch size and dataset shape' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (repeatable)' })
      .option('backend', BACKEND_OPTION)
      .option('steps', { type: 'number', default: 10, describe: 'timed training steps (and evaluation batches)' })
      .option('warmup', {
        type: 'number',
        default: 2,
        describe: 'untimed steps first (GPU kernels compile on first use)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .option('whole-run', {
        type: 'boolean',
        default: false,
        describe:
          'train and evaluate on the real dataset for --epochs epochs (with --pytorch: alternating with PyTorch on the same images) and report train, eval and data-path time per epoch',
      })
      .option('epochs', { type: 'number', default: 2, describe: '--whole-run: epochs per repetition' })
      .option('repeats', {
        type: 'number',
        default: 2,
        describe: '--whole-run: repetitions (lcconv and PyTorch alternate)',
      })
      .option('pytorch', {
        type: 'string',
        describe:
          'also run bench/pytorch_reference.py (same model and batch) with this Python, and print the ratio; bare --pytorch uses python3',
      })
      .example(
        '$0 bench configs/cifar10-resnet20.yaml --backend cpu-native',
        'images/s of training and evaluation on one backend',
      )
      .example(
        '$0 bench configs/cifar10-resnet20.yaml --pytorch',
        'the same next to PyTorch on this machine',
      ) as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    for (const key of ['steps', 'warmup', 'epochs', 'repeats'] as const) {
      const v = args[key];
      const min = key === 'warmup' ? 0 : 1;
      if (!Number.isInteger(v) || v < min) throw new InputError(`--${key}: expected an integer ≥ ${min}, got ${v}`);
    }
    const { loadConfigFile } = await import('../../config/load.js');
    const { config } = loadConfigFile(args.config, configOverrides(args));
    const { releaseBackends } = await import('../../backends/index.js');
    const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
    try {
      const backend = await chooseBackendFor(config, log);
      await (args.wholeRun ? wholeRun : stepThroughput)(config, backend, args, log);
    } finally {
      await releaseBackends();
    }
  },
};

/** Training and evaluation throughput over a few steps, optionally beside PyTorch's on the same network. */
async function stepThroughput(
  config: Config,
  backend: BackendChoice,
  args: ArgumentsCamelCase<BenchArgs>,
  log: (line: string) => void,
): Promise<void> {
  const { benchThroughput } = await import('../../bench/throughput.js');
  const m = config.model;
  log(
    `model: ${m.arch} W=${m.width} k=${m.kernel_size} E=${m.lc_expansion} freeze=${config.freeze} lc_compute=${m.lc_compute}, batch ${config.train.batch_size}; ${args.warmup} warm-up + ${args.steps} timed steps`,
  );
  const result = await benchThroughput(config, { steps: args.steps, warmup: args.warmup });
  let pytorch = null;
  if (args.pytorch !== undefined) {
    const { runPytorchReference } = await import('../../bench/pytorch-reference.js');
    const ref = runPytorchReference(config, {
      python: args.pytorch || 'python3',
      steps: args.steps,
      warmup: args.warmup,
      threads: nativeThreads(backend), // the thread count cpu-native uses: like for like
      device: backend.hardware ? undefined : 'cpu', // a CPU or software-adapter run is compared with PyTorch on the CPU
    });
    pytorch = {
      ...ref,
      train_ratio: result.train.images_per_second / ref.train.images_per_second,
      eval_ratio: result.eval.images_per_second / ref.eval.images_per_second,
    };
  }
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ backend: backend.backend, device: backend.device, ...result, pytorch }, null, 2)}\n`,
    );
    return;
  }
  log(`train: ${result.train.images_per_second.toFixed(2)} img/s (${result.train.seconds_per_step.toFixed(3)} s/step)`);
  log(`eval:  ${result.eval.images_per_second.toFixed(2)} img/s (${result.eval.seconds_per_batch.toFixed(3)} s/batch)`);
  const ps = result.per_step;
  log(
    `per training step: ${ps.kernels} kernels${ps.dispatches === null ? '' : `, ${fmtCount(ps.dispatches)} GPU dispatches, ${fmtCount(ps.reads!)} GPU→CPU reads (${fmtCount(ps.sync_reads!)} synchronous)`}`,
  );
  const forms = Object.entries(result.model.lc_forms);
  if (forms.length > 0) log(`LC blocks: ${forms.map(([form, n]) => `${n} ${form}`).join(', ')}`);
  log(`peak tensor memory: ${(result.peak_tensor_bytes / 2 ** 20).toFixed(1)} MiB`);
  log(
    `top kernels of one training step: ${result.top_kernels.map((k) => `${k.name} ${k.ms.toFixed(1)} ms (${k.calls}×)`).join(', ')}`,
  );
  if (pytorch) {
    log(
      `${pytorch.framework} on ${pytorch.device}: train ${pytorch.train.images_per_second.toFixed(2)} img/s, eval ${pytorch.eval.images_per_second.toFixed(2)} img/s`,
    );
    log(`lcconv / PyTorch: train ${pytorch.train_ratio.toFixed(2)}×, eval ${pytorch.eval_ratio.toFixed(2)}×`);
  }
}

/** cpu-native's thread count, which PyTorch gets too so the CPU comparison is like for like. */
function nativeThreads(backend: BackendChoice): number | undefined {
  return backend.backend === 'cpu-native' ? Number(backend.details?.threads ?? 1) : undefined;
}

async function wholeRun(
  config: Config,
  backend: BackendChoice,
  args: ArgumentsCamelCase<BenchArgs>,
  log: (line: string) => void,
): Promise<void> {
  const { loadDataset } = await import('../../data/index.js');
  const { benchWholeRun } = await import('../../bench/whole-run.js');
  type SideSummary = import('../../bench/whole-run.js').SideSummary;
  const data = loadDataset(config.dataset, config.seed);
  const m = config.model;
  log(
    `whole run: ${m.arch} W=${m.width} k=${m.kernel_size} E=${m.lc_expansion} freeze=${config.freeze}, batch ${config.train.batch_size}, ${data.name} ${data.train.count} train / ${data.test.count} test images, ${args.epochs} epochs × ${args.repeats} repeats`,
  );
  const python = args.pytorch === undefined ? undefined : args.pytorch || 'python3';
  const result = await benchWholeRun(config, data, {
    epochs: args.epochs,
    repeats: args.repeats,
    python,
    threads: nativeThreads(backend) ?? 1,
    log,
  });
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ backend: backend.backend, device: backend.device, ...result }, null, 2)}\n`,
    );
    return;
  }
  const { lcconv, pytorch, ratio } = result.summary;
  const row = (name: string, s: SideSummary) =>
    log(
      `${name.padEnd(8)} train ${s.train.toFixed(2)} s  eval ${s.eval.toFixed(2)} s  data path ${s.data.toFixed(2)} s  CPU train ${s.train_cpu.toFixed(2)} s  eval ${s.eval_cpu.toFixed(2)} s  (per epoch, median of ${args.repeats})`,
    );
  row('lcconv', lcconv);
  if (pytorch && ratio) {
    row('pytorch', pytorch);
    log(
      `lcconv / PyTorch speed: train ${ratio.train.toFixed(2)}×, eval ${ratio.eval.toFixed(2)}×, whole run ${ratio.whole.toFixed(2)}×; by CPU time: train ${ratio.train_cpu.toFixed(2)}×, eval ${ratio.eval_cpu.toFixed(2)}×, whole run ${ratio.whole_cpu.toFixed(2)}×`,
    );
  }
}
