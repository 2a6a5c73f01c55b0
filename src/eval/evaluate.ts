/**
 * Robustness evaluation of one trained model on one split: clean accuracy, FGSM / PGD (L∞) /
 * PGD-L2 robust accuracy per ε, and accuracy on the built-in corruptions per severity. Returns plain
 * rows; writing eval.csv and printing are the caller's. All reads use `await data()` (the webgpu
 * backend cannot read synchronously).
 *
 * Counting: an image counts as correct under an attack only if it is classified correctly both
 * clean and adversarially (AutoAttack's convention), so robust accuracy never exceeds clean.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalConfig } from '../config/schema.js';
import type { Dataset, ImageSplit } from '../data/dataset.js';
import { permutation } from '../data/batches.js';
import { rngFor } from '../random.js';
import type { Model } from '../models/index.js';
import { correctMask, fgsm, pgdRobustMask, type Classifier, type PgdOptions } from './attacks.js';
import { corruptImages } from './corruptions.js';
import { CIFAR_C_CORRUPTIONS, type AttackName, type CorruptionName } from '../config/names.js';
import { evalRowKey, type EvalMetric, type EvalRow } from '../runs/eval-csv.js';
import { readCorrupted } from '../data/cifar-c.js';

/**
 * The images evaluated: all of the split, or `images` of them chosen from the eval seed (the same
 * for every run), with their positions in the split.
 */
