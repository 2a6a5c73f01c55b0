/**
 * The fused train-mode BatchNorm op and its gradient (see src/backends/fused-ops.ts, which also
 * registers the op's gradient) as native kernels of 'cpu-native', and inference BatchNorm (tfjs's
 * FusedBatchNorm kernel, what tf.batchNorm runs in evaluation) in one native pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../fused-ops.js';
import type { NativeAddon } from './addon.js';
import {
  allFloat32,
  jsKernel,
  nativeKernel,
  output,
  outputArray,
  sizeOf,
  values,
  type NativeKernelFunc,
} from './kernel-io.js';

/**
 * FusedBatchNorm with per-channel statistics ([C] mean, variance, offset, scale over x's last
 * axis) in one native pass; any other broadcast (e.g. statistics shaped like x) runs tfjs's kernel.
 */
function inference(addon: NativeAddon): NativeKernelFunc {
  const js = jsKernel(tf.FusedBatchNorm);
  return (args) => {
    const { backend } = args;
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const c = x?.shape[x.shape.length - 1] ?? 0;
    const perChannel = (t: tf.TensorInfo | undefined) => t === undefined || (t.shape.length === 1 && t.shape[0] === c);
    if (
      !x ||
      !mean ||
      !variance ||
      c === 0 ||
      sizeOf(x.shape) === 0 ||
      ![mean, variance, offset, scale].every(perChannel) ||
      !allFloat32(backend, x, mean, variance, offset, scale)
    ) {
      return js(args);
    }
    const epsilon = Number((args.attrs as { varianceEpsilon?: number } | undefined)?.varianceEpsilon ?? 0.001); // tfjs's default
    const y = outputArray(backend, sizeOf(x.shape));
    addon.batchNormInference(
      values(backend, x),
      values(backend, mean),
      values(backend, variance),
      offset ? values(backend, offset) : null,
      scale ? values(backend, scale) : null,
      y,
      epsilon,
    );
    return output(backend, [...x.shape], y);
  };
}

function forward(addon: NativeAddon): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const epsilon = Number((attrs as { epsilon: number }).epsilon);
    const c = x!.shape[x!.shape.length - 1]!;
    // The native loop trusts these sizes; a mismatch would read past gamma/beta.
    if (
      x!.shape.length !== 4 ||
      gamma!.shape.length !== 1 ||
      gamma!.shape[0] !== c ||
      beta!.shape.length !== 1 ||
      beta!.shape[0] !== c
    ) {
      throw new Error(
        `${BATCH_NORM_TRAIN}: x must be NHWC and gamma/beta [${c}], got x [${x!.shape}], gamma [${gamma!.shape}], beta [${beta!.shape}]`,
      );
    }
    if (![x, gamma, beta].every((t) => t!.dtype === 'float32'))
      throw new Error(`${BATCH_NORM_TRAIN}: float32 inputs only`);
    // Statistics over zero elements are undefined (and the native loop would divide by zero).
    if (sizeOf(x!.shape) === 0) throw new Error(`${BATCH_NORM_TRAIN}: empty input x [${x!.shape}]`);
    const y = outputArray(backend, values(backend, x!).length);
    const mean = outputArray(backend, c);
    const variance = outputArray(backend, c);
    addon.batchNormTrain(
      values(backend, x!),
      values(backend, gamma!),
      values(backend, beta!),
      y,
      mean,
      variance,
      epsilon,
    );
    return [output(backend, [...x!.shape], y), output(backend, [c], mean), output(backend, [c], variance)];
  };
}

function backward(addon: NativeAddon): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, gamma, mean, variance, dy, dMean, dVariance } = inputs as Record<string, tf.TensorInfo>;
    const epsilon = Number((attrs as { epsilon: number }).epsilon);
    const c = gamma!.shape[0]!;
    const dx = outputArray(backend, values(backend, x!).length);
    const dGamma = outputArray(backend, c);
    const dBeta = outputArray(backend, c);
    addon.batchNormTrainGrad(
      values(backend, x!),
      values(backend, gamma!),
      values(backend, mean!),
      values(backend, variance!),
      values(backend, dy!),
      values(backend, dMean!),
      values(backend, dVariance!),
      dx,
      dGamma,
      dBeta,
      epsilon,
    );
    return [output(backend, [...x!.shape], dx), output(backend, [c], dGamma), output(backend, [c], dBeta)];
  };
}

export function batchNormKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel(BATCH_NORM_TRAIN, forward(addon)),
    nativeKernel(BATCH_NORM_TRAIN_GRAD, backward(addon)),
    nativeKernel(tf.FusedBatchNorm, inference(addon)),
  ];
}
