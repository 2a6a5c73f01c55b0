/**
 * How native kernels see tfjs tensors: the cpu backend keeps each tensor's values in a typed array
 * (backend.data), which the addon reads and writes in place; outputs are registered back with it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { NativeCpuBackend } from './backend.js';

export type NativeKernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: MathBackendCPU;
  attrs?: tf.NamedAttrMap;
}) => tf.TensorInfo | tf.TensorInfo[];

export function values(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

/** True when every tensor is float32 held as a Float32Array, the only case the addon handles. */
export function allFloat32(backend: MathBackendCPU, ...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every(
    (t) => t === undefined || (t.dtype === 'float32' && backend.data.get(t.dataId).values instanceof Float32Array),
  );
}

/** A float32 array for a kernel's output, contents arbitrary (write every element): from the pool
 * on 'cpu-native', fresh on a plain cpu backend. */
export function outputArray(backend: MathBackendCPU, length: number): Float32Array {
  return backend instanceof NativeCpuBackend ? backend.pool.take(length) : new Float32Array(length);
}

export function output(backend: MathBackendCPU, shape: number[], data: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', data);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The pure-JS kernel the native one replaces, for the cases the addon does not handle. */
export function jsKernel(kernelName: string): NativeKernelFunc {
  const config = tf.getKernel(kernelName, 'cpu');
  if (!config) throw new Error(`tfjs cpu backend has no kernel ${kernelName}`);
  return config.kernelFunc as unknown as NativeKernelFunc;
}

/** A kernel config for 'cpu-native'. */
export function nativeKernel(kernelName: string, kernelFunc: NativeKernelFunc): tf.KernelConfig {
  return { kernelName, backendName: 'cpu-native', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
