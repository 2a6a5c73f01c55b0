/**
 * Whole-run benchmark (`lcconv bench --whole-run`): trains and evaluates the config on its real
 * dataset for a few epochs, as `lcconv run` does (the trainer's own trainStep and evaluate, the
 * same batches and schedule), and, with a Python, the same in bench/pytorch_reference.py on the
 * same images (exported once as raw uint8), alternating the two, repetition after repetition.
 * Reports train, eval and data-path seconds per epoch and peak RSS, for docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.js';
import { CIFAR_AUGMENT, stepsPerEpoch, trainBatches, type Batch } from '../data/batches.js';
import { shapeOf, type Dataset } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { buildModel } from '../models/index.js';
import { runPytorchWholeRun } from './pytorch-reference.js';
import { writeFileSynced } from '../fs-safety.js';
import { lrAt, scheduleFor } from '../train/schedule.js';
import { Sgd } from '../train/sgd.js';
import { checkTrainable, evaluate, trainStep } from '../train/trainer.js';

export interface EpochTiming {
  epoch: number;
  /** The training loop of the epoch, data path included, until its loss was read. */
  train_seconds: number;
  /** Evaluation on the test (or validation) split after the epoch. */
  eval_seconds: number;
  /** The part of train_seconds spent making batches (shuffle, augment, normalise). */
  data_seconds: number;
  /**
   * CPU time (user + system, all threads) of the training loop and of the evaluation: on a shared
   * machine wall time depends on the other processes, CPU time much less.
   */
  train_cpu_seconds: number;
  eval_cpu_seconds: number;
  train_acc: number;
  val_acc: number;
}

export interface WholeRunSide {
  framework: string;
  epochs: EpochTiming[];
  /** Peak resident memory of the process that ran it (lcconv: the bench process, dataset load included). */
  peak_rss_bytes: number;
}

export interface WholeRunResult {
  dataset: string;
  train_images: number;
  test_images: number;
  batch_size: number;
  epochs: number;
  repeats: { lcconv: WholeRunSide; pytorch: WholeRunSide | null; load: number[] }[];
  /**
   * Medians over repetitions of the per-epoch means (seconds; *_cpu: CPU seconds), and PyTorch time /
   * lcconv time (> 1: lcconv faster), by wall time and by CPU time.
   */
  summary: {
    lcconv: SideSummary;
    pytorch: SideSummary | null;
    ratio: {
      train: number;
      eval: number;
      whole: number;
      train_cpu: number;
      eval_cpu: number;
      whole_cpu: number;
    } | null;
  };
}

export interface SideSummary {
  train: number;
  eval: number;
  data: number;
  train_cpu: number;
  eval_cpu: number;
}

export interface WholeRunOptions {
  epochs: number;
  repeats: number;
  /** Python with torch for the reference, or undefined for lcconv alone. */
  python?: string;
  threads?: number;
  log?: (line: string) => void;
}

/** One lcconv run of `epochs` epochs: the step loop of trainRun without its run directory. */
export async function lcconvWholeRun(config: Config, data: Dataset, epochs: number): Promise<EpochTiming[]> {
  const { train } = config;
  const steps = stepsPerEpoch(data.train.count, train.batch_size);
  if (steps === 0)
    throw new InputError(
      `train.batch_size: ${train.batch_size} is larger than the training set (${data.train.count} images)`,
    );
  const schedule = scheduleFor({ ...train, epochs }, steps);
  const model = buildModel(config, { channels: data.channels, classes: data.classNames.length }, config.seed);
  const optimizer = new Sgd({ momentum: train.momentum, nesterov: train.nesterov, weightDecay: train.weight_decay });
  const augment = config.dataset.augment ? CIFAR_AUGMENT : null;
  const out: EpochTiming[] = [];
  const shape = shapeOf(data);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      let dataMs = 0;
      let correct = tf.keep(tf.scalar(0));
      const batches = trainBatches(data, train.batch_size, config.seed, epoch, augment);
      for (let step = 0; ; step++) {
        const d0 = performance.now();
        const next = batches.next();
        dataMs += performance.now() - d0;
        if (next.done) break;
        const batch: Batch = next.value;
        const result = trainStep(
          model,
          optimizer,
          batch,
          shape,
          lrAt((epoch - 1) * steps + step, schedule),
          train.label_smoothing,
        );
        const sum = tf.keep(tf.add(correct, result.correct) as tf.Scalar);
        tf.dispose([correct, result.correct, result.lossSum]);
        correct = sum;
      }
      const trainAcc = (await correct.data())[0]! / (steps * train.batch_size);
      correct.dispose();
      const trainSeconds = (performance.now() - t0) / 1000;
      const trainCpu = cpuSeconds(c0);
      const e0 = performance.now();
      const ec0 = process.cpuUsage();
      const evalResult = await evaluate(model, data, Math.max(train.batch_size, 256));
      out.push({
        epoch,
        train_seconds: trainSeconds,
        eval_seconds: (performance.now() - e0) / 1000,
        data_seconds: dataMs / 1000,
        train_cpu_seconds: trainCpu,
        eval_cpu_seconds: cpuSeconds(ec0),
        train_acc: trainAcc,
        val_acc: evalResult.acc,
      });
    }
    return out;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Writes the dataset as bench/pytorch_reference.py --whole-run reads it. */
