/**
 * Native elementwise kernels: broadcasting binary ops, unary ops, AddN. Op codes are abi.ts's
 * (mirroring native/src/abi.h). Non-float32 tensors (int32 indices, bool masks) fall back to JS.
 */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { RELU6_GRAD, RELU_GRAD } from '../fused-ops.js';
import { BINARY_OPS, type BinaryOp, opCode, UNARY_OPS, type UnaryOp } from './abi.js';
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

const BINARY: [string, BinaryOp][] = [
  [tf.Add, 'add'],
  [tf.Sub, 'sub'],
  [tf.Multiply, 'mul'],
  [tf.RealDiv, 'div'],
  [tf.Maximum, 'maximum'],
  [tf.Minimum, 'minimum'],
  [tf.SquaredDifference, 'squaredDifference'],
];

const UNARY: [string, UnaryOp][] = [
  [tf.Relu, 'relu'],
  [tf.Neg, 'neg'],
  [tf.Exp, 'exp'],
  [tf.Log, 'log'],
  [tf.Sqrt, 'sqrt'],
  [tf.Rsqrt, 'rsqrt'],
  [tf.Square, 'square'],
  [tf.Abs, 'abs'],
  [tf.Step, 'step'],
  [tf.Reciprocal, 'reciprocal'],
  [tf.Sigmoid, 'sigmoid'],
  [tf.Tanh, 'tanh'],
  [tf.Relu6, 'relu6'],
  [tf.Erf, 'erf'], // GELU's (ConvNeXt)
];

/**
 * A broadcasting binary op of two float32 tensors (or tfjs's JS kernel where the addon does not
 * apply): the native result as floats in `out`'s array, handed to `finish` for the output tensor.
 */
function broadcastBinary(
  addon: NativeAddon,
  name: string,
  op: BinaryOp,
  finish: (backend: MathBackendCPU, shape: number[], out: Float32Array) => tf.TensorInfo,
  outArray: (backend: MathBackendCPU, length: number) => Float32Array = outputArray,
): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { a, b } = args.inputs;
    if (!a || !b || sizeOf(a.shape) === 0 || sizeOf(b.shape) === 0 || !allFloat32(backend, a, b)) return js(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outArray(backend, sizeOf(outShape));
    addon.binary(
      values(backend, a),
      Int32Array.from(a.shape),
      values(backend, b),
      Int32Array.from(b.shape),
      out,
      Int32Array.from(outShape),
      opCode(BINARY_OPS, op),
    );
    return finish(backend, outShape, out);
  };
}

const binary = (addon: NativeAddon, name: string, op: BinaryOp) => broadcastBinary(addon, name, op, output);

/** relu's (dy · step(x)) or relu6's gradient for same-shape float32 dy and x (what their gradients pass). */
function activationGrad(addon: NativeAddon, op: 'reluGrad' | 'relu6Grad'): NativeKernelFunc {
  return ({ inputs, backend }) => {
    const { dy, x } = inputs as Record<string, tf.TensorInfo>;
    const out = outputArray(backend, sizeOf(x!.shape));
    const shape = Int32Array.from(x!.shape);
    addon.binary(values(backend, dy!), shape, values(backend, x!), shape, out, shape, opCode(BINARY_OPS, op));
    return output(backend, [...x!.shape], out);
  };
}

function unary(addon: NativeAddon, name: string, op: UnaryOp): NativeKernelFunc {
  const js = jsKernel(name);
  return (args) => {
    const { backend } = args;
    const { x } = args.inputs;
    if (!x || !allFloat32(backend, x)) return js(args);
    const xs = values(backend, x);
    const out = outputArray(backend, xs.length);
    const alpha = name === tf.Step ? Number((args.attrs as { alpha?: number } | undefined)?.alpha ?? 0) : 0;
    addon.unary(xs, out, opCode(UNARY_OPS, op), alpha);
    return output(backend, [...x.shape], out);
  };
}

/**
 * Equal of two float32 tensors (broadcasting) into tfjs's bool tensor: the comparison natively, as
 * 0/1 floats, then narrowed to bytes. tf.max's and tf.min's gradients build their mask with it
 * (ResNet-9's global max pool: 25 ms per call in JS on a [64, 4, 4, 128] batch).
 */
function equal(addon: NativeAddon): NativeKernelFunc {
  return broadcastBinary(
    addon,
    tf.Equal,
    'equal',
    (backend, shape, ones) => backend.makeTensorInfo(shape, 'bool', Uint8Array.from(ones)),
    (_backend, length) => new Float32Array(length), // a scratch array: the output is bytes
  );
}

function addN(addon: NativeAddon): NativeKernelFunc {
  const js = jsKernel(tf.AddN);
  return (args) => {
    const { backend } = args;
    const tensors = args.inputs as unknown as tf.TensorInfo[];
    const first = tensors[0];
    if (!first || !allFloat32(backend, ...tensors)) return js(args);
    const out = outputArray(backend, sizeOf(first.shape));
    addon.addN(
      out,
      tensors.map((t) => values(backend, t)),
    );
    return output(backend, [...first.shape], out);
  };
}

export function eltwiseKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    ...BINARY.map(([name, op]) => nativeKernel(name, binary(addon, name, op))),
    ...UNARY.map(([name, op]) => nativeKernel(name, unary(addon, name, op))),
    nativeKernel(tf.AddN, addN(addon)),
    nativeKernel(tf.Equal, equal(addon)),
    nativeKernel(RELU_GRAD, activationGrad(addon, 'reluGrad')),
    nativeKernel(RELU6_GRAD, activationGrad(addon, 'relu6Grad')),
  ];
}
