/**
 * Native Sum, Mean and Max over any axes (per-channel BN statistics, pooling means, the gradients of
 * broadcasts). Only float32 in and out; int32 sums keep their JS kernel and dtype.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opCode, REDUCE_OPS, type ReduceOp } from './abi.js';
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

const REDUCE: [string, ReduceOp, 'axis' | 'reductionIndices'][] = [
  [tf.Sum, 'sum', 'axis'],
  [tf.Mean, 'mean', 'axis'],
  [tf.Max, 'max', 'reductionIndices'],
];

function reduce(addon: NativeAddon, name: string, op: ReduceOp, axisAttr: string): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { x } = args.inputs;
    const attrs = (args.attrs ?? {}) as Record<string, unknown>;
    if (!x || sizeOf(x.shape) === 0 || !allFloat32(backend, x)) return js(args);
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const [reducedShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outShape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    const mask = Int32Array.from(x.shape, (_, i) => (axes.includes(i) ? 1 : 0));
    const out = outputArray(backend, sizeOf(outShape));
    addon.reduce(values(backend, x), Int32Array.from(x.shape), mask, out, opCode(REDUCE_OPS, op));
    return output(backend, outShape, out);
  };
}

export function reduceKernels(addon: NativeAddon): tf.KernelConfig[] {
  return REDUCE.map(([name, op, axisAttr]) => nativeKernel(name, reduce(addon, name, op, axisAttr)));
}
