/**
 * Train-mode BatchNorm over NHWC activations: normalise with the batch's statistics.
 * Returns the batch mean and biased variance too, for the caller's running-statistics update.
 */
import * as tf from '@tensorflow/tfjs';

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Per-channel batch mean, shape [C]. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance, shape [C]. */
  variance: tf.Tensor1D;
}

/** Composite form: moments + batchNorm; autodiff derives the gradient. */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const moments = tf.moments(x, [0, 1, 2]);
  const mean = moments.mean as tf.Tensor1D;
  const variance = moments.variance as tf.Tensor1D;
  const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
  return { y, mean, variance };
}
