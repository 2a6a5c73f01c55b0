/**
 * cpu-native's newer native kernels against the composite forms they replace: inference BatchNorm
 * (tfjs's FusedBatchNorm) against the pure-JS cpu kernel, values and gradients; the fused SGD update
 * (LcconvSgdUpdate) against the tf-ops SGD loop over several steps; the parallel BatchNorm loops with
 * 2 threads against 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { SGD_UPDATE } from '../../src/backends/fused-ops.js';
import { loadCpuNative, setNativeThreads } from '../../src/backends/cpu-native/index.js';
import { batchNormTrain } from '../../src/models/batchnorm.js';
import { Sgd } from '../../src/train/sgd.js';
import { assertClose, randomData, rng } from './parity-helpers.js';

const probe = await loadCpuNative();
const skip = probe.ok ? false : `cpu-native unavailable: ${probe.reason}`;

async function onBackend<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

test('inference BatchNorm matches the cpu kernel: values and gradients, with and without offset/scale', {
  skip,
}, async () => {
  for (const [i, shape] of (
    [
      [2, 5, 5, 3],
      [4, 8, 8, 16],
      [1, 1, 1, 1],
      [300, 2, 2, 64],
    ] as [number, number, number, number][]
  ).entries()) {
    const rand = rng(40 + i);
    const c = shape[3];
    const data = {
      x: randomData(rand, shape).map((v) => 2 * v + 0.3),
      mean: randomData(rand, [c]),
      variance: randomData(rand, [c]).map((v) => v + 1.2),
      offset: randomData(rand, [c]),
      scale: randomData(rand, [c]).map((v) => v + 1.5),
    };
    for (const affine of [true, false]) {
      const run = () => {
        const [x, mean, variance, offset, scale] = [
          tf.tensor(data.x, shape),
          ...[data.mean, data.variance, data.offset, data.scale].map((d) => tf.tensor1d(d)),
        ] as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
          tf.batchNorm4d(
            a as tf.Tensor4D,
            m as tf.Tensor1D,
            v as tf.Tensor1D,
            affine ? (o as tf.Tensor1D) : undefined,
            affine ? (s as tf.Tensor1D) : undefined,
            1e-5,
          );
        const y = f(x, mean, variance, offset, scale);
        const dy = tf.tensor(randomData(rng(7), shape), shape);
        // tfjs's own batchNorm gradient needs offset and scale, so gradients only in the affine case.
        const grads = affine
          ? tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
              tf.sum(tf.mul(f(a, m, v, o, s), dy)),
            )([x, mean, variance, offset, scale])
          : [];
        const out = [y, ...grads].map((t) => t.dataSync() as Float32Array);
        tf.dispose([x, mean, variance, offset, scale, y, dy, ...grads]);
        return out;
      };
      const native = await onBackend('cpu-native', run);
      const js = await onBackend('cpu', run);
      const names = ['y', 'dx', 'dmean', 'dvariance', 'doffset', 'dscale'];
      native.forEach((v, k) => {
        assertClose(v, js[k]!, `[${shape}] affine=${affine} ${names[k]}`, 1e-5, 1e-4);
      });
    }
  }
});

test('inference BatchNorm runs natively for per-channel statistics and falls back for others', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const x = tf.tensor(randomData(rng(3), [2, 3, 3, 4]), [2, 3, 3, 4]) as tf.Tensor4D;
  const stats = tf.tensor(
    randomData(rng(4), [2, 3, 3, 4]).map((v) => v + 2),
    [2, 3, 3, 4],
  ) as tf.Tensor4D; // shaped like x
  const full = tf.batchNorm4d(x, stats, stats);
  const expected = await onBackend('cpu', () => tf.batchNorm4d(x, stats, stats).dataSync() as Float32Array);
  await tf.setBackend('cpu-native');
  assertClose(full.dataSync() as Float32Array, expected, 'statistics shaped like x');
  assert.notEqual(
    tf.getKernel(tf.FusedBatchNorm, 'cpu-native')?.kernelFunc,
    tf.getKernel(tf.FusedBatchNorm, 'cpu')?.kernelFunc,
    'a native kernel is registered',
  );
  const ones = tf.ones([4]) as tf.Tensor1D;
  const info = await tf.profile(() => tf.batchNorm4d(x, ones, ones).dispose());
  assert.ok(
    info.kernels.some((k) => k.name === tf.FusedBatchNorm),
    'one FusedBatchNorm kernel, not a composite',
  );
  tf.dispose([x, stats, full, ones]);
});

/** Parameters and gradients of a few shapes, as tensors on the active backend. */
function problem(seed: number) {
  const rand = rng(seed);
  const shapes = [[3, 3, 2, 4], [4], [5, 3], [1]];
  return {
    params: new Map(
      shapes.map((s, i) => [
        `p${i}`,
        tf.variable(tf.tensor(randomData(rand, s), s), true, `sgd-test-${seed}-${i}-${Math.random()}`),
      ]),
    ),
    grads: shapes.map((s) => Array.from({ length: 3 }, () => tf.tensor(randomData(rand, s), s))), // 3 steps per parameter
  };
}

