/**
 * `lcconv bench <config>`: training and evaluation throughput (images/s), time per step and peak
 * tensor memory of the config's model and batch size on the chosen backend, on random data of the
 * dataset's shape. Numbers for docs/benchmarks.md come from here.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigFile } from '../../config/load.js';
import { InputError } from '../../errors.js';
import { chooseBackendFor, configOverrides } from '../backend-banner.js';

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
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <config>',
  describe: 'measure training and evaluation throughput of a config on a backend',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', describe: 'YAML experiment: model, batch size and dataset shape' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (repeatable)' })
      .option('backend', { type: 'string', describe: 'shorthand for --set backend=NAME' })
      .option('steps', { type: 'number', default: 10, describe: 'timed training steps (and evaluation batches)' })
      .option('warmup', { type: 'number', default: 2, describe: 'untimed steps first (GPU kernels compile on first use)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .option('pytorch', { type: 'string', describe: 'also run bench/pytorch_reference.py (same model and batch) with this Python, and print the ratio; bare --pytorch uses python3' }) as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    for (const key of ['steps', 'warmup'] as const) {
      const v = args[key];
      if (!Number.isInteger(v) || v < (key === 'steps' ? 1 : 0)) throw new InputError(`--${key}: expected an integer ≥ ${key === 'steps' ? 1 : 0}, got ${v}`);
    }
    const { config } = loadConfigFile(args.config, configOverrides(args));
    const { releaseBackends } = await import('../../backends/index.js');
    const { benchThroughput } = await import('../../train/bench.js');
    const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
    try {
      const backend = await chooseBackendFor(config, log);
      const m = config.model;
      log(`model: ${m.arch} W=${m.width} k=${m.kernel_size} E=${m.lc_expansion} freeze=${config.freeze}, batch ${config.train.batch_size}; ${args.warmup} warm-up + ${args.steps} timed steps`);
      const result = await benchThroughput(config, { steps: args.steps, warmup: args.warmup });
      let pytorch = null;
      if (args.pytorch !== undefined) {
        const { runPytorchReference } = await import('../../train/pytorch-reference.js');
        // Same thread count as cpu-native uses, so the CPU comparison is like for like.
        const threads = backend.backend === 'cpu-native' ? Number(backend.details?.threads ?? 1) : undefined;
        const ref = runPytorchReference(config, { python: args.pytorch || 'python3', steps: args.steps, warmup: args.warmup, threads, device: backend.hardware ? undefined : 'cpu' }); // a CPU or software-adapter run is compared with PyTorch on the CPU
        pytorch = { ...ref, train_ratio: result.train.images_per_second / ref.train.images_per_second, eval_ratio: result.eval.images_per_second / ref.eval.images_per_second };
      }
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ backend: backend.backend, device: backend.device, ...result, pytorch }, null, 2)}\n`);
      } else {
        log(`train: ${result.train.images_per_second.toFixed(2)} img/s (${result.train.seconds_per_step.toFixed(3)} s/step)`);
        log(`eval:  ${result.eval.images_per_second.toFixed(2)} img/s (${result.eval.seconds_per_batch.toFixed(3)} s/batch)`);
        const ps = result.per_step;
        log(`per training step: ${ps.kernels} kernels${ps.dispatches === null ? '' : `, ${fmtCount(ps.dispatches)} GPU dispatches, ${fmtCount(ps.reads!)} GPU→CPU reads (${fmtCount(ps.sync_reads!)} synchronous)`}`);
        log(`peak tensor memory: ${(result.peak_tensor_bytes / 2 ** 20).toFixed(1)} MiB`);
        log(`top kernels of one training step: ${result.top_kernels.map((k) => `${k.name} ${k.ms.toFixed(1)} ms (${k.calls}×)`).join(', ')}`);
        if (pytorch) {
          log(`${pytorch.framework} on ${pytorch.device}: train ${pytorch.train.images_per_second.toFixed(2)} img/s, eval ${pytorch.eval.images_per_second.toFixed(2)} img/s`);
          log(`lcconv / PyTorch: train ${pytorch.train_ratio.toFixed(2)}×, eval ${pytorch.eval_ratio.toFixed(2)}×`);
        }
      }
    } finally {
      await releaseBackends();
    }
  },
};
