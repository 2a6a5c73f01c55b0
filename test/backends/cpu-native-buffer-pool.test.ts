/**
 * The pool of native kernel output arrays (src/backends/cpu-native/buffer-pool.ts): arrays are
 * reused only while the backend is their sole holder, so reading a tensor out, slicing it or
 * registering its array twice keeps that array out of the pool, and a training step computes the
 * same values with reuse (freed arrays NaN-poisoned) as tfjs's own cpu backend does without it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BufferPool } from '../../src/backends/cpu-native/buffer-pool.js';

process.env.LCCONV_POOL_POISON = '1'; // read when the backend is constructed
const { loadCpuNative } = await import('../../src/backends/cpu-native/index.js');
const { NativeCpuBackend } = await import('../../src/backends/cpu-native/backend.js');
const { batchNormTrain } = await import('../../src/models/batchnorm.js');
const { randomData, rng } = await import('./parity-helpers.js');

const probe = await loadCpuNative();
const skip = probe.ok ? false : `cpu-native unavailable: ${probe.reason}`;

test('BufferPool reuses a released array of the same length, and only a live whole one', () => {
  const pool = new BufferPool(1 << 20);
  const a = pool.take(16);
  pool.released(a); // never registered: not the pool's to reuse
  assert.notEqual(pool.take(16), a);
  const b = pool.take(16);
  pool.registered(b);
  pool.released(b);
  assert.equal(pool.take(8).length, 8, 'another length is a new array');
  assert.equal(pool.take(16), b, 'same length: reused');
  assert.deepEqual(
    { taken: pool.stats().taken, reused: pool.stats().reused, pooledBytes: pool.stats().pooledBytes },
    { taken: 5, reused: 1, pooledBytes: 0 },
  );
});

test('BufferPool: an array read out, registered twice or aliased by a view escapes for good', () => {
  const pool = new BufferPool(1 << 20);
  const cases: [string, (x: Float32Array) => void][] = [
    ['read out', (x) => pool.readOut(x)],
    ['registered twice', (x) => pool.registered(x)],
    ['a view registered', (x) => pool.registered(x.subarray(2, 6))],
  ];
  for (const [name, letEscape] of cases) {
    const x = pool.take(32);
    pool.registered(x);
    letEscape(x);
    pool.released(x);
    assert.notEqual(pool.take(32), x, name);
  }
  assert.equal(pool.stats().escaped, 3);
  const view = pool.take(32);
  pool.registered(view.subarray(0, 4)); // first registration already a view
  pool.released(view);
  assert.notEqual(pool.take(32), view);
});

test('BufferPool keeps at most its byte limit and poisons what it keeps', () => {
  const pool = new BufferPool(100, true);
  const [a, b] = [pool.take(20), pool.take(20)]; // 80 bytes each
  for (const x of [a, b]) {
    x.fill(1);
    pool.registered(x);
    pool.released(x);
  }
  assert.equal(pool.stats().pooledBytes, 80, 'the second array would exceed 100 bytes');
  const again = pool.take(20);
  assert.equal(again, a);
  assert.ok(again.every(Number.isNaN), 'a freed array is NaN-filled in poison mode');
});

/** Several tensors of `shape` from native kernels, to take whatever the pool holds. */
function churn(shape: number[], times = 4): void {
  for (let i = 0; i < times; i++) tf.tidy(() => void tf.relu(tf.add(tf.ones(shape), i)));
}

test('values read out of a tensor survive its disposal and later kernels', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const x = tf.tensor1d(Float32Array.from({ length: 64 }, (_, i) => i - 32));
  for (const read of ['dataSync', 'data', 'bufferSync'] as const) {
    const y = tf.relu(x);
    const out =
      read === 'dataSync' ? y.dataSync() : read === 'data' ? await y.data() : (y.bufferSync().values as Float32Array);
    const expected = Float32Array.from(out);
    y.dispose();
    churn([64]);
    assert.deepEqual(out, expected, `${read} result changed after dispose`);
  }
  x.dispose();
});

test('a slice (a view of its input) survives the disposal of its input', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const x = tf.tensor1d(Float32Array.from({ length: 64 }, (_, i) => i));
  const y = tf.add(x, 1); // a pooled native output
  const head = tf.slice(y, [0], [16]); // tfjs's cpu Slice: a subarray of y's array
  y.dispose();
  churn([64]);
  assert.deepEqual(
    [...head.dataSync()],
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  tf.dispose([x, head]);
});

test('training steps reuse arrays and match the plain cpu backend', { skip }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const rand = rng(7);
    const init = (shape: number[]) =>
      tf.variable(
        tf.tensor(
          randomData(rand, shape).map((v) => v * 0.3),
          shape,
        ),
      );
    const w1 = init([3, 3, 2, 8]) as tf.Variable<tf.Rank.R4>;
    const w2 = init([3, 3, 8, 8]) as tf.Variable<tf.Rank.R4>;
    const fc = init([8, 5]) as tf.Variable<tf.Rank.R2>;
    const gamma = tf.variable(tf.ones([8])) as tf.Variable<tf.Rank.R1>;
    const beta = tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>;
    const x = tf.tensor4d(randomData(rand, [6, 8, 8, 2]), [6, 8, 8, 2]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5);
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      losses.push(
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const h = tf.relu(batchNormTrain(tf.conv2d(x, w1, 1, 'same'), gamma, beta, 1e-5).y);
            const r = tf.relu(tf.add(h, tf.conv2d(h, w2, 1, 'same')));
            return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.mean(r, [1, 2]) as tf.Tensor2D, fc));
          });
          for (const [name, g] of Object.entries(grads)) {
            const v = tf.engine().registeredVariables[name]!;
            v.assign(tf.sub(v, tf.mul(g, 0.1)));
          }
          return value.dataSync()[0]!;
        }),
      );
    }
    const weights = [...(await w2.data())];
    tf.dispose([w1, w2, fc, gamma, beta, x, labels]);
    return { losses, weights };
  };
  const plain = await run('cpu');
  const pooled = await run('cpu-native');
  const backend = tf.findBackend('cpu-native');
  assert.ok(backend instanceof NativeCpuBackend);
  assert.ok(backend.pool.stats().reused > 50, `arrays were not reused: ${JSON.stringify(backend.pool.stats())}`);
  for (let i = 0; i < plain.losses.length; i++)
    assert.ok(
      Math.abs(plain.losses[i]! - pooled.losses[i]!) < 1e-4,
      `step ${i}: ${plain.losses[i]} vs ${pooled.losses[i]}`,
    );
  const worst = Math.max(...plain.weights.map((w, i) => Math.abs(w - pooled.weights[i]!)));
  assert.ok(worst < 1e-4, `weights differ by ${worst}`);
});
