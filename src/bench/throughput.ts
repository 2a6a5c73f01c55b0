/**
 * Throughput of the configured model on the active backend: training steps and evaluation on
 * random data of the dataset's shape (nothing to download), after warm-up steps that compile the
 * GPU kernels. Uses the trainer's own `trainStep` and `evaluate`, and reads the clock only after
 * awaiting the last result, so queued GPU work is counted.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.js';
import { trainBatches, type Batch } from '../data/batches.js';
import { countDeviceWork } from '../backends/device-counters.js';
import { datasetShape } from '../data/index.js';
import type { Dataset, ImageSplit } from '../data/dataset.js';
import { buildModel, checkModelFits, lcFormsOf } from '../models/index.js';
import { rngFor } from '../random.js';
import { Sgd } from '../train/sgd.js';
import { EpochTotals, PROGRESS_EVERY } from '../train/epoch-totals.js';
import { evaluate, trainStep } from '../train/trainer.js';

export interface BenchOptions {
  steps: number;
  warmup: number;
  seed?: number;
}

export interface BenchResult {
  model: {
    arch: string;
    width: number;
    kernel_size: number;
    freeze: string;
    lc_expansion: number;
    lc_depthwise: boolean;
    /** model.lc_compute, and how many LC blocks took each form at this batch. */
    lc_compute: string;
    lc_forms: Record<string, number>;
    learnable_params: number;
    total_params: number;
  };
  batch_size: number;
  /** [height, width, channels] of the synthetic images, the configured dataset's shape. */
  image: [number, number, number];
  classes: number;
  warmup_steps: number;
  steps: number;
  train: { images_per_second: number; seconds_per_step: number };
  eval: { images_per_second: number; seconds_per_batch: number };
  /** Most bytes held by tensors during one training step (tf.profile), weights and optimizer state included. */
  peak_tensor_bytes: number;
  /**
   * Per timed training step: tfjs kernels run, and on webgpu the GPU dispatches and GPU→CPU reads
   * (null elsewhere). The timed loop reads results back as the trainer does.
   */
  per_step: { kernels: number; dispatches: number | null; reads: number | null; sync_reads: number | null };
  /** Kernels of the profiled training step by total time, most expensive first (top 8). */
  top_kernels: { name: string; ms: number; calls: number }[];
}

/** Sums a tf.profile's kernel times per kernel name. */
function topKernels(info: Awaited<ReturnType<typeof tf.profile>>, count = 8): BenchResult['top_kernels'] {
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0; // backends without timers report an error object
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    byName.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
  }
  return [...byName]
    .map(([name, e]) => ({ name, ...e }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

/** How many LC blocks take each form: { composed: 19 }, {} without LC blocks. */
function formCounts(forms: Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const form of Object.values(forms)) counts[form] = (counts[form] ?? 0) + 1;
  return counts;
}

/** Random uint8 images and labels: throughput does not depend on the pixel values. */
function randomSplit(count: number, pixels: number, classes: number, seed: number): ImageSplit {
  const rng = rngFor(seed, 'bench/data');
  const images = Uint8Array.from({ length: count * pixels }, () => Math.floor(rng() * 256));
  const labels = Uint8Array.from({ length: count }, () => Math.floor(rng() * classes));
  return { images, labels, count };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

export async function benchThroughput(config: Config, options: BenchOptions): Promise<BenchResult> {
  const { steps, warmup } = options;
  const seed = options.seed ?? config.seed;
  const shape = datasetShape(config.dataset);
  checkModelFits(config, shape); // before anything is allocated, as a run checks it
  const pixels = shape.height * shape.width * shape.channels;
  const batchSize = config.train.batch_size;
  // A few distinct batches, made before timing: the benchmark measures the model, not the JS input pipeline.
  const distinct = Math.min(steps + warmup, 4);
  const split = randomSplit(distinct * batchSize, pixels, shape.classes, seed);
  const data: Dataset = {
    name: `random ${config.dataset.name}-shaped`,
    height: shape.height,
    width: shape.width,
    channels: shape.channels,
    classNames: Array.from({ length: shape.classes }, (_, i) => String(i)),
    train: split,
    test: split,
    mean: Array(shape.channels).fill(0.5),
    std: Array(shape.channels).fill(0.25),
    flipAugment: false,
  };
  const batches: Batch[] = [...trainBatches(data, batchSize, seed, 1, null)];
  const evalData = (count: number): Dataset => ({
    ...data,
    test: randomSplit(count * batchSize, pixels, shape.classes, seed + 1),
  });

  const model = buildModel(config, { channels: shape.channels, classes: shape.classes }, seed);
  const optimizer = new Sgd({
    momentum: config.train.momentum,
    nesterov: config.train.nesterov,
    weightDecay: config.train.weight_decay,
  });
  const lr = config.train.lr;
  // Results are summed and read back as the training loop does (src/train/epoch-totals.ts), so the
  // counted reads per step are the trainer's; the last read waits for the queued GPU work.
  const runSteps = async (n: number) => {
    const totals = new EpochTotals();
    for (let i = 0; i < n; i++) {
      totals.add(
        trainStep(model, optimizer, batches[i % batches.length]!, shape, lr, config.train.label_smoothing),
        batchSize,
      );
      if ((i + 1) % PROGRESS_EVERY === 0 && i + 1 < n) totals.peek(() => {});
    }
    await totals.finish();
  };
  try {
    // The last warm-up step is the profiled one (peak memory, kernel times), so profiling costs no extra step.
    const profileStep = async () =>
      tf.profile(() =>
        tf.dispose(Object.values(trainStep(model, optimizer, batches[0]!, shape, lr, config.train.label_smoothing))),
      );
    await runSteps(Math.max(warmup - 1, 0));
    const warmPeak = warmup > 0 ? await profileStep() : null;
    const counter = countDeviceWork();
    let trainSeconds: number;
    try {
      trainSeconds = await timed(() => runSteps(steps));
    } finally {
      counter?.stop();
    }
    const profile = warmPeak ?? (await profileStep());
    const perStep = (n: number | undefined) => (n === undefined ? null : n / steps);

    const warmEval = evalData(Math.max(warmup, 1));
    await evaluate(model, warmEval, batchSize);
    const timedEval = evalData(steps);
    const evalSeconds = await timed(async () => void (await evaluate(model, timedEval, batchSize)));

    return {
      model: {
        arch: config.model.arch,
        width: config.model.width,
        kernel_size: config.model.kernel_size,
        freeze: config.freeze,
        lc_expansion: config.model.lc_expansion,
        lc_depthwise: config.model.lc_depthwise,
        lc_compute: config.model.lc_compute,
        lc_forms: formCounts(lcFormsOf(config, shape)),
        learnable_params: model.counts.learnable,
        total_params: model.counts.total,
      },
      batch_size: batchSize,
      image: [shape.height, shape.width, shape.channels],
      classes: shape.classes,
      warmup_steps: warmup,
      steps,
      train: { images_per_second: (steps * batchSize) / trainSeconds, seconds_per_step: trainSeconds / steps },
      eval: { images_per_second: (steps * batchSize) / evalSeconds, seconds_per_batch: evalSeconds / steps },
      peak_tensor_bytes: profile.peakBytes,
      per_step: {
        kernels: profile.kernels.length,
        dispatches: perStep(counter?.counts.dispatches),
        reads: perStep(counter?.counts.reads),
        sync_reads: perStep(counter?.counts.syncReads),
      },
      top_kernels: topKernels(profile),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
