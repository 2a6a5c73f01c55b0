/**
 * Native conv kernels: Conv2D, FusedConv2D, their input and filter gradients, and the depthwise
 * family (grouped convs in oneDNN). NHWC only; NCHW, other activations and prelu fall back to JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CONV_GEOMETRY, pack } from './abi.js';
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

type ConvInfo = tf.backend_util.Conv2DInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The geometry native/src/conv.cc's ConvGeometry reads (layout: CONV_GEOMETRY in abi.ts). */
export function packConvGeometry(c: ConvInfo, depthwise: boolean, bias: boolean, relu: boolean): Int32Array {
  const p = c.padInfo;
  return pack(CONV_GEOMETRY, {
    batch: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    inChannels: c.inChannels,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    outChannels: c.outChannels,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    dilationHeight: c.dilationHeight,
    dilationWidth: c.dilationWidth,
    padTop: p.top,
    padLeft: p.left,
    padBottom: p.bottom,
    padRight: p.right,
    groups: depthwise ? c.inChannels : 1,
    bias,
    relu,
  });
}

/**
 * oneDNN derives the output size from input, kernel, stride and padding and rejects a mismatch;
 * tfjs's 'ceil' rounding mode can produce one, so such convs stay in JS. `dy`, when given, must
 * have exactly the output shape the geometry implies: tfjs's conv2dTranspose accepts an input
 * (dy) whose size does not follow from outputShape (e.g. 'same' padding, stride 1, 8x8 dy for a
 * 4x4 output), and its JS kernel reads the part it needs, which a packed dense geometry cannot say.
 */
function oneDnnAccepts(c: ConvInfo, dy?: tf.TensorInfo): boolean {
  if (dy && !tf.util.arraysEqual(dy.shape, c.outShape)) return false;
  // Empty (or, for inputs smaller than the kernel, negative) sizes: oneDNN rejects them and the
  // JS kernel returns the empty tensor or tfjs's own error.
  if ([...c.inShape, ...c.outShape].some((d) => d <= 0)) return false;
  const p = c.padInfo;
  const oh = Math.floor((c.inHeight + p.top + p.bottom - c.effectiveFilterHeight) / c.strideHeight) + 1;
  const ow = Math.floor((c.inWidth + p.left + p.right - c.effectiveFilterWidth) / c.strideWidth) + 1;
  return oh === c.outHeight && ow === c.outWidth;
}

interface ConvAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function info(xShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

function forward(addon: NativeAddon, name: string, depthwise: boolean): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const a = args.attrs as unknown as ConvAttrs;
    const activation = a.activation ?? 'linear';
    if (
      !x ||
      !filter ||
      (a.dataFormat ?? 'NHWC') !== 'NHWC' ||
      preluActivationWeights ||
      (activation !== 'linear' && activation !== 'relu') ||
      !allFloat32(backend, x, filter, bias)
    )
      return js(args);
    const c = info(x.shape, filter.shape, a, depthwise);
    if (!oneDnnAccepts(c) || (bias && sizeOf(bias.shape) !== c.outChannels)) return js(args);
    const out = outputArray(backend, sizeOf(c.outShape));
    addon.convForward(
      values(backend, x),
      values(backend, filter),
      bias ? values(backend, bias) : null,
      out,
      packConvGeometry(c, depthwise, bias !== undefined, activation === 'relu'),
    );
    return output(backend, c.outShape, out);
  };
}

function backpropInput(addon: NativeAddon, name: string, depthwise: boolean): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { dy, filter } = args.inputs;
    const a = args.attrs as unknown as ConvAttrs;
    if (!dy || !filter || !a.inputShape || (a.dataFormat ?? 'NHWC') !== 'NHWC' || !allFloat32(backend, dy, filter))
      return js(args);
    const c = info(a.inputShape, filter.shape, a, depthwise);
    if (!oneDnnAccepts(c, dy)) return js(args);
    const dx = outputArray(backend, sizeOf(a.inputShape));
    addon.convBackwardData(
      values(backend, dy),
      values(backend, filter),
      dx,
      packConvGeometry(c, depthwise, false, false),
    );
    return output(backend, [...a.inputShape], dx);
  };
}

function backpropFilter(addon: NativeAddon, name: string, depthwise: boolean): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { x, dy } = args.inputs;
    const a = args.attrs as unknown as ConvAttrs;
    if (!x || !dy || !a.filterShape || (a.dataFormat ?? 'NHWC') !== 'NHWC' || !allFloat32(backend, x, dy))
      return js(args);
    const c = info(x.shape, a.filterShape, a, depthwise);
    if (!oneDnnAccepts(c, dy)) return js(args);
    const dFilter = outputArray(backend, sizeOf(a.filterShape));
    addon.convBackwardWeights(
      values(backend, x),
      values(backend, dy),
      dFilter,
      packConvGeometry(c, depthwise, false, false),
    );
    return output(backend, [...a.filterShape], dFilter);
  };
}

export function convKernels(addon: NativeAddon): tf.KernelConfig[] {
  const k = (
    name: string,
    make: (addon: NativeAddon, name: string, depthwise: boolean) => NativeKernelFunc,
    depthwise: boolean,
  ) => nativeKernel(name, make(addon, name, depthwise));
  return [
    k(tf.Conv2D, forward, false),
    k(tf.FusedConv2D, forward, false),
    k(tf.Conv2DBackpropInput, backpropInput, false),
    k(tf.Conv2DBackpropFilter, backpropFilter, false),
    k(tf.DepthwiseConv2dNative, forward, true),
    k(tf.FusedDepthwiseConv2D, forward, true),
    k(tf.DepthwiseConv2dNativeBackpropInput, backpropInput, true),
    k(tf.DepthwiseConv2dNativeBackpropFilter, backpropFilter, true),
  ];
}
