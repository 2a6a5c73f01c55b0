/**
 * Resource bounds of 'cpu-native': no tensor leaks across training-like steps (conv, fused BN,
 * relu, residual add, pooling, dense, softmax cross-entropy, SGD update), and a primitive cache
 * that stays within its limit while results stay correct after evictions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadCpuNative, nativeCacheStats, setNativeCacheLimit } from '../../src/backends/cpu-native/index.js';
import { batchNormTrain } from '../../src/models/batchnorm.js';
import { randomData, rng } from './parity-helpers.js';

const probe = await loadCpuNative();
const skip = probe.ok ? false : `cpu-native unavailable: ${probe.reason}`;

test('numTensors is stable across training steps', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const rand = rng(3);
  const v = <R extends tf.Rank>(shape: number[]) =>
    tf.variable(
      tf.tensor(
        randomData(rand, shape).map((x) => x * 0.3),
        shape,
      ),
    ) as unknown as tf.Variable<R>;
  const w1 = v<tf.Rank.R4>([3, 3, 3, 8]),
    w2 = v<tf.Rank.R4>([3, 3, 8, 8]),
    wDown = v<tf.Rank.R4>([1, 1, 8, 16]),
    wFc = v<tf.Rank.R2>([16, 10]);
  const g1 = tf.variable(tf.ones([8])) as tf.Variable<tf.Rank.R1>,
    b1 = tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>;
  const x = tf.tensor4d(randomData(rand, [4, 8, 8, 3]), [4, 8, 8, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 5, 9], 'int32'), 10);
  const lr = 0.01;
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.relu(batchNormTrain(tf.conv2d(x, w1, 1, 'same'), g1, b1, 1e-5).y);
        const r = tf.relu(tf.add(h, tf.conv2d(h, w2, 1, 'same'))) as tf.Tensor4D;
        const down = tf.conv2d(r, wDown, 2, 'valid');
        const pooled = tf.mean(down, [1, 2]) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(labels, tf.matMul(pooled, wFc));
      });
      for (const [name, g] of Object.entries(grads)) {
        const variable = tf.engine().registeredVariables[name]!;
        variable.assign(tf.sub(variable, tf.mul(g, lr)));
      }
      return value.dataSync()[0]!;
    });
  const losses = [step(), step()]; // burn-in: first calls may create lasting state
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) losses.push(step());
  assert.equal(tf.memory().numTensors, before, 'tensors leaked across steps');
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses.at(-1)! < losses[0]!, `loss did not fall: ${losses.join(', ')}`);
  tf.dispose([w1, w2, wDown, wFc, g1, b1, x, labels]);
});

test('the primitive cache stays within its limit and evicted shapes still compute correctly', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const original = nativeCacheStats().limit;
  try {
    setNativeCacheLimit(4);
    const rand = rng(4);
    const first = tf.tensor4d(randomData(rand, [1, 6, 6, 2]), [1, 6, 6, 2]);
    const f = tf.tensor4d(randomData(rand, [3, 3, 2, 2]), [3, 3, 2, 2]);
    const reference = tf.conv2d(first, f, 1, 'same').dataSync().slice();
    const before = nativeCacheStats();
    for (let size = 7; size < 17; size++) {
      tf.tidy(() => tf.conv2d(tf.zeros([1, size, size, 2]) as tf.Tensor4D, f, 1, 'same').dataSync());
      const stats = nativeCacheStats();
      assert.ok(stats.size <= 4, `cache grew to ${stats.size} with limit 4`);
    }
    // 10 new shapes into a cache of 4 that held `before.size`: all but the free places evicted something.
    assert.ok(
      nativeCacheStats().evictions - before.evictions >= 10 - (4 - Math.min(before.size, 4)),
      'shapes beyond the limit were not evicted',
    );
    assert.deepEqual(tf.conv2d(first, f, 1, 'same').dataSync(), reference);
    tf.dispose([first, f]);
  } finally {
    setNativeCacheLimit(original);
  }
  assert.equal(nativeCacheStats().limit, original);
});
