/**
 * Train-mode BatchNorm over NHWC activations: normalise with the batch's statistics, and return
 * the batch mean and biased variance for the caller's running-statistics update. The model calls
 * the fused op (src/backends/fused-ops.ts): one kernel per backend, composite where none is native.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchNormTrainResult } from '../backends/fused-ops.js';

export { batchNormTrain, type BatchNormTrainResult, runningUpdate } from '../backends/fused-ops.js';

/** tfjs's own ops, differentiated by autodiff: the reference the fused kernels are tested against. */
export function batchNormTrainComposite(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainResult {
  const moments = tf.moments(x, [0, 1, 2]);
  const mean = moments.mean as tf.Tensor1D;
  const variance = moments.variance as tf.Tensor1D;
  const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
  return { y, mean, variance };
}
