/**
 * The fused SGD update (src/backends/fused-ops.ts SGD_UPDATE) as a 'cpu-native' kernel: one native
 * call per step over every parameter instead of ~6 small kernels per parameter.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SGD_UPDATE } from '../fused-ops.js';
import type { NativeAddon } from './addon.js';
import { nativeKernel, output, outputArray, sizeOf, values, type NativeKernelFunc } from './kernel-io.js';

interface SgdAttrs {
  n: number;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

function sgdUpdate(addon: NativeAddon): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { n, lr, momentum, nesterov, weightDecay } = attrs as unknown as SgdAttrs;
    const named = inputs as Record<string, tf.TensorInfo | undefined>;
    // The native loop trusts these: three float32 tensors of one shape per parameter.
    if (!Number.isInteger(n) || n < 0 || Object.keys(named).length !== 3 * n)
      throw new Error(
        `${SGD_UPDATE}: expected 3·n = ${3 * n} inputs (p, g, m per parameter), got ${Object.keys(named).length}`,
      );
    for (const [name, v] of [
      ['lr', lr],
      ['momentum', momentum],
      ['weightDecay', weightDecay],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`${SGD_UPDATE}: attr ${name} must be a finite number, got ${v}`);
    }
    const lists = {
      p: [] as Float32Array[],
      g: [] as Float32Array[],
      m: [] as Float32Array[],
      po: [] as Float32Array[],
      mo: [] as Float32Array[],
    };
    const shapes: number[][] = [];
    for (let i = 0; i < n; i++) {
      const [p, g, m] = [named[`p${i}`], named[`g${i}`], named[`m${i}`]];
      if (!p || !g || !m) throw new Error(`${SGD_UPDATE}: parameter ${i}: inputs p${i}, g${i} and m${i} are required`);
      if (!tf.util.arraysEqual(p.shape, g.shape) || !tf.util.arraysEqual(p.shape, m.shape)) {
        throw new Error(
          `${SGD_UPDATE}: parameter ${i}: p [${p.shape}], g [${g.shape}] and m [${m.shape}] must have one shape`,
        );
      }
      if (![p, g, m].every((t) => t.dtype === 'float32' && backend.data.get(t.dataId).values instanceof Float32Array))
        throw new Error(`${SGD_UPDATE}: parameter ${i}: float32 tensors only`);
      lists.p.push(values(backend, p));
      lists.g.push(values(backend, g));
      lists.m.push(values(backend, m));
      lists.po.push(outputArray(backend, sizeOf(p.shape)));
      lists.mo.push(outputArray(backend, sizeOf(p.shape)));
      shapes.push([...p.shape]);
    }
    addon.sgdUpdate(lists.p, lists.g, lists.m, lists.po, lists.mo, lr, momentum, Boolean(nesterov), weightDecay);
    return shapes.flatMap((shape, i) => [output(backend, shape, lists.po[i]!), output(backend, shape, lists.mo[i]!)]);
  };
}

export function sgdKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [nativeKernel(SGD_UPDATE, sgdUpdate(addon))];
}
