/**
 * Shared by the cpu-native tests: seeded random data, running one function on a named backend
 * (values and gradients), and an elementwise closeness check with an explicit tolerance.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/backends/tfjs-runtime.js'; // the cpu backend and gradients, without selectBackend

/** mulberry32: a tiny seeded generator, so a failing case reproduces exactly. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomData(rand: () => number, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}

export function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

export interface Input {
  shape: number[];
  data: Float32Array;
}

export interface Run {
  value: Float32Array;
  shape: number[];
  grads: Float32Array[];
}

/**
 * Evaluates f on `backend` with fresh tensors made from `inputs`; gradients of sum(f * dy) with
 * respect to every input, dy drawn from `dySeed` so both backends see the same upstream gradient.
 */
export async function runOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Input[],
  dySeed: number,
  withGrads = true,
): Promise<Run> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} failed to initialise`);
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape, 'float32'));
  const y = f(...xs);
  const dy = tf.tensor(randomData(rng(dySeed), y.shape), y.shape, 'float32');
  const grads = withGrads ? tf.grads((...args: tf.Tensor[]) => f(...args))(xs, dy) : [];
  const run = {
    value: y.dataSync() as Float32Array,
    shape: y.shape,
    grads: grads.map((g) => g.dataSync() as Float32Array),
  };
  tf.dispose([...xs, y, dy, ...grads]);
  return run;
}

/** |a - b| <= atol + rtol * |b| elementwise; names the first offending index. */
export function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  atol = 1e-4,
  rtol = 1e-4,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: index ${i}: cpu-native ${a} vs cpu ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

export interface ParityOptions {
  atol?: number;
  rtol?: number;
  /** false where tfjs itself has no gradient for the case (dilated conv, broadcast maximum / matMul batch). */
  grads?: boolean;
}

/** Runs f on pure-JS 'cpu' and on 'cpu-native' and compares values and all gradients. */
export async function assertParity(
  what: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Input[],
  seed: number,
  opts: ParityOptions = {},
): Promise<void> {
  const { atol = 1e-4, rtol = 1e-4, grads = true } = opts;
  const expected = await runOn('cpu', f, inputs, seed, grads);
  const actual = await runOn('cpu-native', f, inputs, seed, grads);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assertClose(actual.value, expected.value, `${what}: value`, atol, rtol);
  expected.grads.forEach((g, i) => {
    assertClose(actual.grads[i]!, g, `${what}: gradient of input ${i}`, atol, rtol);
  });
}
