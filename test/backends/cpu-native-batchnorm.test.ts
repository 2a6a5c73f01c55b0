/**
 * The fused train-mode BatchNorm op of 'cpu-native' against the composite form (moments +
 * batchNorm under autodiff), values and gradients for x, gamma, beta, including losses that read
 * the batch mean and variance. Tolerance |fused - composite| <= 1e-4 + 1e-3·|composite|: the
 * composite gradient sums ~25 float32 passes, the fused one accumulates in double.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../src/backends/fused-ops.js';
import { loadCpuNative } from '../../src/backends/cpu-native/index.js';
import { batchNormTrain, batchNormTrainComposite } from '../../src/models/batchnorm.js';
import { assertClose, randomData, rng } from './parity-helpers.js';

const probe = await loadCpuNative();
const skip = probe.ok ? false : `cpu-native unavailable: ${probe.reason}`;
const EPS = 1e-5;

type Bn = typeof batchNormTrain;
/** A loss that uses y and, optionally, the statistics, so every output's gradient path is exercised. */
function lossOf(bn: Bn, useStats: boolean, dy: tf.Tensor) {
  return (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    const { y, mean, variance } = bn(x as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, EPS);
    const main = tf.sum(tf.mul(y, dy));
    return useStats ? tf.add(main, tf.add(tf.sum(tf.mul(mean, 0.7)), tf.sum(tf.mul(variance, -1.3)))) : main;
  };
}

async function compare(backend: string, shape: [number, number, number, number], useStats: boolean, seed: number) {
  await tf.setBackend(backend);
  const rand = rng(seed);
  const c = shape[3];
  // An offset mean and a non-unit scale, as real activations have.
  const x = tf.tensor(
    randomData(rand, shape).map((v) => 3 * v + 0.5),
    shape,
  );
  const gamma = tf.tensor(
    randomData(rand, [c]).map((v) => v + 1.5),
    [c],
  );
  const beta = tf.tensor(randomData(rand, [c]), [c]);
  const dy = tf.tensor(randomData(rand, shape), shape);
  const results = [batchNormTrain, batchNormTrainComposite].map((bn) => {
    const out = bn(x as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, EPS);
    const values = [out.y, out.mean, out.variance].map((t) => t.dataSync() as Float32Array);
    const grads = tf.grads(lossOf(bn, useStats, dy))([x, gamma, beta]);
    const gradValues = grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose([out.y, out.mean, out.variance, ...grads]);
    return { values, gradValues };
  });
  tf.dispose([x, gamma, beta, dy]);
  return { fused: results[0]!, composite: results[1]! };
}

test('cpu-native registers native fused kernels; a backend without them gets the composite kernel', {
  skip,
}, async () => {
  const native = tf.getKernel(BATCH_NORM_TRAIN, 'cpu-native');
  assert.ok(native);
  await tf.setBackend('cpu');
  tf.dispose(
    Object.values(
      batchNormTrain(
        tf.ones([1, 2, 2, 3]) as tf.Tensor4D,
        tf.ones([3]) as tf.Tensor1D,
        tf.zeros([3]) as tf.Tensor1D,
        EPS,
      ),
    ),
  );
  const composite = tf.getKernel(BATCH_NORM_TRAIN, 'cpu');
  assert.ok(composite && composite.kernelFunc !== native.kernelFunc);
});

test('fused BatchNorm matches the composite form: values and gradients', { skip }, async () => {
  for (const [i, shape] of (
    [
      [4, 5, 5, 3],
      [2, 8, 8, 16],
      [32, 4, 4, 8],
      [1, 3, 3, 1],
    ] as [number, number, number, number][]
  ).entries()) {
    for (const useStats of [false, true]) {
      const { fused, composite } = await compare('cpu-native', shape, useStats, 10 + i);
      const names = ['y', 'mean', 'variance'];
      fused.values.forEach((v, k) => {
        assertClose(v, composite.values[k]!, `[${shape}] ${names[k]}`, 1e-4, 1e-3);
      });
      const gradNames = ['dx', 'dgamma', 'dbeta'];
      fused.gradValues.forEach((g, k) => {
        assertClose(g, composite.gradValues[k]!, `[${shape}] stats=${useStats} ${gradNames[k]}`, 1e-4, 1e-3);
      });
    }
  }
});

test('batchNormTrain runs as one op everywhere: native kernels on cpu-native, the composite kernel on cpu', {
  skip,
}, async () => {
  const kernelsOn = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([2, 4, 4, 3]) as tf.Tensor4D;
    const gamma = tf.ones([3]) as tf.Tensor1D,
      beta = tf.zeros([3]) as tf.Tensor1D;
    const info = await tf.profile(() =>
      tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(batchNormTrain(a as tf.Tensor4D, gamma, beta, EPS).y))([x])),
    );
    tf.dispose([x, gamma, beta]);
    return new Set(info.kernels.map((k) => k.name));
  };
  const native = await kernelsOn('cpu-native');
  assert.ok(native.has(BATCH_NORM_TRAIN), 'fused forward ran');
  assert.ok(native.has(BATCH_NORM_TRAIN_GRAD), `fused gradient ran: ${[...native].join(', ')}`);
  assert.ok(
    !native.has(tf.Mean) && !native.has(tf.Rsqrt),
    `no composite internals on cpu-native: ${[...native].join(', ')}`,
  );
  const plain = await kernelsOn('cpu');
  assert.ok(
    plain.has(BATCH_NORM_TRAIN) && plain.has(BATCH_NORM_TRAIN_GRAD),
    `the same ops on cpu: ${[...plain].join(', ')}`,
  );
});

test('mismatched gamma/beta sizes are rejected before reaching native code', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const x = tf.zeros([2, 3, 3, 4]) as tf.Tensor4D;
  const gamma = tf.ones([3]) as tf.Tensor1D,
    beta = tf.zeros([3]) as tf.Tensor1D;
  assert.throws(() => batchNormTrain(x, gamma, beta, EPS), /gamma\/beta \[4\]/);
  tf.dispose([x, gamma, beta]);
});
