/**
 * Native BatchMatMul and _FusedMatMul (the classifier head, and tf.layers' dense). Batch dims must
 * match or one side must have a single batch; other broadcasts fall back to JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MATMUL_SHAPE, pack } from './abi.js';
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

function matMul(addon: NativeAddon, name: string): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const {
      transposeA = false,
      transposeB = false,
      activation = 'linear',
    } = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
    };
    if (
      !a ||
      !b ||
      a.shape.length < 2 ||
      b.shape.length < 2 ||
      preluActivationWeights ||
      (activation !== 'linear' && activation !== 'relu') ||
      !allFloat32(backend, a, b, bias)
    )
      return js(args);
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = sizeOf(outerA);
    const batchB = sizeOf(outerB);
    const [m, kA] = transposeA
      ? [a.shape[a.shape.length - 1]!, a.shape[a.shape.length - 2]!]
      : [a.shape[a.shape.length - 2]!, a.shape[a.shape.length - 1]!];
    const [kB, n] = transposeB
      ? [b.shape[b.shape.length - 1]!, b.shape[b.shape.length - 2]!]
      : [b.shape[b.shape.length - 2]!, b.shape[b.shape.length - 1]!];
    const sameBatch = tf.util.arraysEqual(outerA, outerB);
    // The native kernel broadcasts a whole batch of 1 only; a bias must run along the last axis.
    // An empty operand (a zero dim) has no work for oneDNN; the JS kernel returns the empty or zero result.
    if (
      kA !== kB ||
      [batchA, batchB, m, kA, n].includes(0) ||
      !(sameBatch || batchA === 1 || batchB === 1) ||
      (bias && (sizeOf(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n))
    )
      return js(args);
    const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB); // tfjs's own output batch shape
    const outShape = [...outer, m, n];
    const out = outputArray(backend, sizeOf(outShape));
    addon.matMul(
      values(backend, a),
      values(backend, b),
      bias ? values(backend, bias) : null,
      out,
      pack(MATMUL_SHAPE, { batchA, batchB, m, k: kA, n, transposeA, transposeB, relu: activation === 'relu' }),
    );
    return output(backend, outShape, out);
  };
}

export function matMulKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel(tf.BatchMatMul, matMul(addon, tf.BatchMatMul)),
    nativeKernel(tf._FusedMatMul, matMul(addon, tf._FusedMatMul)),
  ];
}
