/**
 * One training run: build the model, then one visible loop — for epoch, for batch: forward,
 * gradients of the learnable weights only, SGD step — with evaluation every `eval_every` epochs.
 * Emits plain rows to its sinks and returns the summary; aggregation over runs is the caller's.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.js';
import { CIFAR_AUGMENT, evalBatches, stepsPerEpoch, trainBatches, type Batch } from '../data/batches.js';
import { shapeOf, type Dataset, type DatasetShape } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { buildModel, checkModelFits, lcFormsOf, type Model, type ModelSources } from '../models/index.js';
import type { CheckpointStore, EpochRow, RunIdentity, RunSink, RunSummary, TrainState } from '../runs/records.js';
import { checkFinite, NonFiniteLoss } from './non-finite.js';
import { EpochTotals, PROGRESS_EVERY } from './epoch-totals.js';
import { lrAt, scheduleFor } from './schedule.js';
import { Sgd } from './sgd.js';

export interface TrainInput {
  config: Config;
  data: Dataset;
  identity: RunIdentity;
  sinks: RunSink[];
  backend: { backend: string; device: string; skipped?: string[] };
  /** Provenance for summary.json. */
  versions: Record<string, string>;
  gitCommit: string | null;
  /**
   * What the model is built from besides the config, resolved before training (src/runs/model.ts):
   * spatial_init from_run's covariance, your own model script's text (the run's copy).
   */
  sources?: ModelSources;
  /** Steps between the non-blocking progress reads. */
  progressEvery?: number;
  /** Saves a checkpoint after every epoch and gives the one to resume from (none: no checkpoints). */
  checkpoints?: CheckpointStore;
  /** Aborted = stop: the current epoch is abandoned, the last epoch's CSV row and checkpoint stay. */
  signal?: AbortSignal;
}

/**
 * Thrown when `signal` stops a run; its message says truthfully what is kept: the checkpoint of the
 * last finished epoch, or nothing during the first epoch (or a run without checkpoints).
 */
export class RunInterrupted extends Error {
  override name = 'RunInterrupted';
  constructor(
    readonly lastEpoch: number,
    checkpointed: boolean,
  ) {
    super(
      lastEpoch > 0 && checkpointed
        ? `interrupted during epoch ${lastEpoch + 1}; epoch ${lastEpoch} is checkpointed; continue with --resume`
        : `interrupted during epoch ${lastEpoch + 1}; no epoch finished${lastEpoch > 0 ? ' with a checkpoint' : ''}, so nothing is kept to resume (run it again to start over)`,
    );
  }
}

interface EvalResult {
  loss: number;
  acc: number;
}

function toTensors(batch: Batch, shape: DatasetShape): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(batch.x, [batch.size, shape.height, shape.width, shape.channels]),
    y: tf.tensor1d(batch.y, 'int32'),
  };
}

/**
 * Mean loss (no label smoothing) and accuracy over a split, with BatchNorm in eval mode. Reads
 * results with `await data()`: the webgpu backend cannot read synchronously in Node.
 */
export async function evaluate(
  model: Model,
  data: Dataset,
  batchSize: number,
  signal?: AbortSignal,
): Promise<EvalResult> {
  // Summed on the device and read once: a read per batch would make the loop wait for the GPU.
  const shape = shapeOf(data);
  let sums: tf.Tensor1D = tf.keep(tf.zeros([2]));
  for (const batch of evalBatches(data, data.test, batchSize)) {
    await yieldToEventLoop(); // signal handlers run between batches; an abort throws signal.reason
    if (signal?.aborted) {
      sums.dispose();
      signal.throwIfAborted();
    }
    const next = tf.tidy(() => {
      const { x, y } = toTensors(batch, shape);
      const logits = model.forward(x, false);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, shape.classes), logits, undefined, 0, tf.Reduction.SUM);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return tf.keep(tf.add(sums, tf.stack([loss, hits])) as tf.Tensor1D);
    });
    sums.dispose();
    sums = next;
  }
  const [lossSum, correct] = await sums.data();
  sums.dispose();
  return { loss: lossSum! / data.test.count, acc: correct! / data.test.count };
}

/**
 * One SGD step on a batch; returns the batch's summed loss and number of correct predictions as
 * tensors (kept), so the caller decides when to sync.
 */