async function sgdRun(
  backend: string,
  options: ConstructorParameters<typeof Sgd>[0],
  seed: number,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const { params, grads } = problem(seed);
  const sgd = new Sgd(options);
  try {
    for (let step = 0; step < 3; step++) {
      const byName = new Map([...params.keys()].map((name, i) => [name, grads[i]![step]!]));
      byName.delete('p3'); // a parameter without a gradient keeps its value
      tf.tidy(() => sgd.step(params, byName, 0.1 / (step + 1)));
    }
    return [
      ...[...params.values()].map((p) => p.dataSync() as Float32Array),
      ...[...sgd.buffers.values()].map((b) => b.dataSync() as Float32Array),
    ];
  } finally {
    sgd.dispose();
    tf.dispose([...params.values(), ...grads.flat()]);
  }
}

test('the native SGD update matches the tf-ops composite (on cpu) over 3 steps (momentum, Nesterov, weight decay)', {
  skip,
}, async () => {
  for (const options of [
    { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    { momentum: 0.9, nesterov: false, weightDecay: 0 },
    { momentum: 0.5, nesterov: true, weightDecay: 0.1 },
    { momentum: 0, nesterov: false, weightDecay: 5e-4 },
  ]) {
    const fused = await sgdRun('cpu-native', options, 11);
    const composite = await sgdRun('cpu', options, 11);
    assert.equal(fused.length, composite.length);
    fused.forEach((v, i) => {
      assertClose(v, composite[i]!, `${JSON.stringify(options)} tensor ${i}`, 1e-6, 1e-5);
    });
  }
});

test('Sgd.step runs the native kernel once per step on cpu-native, no elementwise kernels', { skip }, async () => {
  const kernelsOn = async (backend: string) => {
    await tf.setBackend(backend);
    const { params, grads } = problem(5);
    const sgd = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const byName = new Map([...params.keys()].map((name, i) => [name, grads[i]![0]!]));
    const info = await tf.profile(() => tf.tidy(() => sgd.step(params, byName, 0.1)));
    sgd.dispose();
    tf.dispose([...params.values(), ...grads.flat()]);
    return info.kernels.map((k) => k.name);
  };
  const native = await kernelsOn('cpu-native');
  assert.equal(native.filter((k) => k === SGD_UPDATE).length, 1);
  assert.ok(!native.some((k) => ['Add', 'Multiply', 'Sub'].includes(k)), native.join(', '));
  assert.notEqual(tf.getKernel(SGD_UPDATE, 'cpu-native')?.kernelFunc, tf.getKernel(SGD_UPDATE, 'cpu')?.kernelFunc);
});

test('the fused SGD kernel rejects mismatched inputs with an error, not a crash', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const [p, g, m] = [tf.zeros([3]), tf.zeros([4]), tf.zeros([3])];
  const attrs = { n: 1, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 } as unknown as tf.NamedAttrMap;
  assert.throws(() => tf.engine().runKernel(SGD_UPDATE, { p0: p, g0: g, m0: m }, attrs), /must have one shape/);
  assert.throws(() => tf.engine().runKernel(SGD_UPDATE, { p0: p, m0: m }, attrs), /expected 3·n = 3 inputs/);
  assert.throws(
    () => tf.engine().runKernel(SGD_UPDATE, { p0: p, g0: p, x0: m }, attrs),
    /inputs p0, g0 and m0 are required/,
  );
  assert.throws(
    () =>
      tf
        .engine()
        .runKernel(SGD_UPDATE, { p0: p, g0: p, m0: m }, { ...attrs, lr: Number.NaN } as unknown as tf.NamedAttrMap),
    /lr must be a finite number/,
  );
  tf.dispose([p, g, m]);
});

test('BatchNorm with 2 threads gives the 1-thread result', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const shape: [number, number, number, number] = [64, 16, 16, 16]; // above the parallel threshold
  const x = tf.tensor(
    randomData(rng(9), shape).map((v) => 3 * v + 1),
    shape,
  ) as tf.Tensor4D;
  const gamma = tf.tensor1d(randomData(rng(10), [16]).map((v) => v + 1.5));
  const beta = tf.tensor1d(randomData(rng(11), [16]));
  const run = (threads: number) => {
    setNativeThreads(threads);
    const [y, ...grads] = [
      batchNormTrain(x, gamma, beta, 1e-5).y,
      ...tf.grads((a: tf.Tensor, g: tf.Tensor) =>
        tf.sum(tf.square(batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, beta, 1e-5).y)),
      )([x, gamma]),
    ];
    const out = [y!, ...grads].map((t) => t.dataSync() as Float32Array);
    tf.dispose([y!, ...grads]);
    return out;
  };
  try {
    const one = run(1);
    const two = run(2);
    two.forEach((v, i) => {
      assertClose(v, one[i]!, `output ${i}`, 1e-5, 1e-5);
    });
  } finally {
    setNativeThreads(1);
    tf.dispose([x, gamma, beta]);
  }
});
