/**
 * Native max pooling (native/src/pool.cc): MaxPool and MaxPoolGrad, NHWC float32, tfjs's cpu
 * semantics (first maximum, the gradient to it). tfjs's JavaScript MaxPoolGrad dominated a ResNet-9
 * training step (1.2 s of 1.4 s at batch 64, docs/benchmarks.md). Anything else falls back to JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { packConvGeometry } from './conv-kernels.js';
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

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInfo(x: tf.TensorInfo, a: PoolAttrs): tf.backend_util.Conv2DInfo | null {
  const c = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  return [...c.inShape, ...c.outShape].some((d) => d <= 0) ? null : c;
}

function maxPool(addon: NativeAddon): NativeKernelFunc {
  const js = jsKernel(tf.MaxPool);
  return (args) => {
    const { backend } = args;
    const { x } = args.inputs;
    if (!x || x.shape.length !== 4 || !allFloat32(backend, x)) return js(args);
    const c = poolInfo(x, args.attrs as unknown as PoolAttrs);
    // tfjs's kernel returns its input for a 1×1 window when the shape stays, whatever the stride and padding.
    if (!c || (c.filterHeight === 1 && c.filterWidth === 1 && tf.util.arraysEqual(c.inShape, c.outShape)))
      return js(args);
    const out = outputArray(backend, sizeOf(c.outShape));
    addon.maxPool(values(backend, x), out, packConvGeometry(c, false, false, false));
    return output(backend, c.outShape, out);
  };
}

function maxPoolGrad(addon: NativeAddon): NativeKernelFunc {
  const js = jsKernel(tf.MaxPoolGrad);
  return (args) => {
    const { backend } = args;
    const { dy, input } = args.inputs;
    if (!dy || !input || input.shape.length !== 4 || !allFloat32(backend, dy, input)) return js(args);
    const c = poolInfo(input, args.attrs as unknown as PoolAttrs);
    if (!c || !tf.util.arraysEqual(dy.shape, c.outShape)) return js(args);
    const dx = outputArray(backend, sizeOf(input.shape));
    addon.maxPoolGrad(values(backend, dy), values(backend, input), dx, packConvGeometry(c, false, false, false));
    return output(backend, [...input.shape], dx);
  };
}

export function poolKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [nativeKernel(tf.MaxPool, maxPool(addon)), nativeKernel(tf.MaxPoolGrad, maxPoolGrad(addon))];
}