export function trainStep(
  model: Model,
  optimizer: Sgd,
  batch: Batch,
  shape: DatasetShape,
  lr: number,
  labelSmoothing: number,
): { lossSum: tf.Scalar; correct: tf.Scalar } {
  return tf.tidy(() => {
    const { x, y } = toTensors(batch, shape);
    const onehot = tf.oneHot(y, shape.classes);
    let correct: tf.Scalar | undefined;
    const learnable = [...model.params.learnable.values()];
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(x, true);
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')) as tf.Scalar);
      return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, labelSmoothing) as tf.Scalar;
    }, learnable);
    const byParam = new Map<string, tf.Tensor>();
    for (const [name, v] of model.params.learnable) {
      const g = grads[v.name];
      if (g) byParam.set(name, g);
    }
    optimizer.step(model.params.learnable, byParam, lr);
    return { lossSum: tf.mul(value, batch.size) as tf.Scalar, correct: correct! };
  });
}

/**
 * Refuses (one line, exit 2) a config that cannot train on `data`: a batch larger than the training
 * set, a kernel wider than the images allow, a network the images are too small for or that would
 * not fit in memory. Callers run it before they make any run directory, so a refusal writes nothing.
 */
export function checkTrainable(config: Config, data: Dataset, sources: ModelSources = {}): void {
  const { batch_size } = config.train;
  if (stepsPerEpoch(data.train.count, batch_size) === 0)
    throw new InputError(
      `train.batch_size: ${batch_size} is larger than the training set (${data.train.count} images of ${data.name}); lower it or raise dataset.subset`,
    );
  checkModelFits(config, shapeOf(data), undefined, sources);
}

