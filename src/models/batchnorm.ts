/**
 * Train-mode BatchNorm over NHWC activations: normalise with the batch's statistics.
 * Returns the batch mean and biased variance too, for the caller's running-statistics update.
 * Where the active backend implements the fused op (cpu-native), one kernel with its own gradient
 * replaces ~25 autodiff passes per layer; elsewhere the composite form below is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN } from '../backends/fused-ops.js';

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Per-channel batch mean, shape [C]. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance, shape [C]. */
  variance: tf.Tensor1D;
}

export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) && x.dtype === 'float32') {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
    return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return batchNormTrainComposite(x, gamma, beta, epsilon);
}

/** Composite form: moments + batchNorm; autodiff derives the gradient. Exported for parity tests. */
export function batchNormTrainComposite(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const moments = tf.moments(x, [0, 1, 2]);
  const mean = moments.mean as tf.Tensor1D;
  const variance = moments.variance as tf.Tensor1D;
  const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
  return { y, mean, variance };
}