export function selectImages(
  split: ImageSplit,
  pixels: number,
  images: number | 'all',
  seed: number,
): { split: ImageSplit; indices: number[] } {
  if (images === 'all' || images >= split.count)
    return { split, indices: Array.from({ length: split.count }, (_, i) => i) };
  const chosen = Array.from(permutation(split.count, rngFor(seed, 'eval/images')).subarray(0, images)).sort(
    (a, b) => a - b,
  );
  const out = new Uint8Array(images * pixels);
  chosen.forEach((index, i) => {
    out.set(split.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
  });
  return {
    split: { images: out, labels: Uint8Array.from(chosen, (index) => split.labels[index]!), count: images },
    indices: chosen,
  };
}

/** The model as a classifier of [0,1] images: the run's per-channel normalisation is its first op. */
export function pixelClassifier(
  model: Model,
  data: Pick<Dataset, 'mean' | 'std'>,
): { classify: Classifier; dispose: () => void } {
  const mean = tf.tensor1d(data.mean);
  const std = tf.tensor1d(data.std);
  return {
    classify: (x) => model.forward(tf.div(tf.sub(x, mean), std) as tf.Tensor4D, false),
    dispose: () => tf.dispose([mean, std]),
  };
}

interface Evaluation {
  name: string;
  metric: EvalMetric;
  epsilon?: number;
  severity?: number;
  iterative?: boolean;
  /** Images to classify instead of the clean ones (corruptions). */
  images?: () => Uint8Array;
  /** Correct-and-robust mask of one batch (attacks). */
  robust?: (x: tf.Tensor4D, y: tf.Tensor1D, batchStart: number) => tf.Tensor1D;
}

/** Where the published corrupted test set (CIFAR-10-C / CIFAR-100-C) is, when it applies to a run. */
export interface CorruptedTestSet {
  dir: string;
  perSeverity: number;
}

/** Everything `config` asks for, in the order rows are written. */
function plan(
  config: EvalConfig,
  split: ImageSplit,
  indices: number[],
  shape: { height: number; width: number; channels: number },
  classify: Classifier,
  published?: CorruptedTestSet,
): Evaluation[] {
  const evaluations: Evaluation[] = [{ name: 'clean', metric: 'clean' }];
  const pgdFor = (name: AttackName, epsilon: number): PgdOptions => ({
    norm: name === 'pgd_l2' ? 'l2' : 'linf',
    epsilon,
    steps: config.steps,
    stepSize: (config.step_size * epsilon) / config.steps,
    randomStart: true,
  });
  for (const attack of config.attacks) {
    const epsilons = attack === 'pgd_l2' ? config.l2_epsilons : config.linf_epsilons.map((e) => e / 255);
    for (const epsilon of epsilons) {
      const robust =
        attack === 'fgsm'
          ? (x: tf.Tensor4D, y: tf.Tensor1D) =>
              tf.tidy(
                () =>
                  tf.mul(
                    correctMask(classify, x, y),
                    correctMask(classify, fgsm(classify, x, y, epsilon), y),
                  ) as tf.Tensor1D,
              )
          : (x: tf.Tensor4D, y: tf.Tensor1D, start: number) =>
              pgdRobustMask(
                classify,
                x,
                y,
                pgdFor(attack, epsilon),
                config.restarts,
                rngFor(config.seed, `eval/${attack}/${epsilon}/${start}`),
              );
      evaluations.push({ name: attack, metric: 'adversarial', epsilon, iterative: attack !== 'fgsm', robust });
    }
  }
  for (const name of config.corruptions) {
    for (const severity of config.severities) {
      evaluations.push({
        name,
        metric: 'corruption',
        severity,
        images: () => corruptImages(name as CorruptionName, severity, split.images, split.count, shape, config.seed),
      });
    }
  }
  if (published) {
    for (const name of CIFAR_C_CORRUPTIONS) {
      for (const severity of config.severities) {
        evaluations.push({
          name,
          metric: 'cifar-c',
          severity,
          images: () => readCorrupted(published.dir, name, severity, indices, published.perSeverity),
        });
      }
    }
  }
  return evaluations;
}

export interface EvaluateOptions {
  /** Called after each row (progress, and saving it at once). */
  onRow?: (row: EvalRow) => void;
  /** Rows measured before (eval.csv), by evalRowKey: an evaluation with the same key is not run again, its row is reused. */
  measured?: Map<string, EvalRow>;
  /** After each setting, measured or reused: how many of how many are done (progress and ETA). */
  onProgress?: (done: number, total: number, row: EvalRow, reused: boolean) => void;
  /** The published corrupted test set, evaluated too (only on the test split it was made from). */
  published?: CorruptedTestSet;
}

/**
 * Evaluates `model` on `data.test` (which is the val_split hold-out when the run used one, as
 * loadDataset arranges) with the evaluations `config` selects.
 */
export async function evaluateRobustness(
  model: Model,
  data: Dataset,
  split: 'test' | 'val',
  config: EvalConfig,
  options: EvaluateOptions = {},
): Promise<EvalRow[]> {
  const shape = { height: data.height, width: data.width, channels: data.channels };
  const pixels = shape.height * shape.width * shape.channels;
  const { split: images, indices } = selectImages(data.test, pixels, config.images, config.seed);
  const { classify, dispose } = pixelClassifier(model, data);
  const rows: EvalRow[] = [];
  try {
    const evaluations = plan(
      config,
      images,
      indices,
      shape,
      classify,
      split === 'test' ? options.published : undefined,
    );
    for (const evaluation of evaluations) {
      const setting: Omit<EvalRow, 'accuracy'> = {
        metric: evaluation.metric,
        name: evaluation.name,
        epsilon: evaluation.epsilon ?? null,
        severity: evaluation.severity ?? null,
        steps: evaluation.iterative ? config.steps : null,
        restarts: evaluation.iterative ? config.restarts : null,
        n: images.count,
        split,
        seed: config.seed,
      };
      const earlier = options.measured?.get(evalRowKey(setting));
      if (earlier) {
        rows.push(earlier); // measured by an earlier (perhaps interrupted) evaluation
        options.onProgress?.(rows.length, evaluations.length, earlier, true);
        continue;
      }
      const source = evaluation.images?.() ?? images.images;
      let correct = 0;
      for (let start = 0; start < images.count; start += config.batch_size) {
        const size = Math.min(config.batch_size, images.count - start);
        const hits = tf.tidy(() => {
          const x = tf.tensor4d(
            Float32Array.from(source.subarray(start * pixels, (start + size) * pixels), (v) => v / 255),
            [size, shape.height, shape.width, shape.channels],
          );
          const y = tf.tensor1d(Int32Array.from(images.labels.subarray(start, start + size)), 'int32');
          return tf.sum(evaluation.robust ? evaluation.robust(x, y, start) : correctMask(classify, x, y));
        });
        correct += (await hits.data())[0]!;
        hits.dispose();
        // Back to the event loop after every batch (a CPU backend's data() resolves at once), so a
        // Ctrl-C is seen within one batch.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const row: EvalRow = { ...setting, accuracy: correct / images.count };
      rows.push(row);
      options.onRow?.(row);
      options.onProgress?.(rows.length, evaluations.length, row, false);
    }
  } finally {
    dispose();
  }
  return rows;
}