export function exportForReference(config: Config, data: Dataset, dir: string, epochs: number): void {
  const steps = stepsPerEpoch(data.train.count, config.train.batch_size);
  const augment = config.dataset.augment ? CIFAR_AUGMENT : null;
  const meta = {
    name: data.name,
    height: data.height,
    width: data.width,
    channels: data.channels,
    classes: data.classNames.length,
    mean: data.mean,
    std: data.std,
    cropPadding: augment?.cropPadding ?? 0,
    flip: (augment?.flip ?? false) && data.flipAugment,
    schedule: scheduleFor({ ...config.train, epochs }, steps),
  };
  writeFileSynced(join(dir, 'meta.json'), JSON.stringify(meta));
  for (const [name, split] of [
    ['train', data.train],
    ['test', data.test],
  ] as const) {
    writeFileSynced(join(dir, `${name}-images.u8`), split.images);
    writeFileSynced(join(dir, `${name}-labels.u8`), split.labels);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
type EpochKey = 'train_seconds' | 'eval_seconds' | 'data_seconds' | 'train_cpu_seconds' | 'eval_cpu_seconds';
const perEpoch = (side: WholeRunSide, key: EpochKey) =>
  side.epochs.reduce((s, e) => s + e[key], 0) / side.epochs.length;
const loadAverage = async (): Promise<number[]> =>
  (await import('node:os')).loadavg().map((l) => Math.round(l * 100) / 100);

/** lcconv, then PyTorch, `repeats` times; both see the same exported images. */
export async function benchWholeRun(config: Config, data: Dataset, options: WholeRunOptions): Promise<WholeRunResult> {
  const { epochs, repeats, log } = options;
  checkTrainable(config, data); // the batch fits the set and the model fits this machine, as for a run
  const dir = options.python ? mkdtempSync(join(tmpdir(), 'lcconv-whole-run-')) : null;
  try {
    if (dir) exportForReference(config, data, dir, epochs);
    const reps: WholeRunResult['repeats'] = [];
    for (let r = 1; r <= repeats; r++) {
      const load = await loadAverage();
      const lcconvEpochs = await lcconvWholeRun(config, data, epochs);
      const lcconv: WholeRunSide = {
        framework: `lcconv (${tf.getBackend()})`,
        epochs: lcconvEpochs,
        peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      };
      log?.(`repeat ${r} lcconv:  ${describe(lcconv)} (load ${load.join(' ')})`);
      let pytorch: WholeRunSide | null = null;
      if (dir && options.python) {
        const ref = runPytorchWholeRun(config, dir, { python: options.python, epochs, threads: options.threads });
        pytorch = {
          framework: `${ref.framework} on ${ref.device}`,
          epochs: ref.epochs,
          peak_rss_bytes: ref.peak_rss_bytes,
        };
        log?.(`repeat ${r} pytorch: ${describe(pytorch)}`);
      }
      reps.push({ lcconv, pytorch, load });
    }
    const side = (pick: (r: WholeRunResult['repeats'][number]) => WholeRunSide): SideSummary => {
      const m = (key: EpochKey) => median(reps.map((r) => perEpoch(pick(r), key)));
      return {
        train: m('train_seconds'),
        eval: m('eval_seconds'),
        data: m('data_seconds'),
        train_cpu: m('train_cpu_seconds'),
        eval_cpu: m('eval_cpu_seconds'),
      };
    };
    const lcconv = side((r) => r.lcconv);
    const pytorch = options.python ? side((r) => r.pytorch!) : null;
    return {
      dataset: data.name,
      train_images: data.train.count,
      test_images: data.test.count,
      batch_size: config.train.batch_size,
      epochs,
      repeats: reps,
      summary: {
        lcconv,
        pytorch,
        ratio: pytorch
          ? {
              train: pytorch.train / lcconv.train,
              eval: pytorch.eval / lcconv.eval,
              whole: (pytorch.train + pytorch.eval) / (lcconv.train + lcconv.eval),
              train_cpu: pytorch.train_cpu / lcconv.train_cpu,
              eval_cpu: pytorch.eval_cpu / lcconv.eval_cpu,
              whole_cpu: (pytorch.train_cpu + pytorch.eval_cpu) / (lcconv.train_cpu + lcconv.eval_cpu),
            }
          : null,
      },
    };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function describe(side: WholeRunSide): string {
  const f = (k: EpochKey) => perEpoch(side, k).toFixed(2);
  const acc = side.epochs.at(-1)!.val_acc;
  return `per epoch train ${f('train_seconds')} s + eval ${f('eval_seconds')} s (data path ${f('data_seconds')} s; CPU ${f('train_cpu_seconds')} s + ${f('eval_cpu_seconds')} s), val acc ${(acc * 100).toFixed(2)}%, peak RSS ${(side.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`;
}