export async function trainRun(input: TrainInput): Promise<RunSummary> {
  const { config, data, identity, sinks } = input;
  const { train } = config;
  checkTrainable(config, data, input.sources);
  const steps = stepsPerEpoch(data.train.count, train.batch_size);
  const schedule = scheduleFor(train, steps);
  const shape = shapeOf(data);
  const model = buildModel(config, shape, identity.seed, input.sources);
  const optimizer = new Sgd({ momentum: train.momentum, nesterov: train.nesterov, weightDecay: train.weight_decay });
  const augment = config.dataset.augment ? CIFAR_AUGMENT : null;
  const progressEvery = input.progressEvery ?? PROGRESS_EVERY;
  const wallStart = performance.now();

  // Resume from the store's checkpoint, if it gives one (whether to resume is the run directory's policy).
  let resumed: TrainState | null;
  try {
    resumed = (await input.checkpoints?.load(model, optimizer)) ?? null;
  } catch (err) {
    optimizer.dispose();
    model.dispose();
    throw err;
  }
  const firstEpoch = resumed ? resumed.epoch + 1 : 1;
  const startInfo = {
    ...identity,
    arch: config.model.arch,
    dataset: data.name,
    epochs: train.epochs,
    stepsPerEpoch: steps,
    batchSize: train.batch_size,
    counts: model.counts,
    lcCompute: config.model.lc_compute,
    lcForms: lcFormsOf(config, shape, input.sources),
    backend: input.backend.backend,
    device: input.backend.device,
    firstEpoch,
  };

  let best: { acc: number; epoch: number } | null = resumed?.best ?? null;
  let lastEval: EvalResult | null = resumed?.lastEval ?? null;
  let lastTrainAcc = resumed?.lastTrainAcc ?? 0;
  let trainSeconds = resumed?.trainSeconds ?? 0;
  const earlierWallSeconds = resumed?.wallSeconds ?? 0;
  try {
    for (const s of sinks) await s.start(startInfo);
    for (let epoch = firstEpoch; epoch <= train.epochs; epoch++) {
      const t0 = performance.now();
      const totals = new EpochTotals();
      const lrOfStep = (s: number) => lrAt((epoch - 1) * steps + s - 1, schedule);
      const progress: { nonFinite: { loss: number; finiteSteps: number } | null } = { nonFinite: null }; // set by a progress read
      let step = 0;
      let lr = 0;
      for (const batch of trainBatches(data, train.batch_size, identity.seed, epoch, augment)) {
        // Let signal handlers run (a synchronous backend never returns to the event loop on its own),
        // then stop between steps: nothing of this epoch has been written, so abandoning it is clean.
        await yieldToEventLoop();
        if (input.signal?.aborted || progress.nonFinite) {
          totals.dispose();
          if (progress.nonFinite) checkFinite(epoch, progress.nonFinite.loss, progress.nonFinite.finiteSteps, lrOfStep);
          throw new RunInterrupted(epoch - 1, Boolean(input.checkpoints));
        }
        lr = lrAt((epoch - 1) * steps + step, schedule);
        model.step = (epoch - 1) * steps + step; // dropout masks follow the global step, across a resume
        totals.add(trainStep(model, optimizer, batch, shape, lr, train.label_smoothing), batch.size);
        step++;
        if (step % progressEvery === 0 && step < steps) {
          const at = {
            epoch,
            step,
            steps,
            lr,
            imagesPerSecond: (step * train.batch_size) / ((performance.now() - t0) / 1000),
          };
          totals.peek(({ loss, acc, finiteSteps }) => {
            if (!Number.isFinite(loss)) progress.nonFinite = { loss, finiteSteps }; // the loop stops before its next step
            for (const s of sinks) s.step?.({ ...at, loss, acc });
          });
          // Lets an earlier progress read land; waits for the event loop, never for the device.
          await new Promise(setImmediate);
        }
      }
      const { loss: trainLoss, acc: trainAcc, seen, finiteSteps } = await totals.finish();
      checkFinite(epoch, trainLoss, finiteSteps, lrOfStep);
      const epochTrainSeconds = (performance.now() - t0) / 1000;
      for (const s of sinks)
        s.step?.({ epoch, step, steps, lr, loss: trainLoss, acc: trainAcc, imagesPerSecond: seen / epochTrainSeconds });
      trainSeconds += epochTrainSeconds;
      lastTrainAcc = trainAcc;

      const evalNow = epoch % config.eval_every === 0 || epoch === train.epochs;
      if (evalNow) {
        for (const s of sinks) s.evaluating?.(epoch);
        try {
          lastEval = await evaluate(model, data, Math.max(train.batch_size, 256), input.signal);
        } catch (err) {
          if (input.signal?.aborted) throw new RunInterrupted(epoch - 1, Boolean(input.checkpoints)); // nothing of this epoch written yet
          throw err;
        }
        // Weights can blow up in the epoch's last steps with every training loss still finite.
        if (!Number.isFinite(lastEval.loss))
          throw new NonFiniteLoss(`validation loss … after epoch ${epoch}`, lastEval.loss, lr);
        if (!best || lastEval.acc > best.acc) best = { acc: lastEval.acc, epoch };
      }
      const row: EpochRow = {
        epoch,
        lr,
        train_loss: trainLoss,
        train_acc: trainAcc,
        val_loss: evalNow ? lastEval!.loss : null,
        val_acc: evalNow ? lastEval!.acc : null,
        best_val_acc: best?.acc ?? null,
        epoch_seconds: (performance.now() - t0) / 1000,
        images_per_second: seen / epochTrainSeconds,
        learnable_params: model.counts.learnable,
        frozen_params: model.counts.frozen,
      };
      // Row first, then checkpoint: a kill in between leaves a row newer than the checkpoint, which a
      // resume truncates (RunRecorder), so metrics.csv and the checkpoint always agree.
      for (const s of sinks) await s.epoch(row);
      await input.checkpoints?.save(model, optimizer, {
        epoch,
        best,
        lastEval,
        lastTrainAcc,
        trainSeconds,
        wallSeconds: earlierWallSeconds + (performance.now() - wallStart) / 1000,
      });
    }
    const summary: RunSummary = {
      ...identity,
      status: 'finished',
      arch: config.model.arch,
      dataset: data.name,
      epochs: train.epochs,
      classes: data.classNames.length,
      final_val_acc: lastEval!.acc,
      final_val_loss: lastEval!.loss,
      best_val_acc: best!.acc,
      best_epoch: best!.epoch,
      final_train_acc: lastTrainAcc,
      params: model.counts,
      backend: input.backend.backend,
      device: input.backend.device,
      backend_skipped: input.backend.skipped ?? [],
      versions: input.versions,
      git_commit: input.gitCommit,
      dataset_source: { mean: data.mean, std: data.std, ...data.source },
      wall_seconds: earlierWallSeconds + (performance.now() - wallStart) / 1000,
      train_images_per_second: (train.epochs * steps * train.batch_size) / trainSeconds,
      finished_at: new Date().toISOString(),
    };
    for (const s of sinks) await s.end(summary);
    return summary;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
