/**
 * The fused ops on every backend that runs them — the composite kernel (cpu), the WGSL kernels
 * (webgpu, Mesa's software adapter in CI) and oneDNN (cpu-native, where built) — against
 * independent references: tfjs's own ops differentiated by autodiff for BatchNorm, and the
 * formulas evaluated in plain JavaScript (float64) for the Relu gradient and the SGD update.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork } from '../../src/backends/device-counters.js';
import {
  BATCH_NORM_TRAIN,
  RELU6_GRAD,
  RELU_GRAD,
  runningUpdate,
  SGD_UPDATE,
  sgdUpdate,
} from '../../src/backends/fused-ops.js';
import { releaseBackends, selectBackend } from '../../src/backends/index.js';
import { loadWebGpu } from '../../src/backends/webgpu.js';
import { batchNormTrain, batchNormTrainComposite } from '../../src/models/batchnorm.js';
import { randomData, rng } from './parity-helpers.js';

const backends: string[] = ['cpu'];
/** How a failure names the webgpu backend: with the Dawn backend under it (dawn-backend.test.ts runs both). */
let webgpuLabel = 'webgpu';
const label = (backend: string) => (backend === 'webgpu' ? webgpuLabel : backend);
before(async () => {
  const probe = await loadWebGpu();
  if (probe.ok) {
    backends.push('webgpu');
    webgpuLabel = `webgpu (Dawn ${probe.details?.dawn_backend})`;
  } else if (!/no adapter/.test(probe.reason)) throw new Error(`webgpu probe failed: ${probe.reason}`);
  if (
    await selectBackend('cpu-native').then(
      () => true,
      () => false,
    )
  )
    backends.push('cpu-native');
});
after(releaseBackends);

/** |a − e| ≤ atol + rtol·max|e|: float32 sums in another order differ by a few ulps of the largest value. */
function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-5,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    assert.ok(d <= atol + rtol * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (|Δ| ${d.toExponential(2)})`);
  }
}

const read = async (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data())));

/** Values y, mean, variance and gradients of a loss that uses all three, for x, gamma, beta. */
async function batchNormOn(backend: string, bn: typeof batchNormTrain, shape: number[], seed: number) {
  await selectBackend(backend as 'cpu');
  const rand = rng(seed);
  const c = shape[3]!;
  const x = tf.tensor4d(
    randomData(rand, shape).map((v) => 3 * v + 0.5),
    shape as [number, number, number, number],
  );
  const gamma = tf.tensor(
    randomData(rand, [c]).map((v) => v + 1.5),
    [c],
  ) as tf.Tensor1D;
  const beta = tf.tensor(randomData(rand, [c]), [c]) as tf.Tensor1D;
  const dy = tf.tensor(randomData(rand, shape), shape);
  const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { y, mean, variance } = bn(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
    return tf.add(tf.sum(tf.mul(y, dy)), tf.add(tf.sum(tf.mul(mean, 0.7)), tf.sum(tf.mul(variance, -1.3))));
  };
  const out = bn(x, gamma, beta, 1e-5);
  const grads = tf.grads(loss)([x, gamma, beta]);
  const values = await read([out.y, out.mean, out.variance, ...grads]);
  tf.dispose([x, gamma, beta, dy, out.y, out.mean, out.variance, ...grads]);
  return values;
}

test('fused BatchNorm (values and gradients) matches tfjs autodiff on every backend', async () => {
  const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
  // M = N·H·W from below one workgroup (18) to several strides of it (1,152); odd channel counts.
  for (const [i, shape] of [
    [2, 3, 3, 5],
    [8, 12, 12, 3],
    [4, 8, 8, 16],
  ].entries()) {
    const expected = await batchNormOn('cpu', batchNormTrainComposite, shape, 40 + i);
    for (const backend of backends) {
      const actual = await batchNormOn(backend, batchNormTrain, shape, 40 + i);
      actual.forEach((v, k) => {
        assertClose(v, expected[k]!, `${label(backend)} [${shape}] ${names[k]}`);
      });
    }
  }
});

test('the Relu gradient (fused RELU_GRAD) is dy where x > 0, else 0, on every backend', async () => {
  const rand = rng(7);
  const xs = randomData(rand, [3, 37]);
  xs[0] = 0; // relu'(0) = 0, as tfjs's step
  const dys = randomData(rand, [3, 37]);
  const expected = Array.from(xs, (x, i) => (x > 0 ? dys[i]! : 0));
  for (const backend of backends) {
    await selectBackend(backend as 'cpu');
    const x = tf.tensor(xs, [3, 37]);
    const dy = tf.tensor(dys, [3, 37]);
    const info = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.relu(a))(x, dy));
    const [g] = await read([info.result as tf.Tensor]);
    assertClose(g!, expected, `${label(backend)} relu gradient`, 0, 0);
    assert.ok(
      info.kernels.some((k) => k.name === RELU_GRAD),
      `${backend}: ran ${RELU_GRAD}`,
    );
    tf.dispose([x, dy, info.result as tf.Tensor]);
  }
});

test("Relu6's gradient (fused RELU6_GRAD) is dy where 0 < x <= 6, else 0, as tfjs's own, on every backend", async () => {
  const rand = rng(8);
  const xs = randomData(rand, [3, 37]).map((v) => 8 * v + 3); // both sides of 0 and of 6
  [xs[0], xs[1], xs[2]] = [0, 6, 6.5]; // relu6'(0) = 0, relu6'(6) = 1 (lessEqual), above 6 = 0
  const dys = randomData(rand, [3, 37]);
  const expected = Array.from(xs, (x, i) => (x > 0 && x <= 6 ? dys[i]! : 0));
  for (const backend of backends) {
    await selectBackend(backend as 'cpu');
    const x = tf.tensor(xs, [3, 37]);
    const dy = tf.tensor(dys, [3, 37]);
    const info = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.relu6(a))(x, dy));
    const forward = tf.relu6(x);
    const [g, y] = await read([info.result as tf.Tensor, forward]);
    assertClose(g!, expected, `${label(backend)} relu6 gradient`, 0, 0);
    assertClose(
      y!,
      Array.from(xs, (v) => Math.min(Math.max(v, 0), 6)),
      `${label(backend)} relu6`,
      0,
      0,
    );
    assert.ok(
      info.kernels.some((k) => k.name === RELU6_GRAD),
      `${label(backend)}: ran ${RELU6_GRAD}`,
    );
    tf.dispose([x, dy, forward, info.result as tf.Tensor]);
  }
});

/** torch.optim.SGD in float64. */
function sgdReference(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  o: { lr: number; momentum: number; nesterov: boolean; weightDecay: number },
) {
  const next = Array.from(p, (pi, i) => o.momentum * m[i]! + g[i]! + o.weightDecay * pi);
  const param = Array.from(p, (pi, i) => {
    const d = g[i]! + o.weightDecay * pi;
    return pi - o.lr * (o.nesterov ? d + o.momentum * next[i]! : next[i]!);
  });
  return { param, next };
}

test('fused SGD update matches torch.optim.SGD math on every backend, and on webgpu takes 2 dispatches per parameter', async () => {
  const rand = rng(3);
  const shapes = [[3, 3, 4, 8], [8], [17, 5]];
  const data = shapes.map((s) => [randomData(rand, s), randomData(rand, s), randomData(rand, s)] as const);
  for (const options of [
    { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    { lr: 0.05, momentum: 0.5, nesterov: false, weightDecay: 0 },
  ]) {
    for (const backend of backends) {
      await selectBackend(backend as 'cpu');
      const triples = data.map(
        ([p, g, m], i) =>
          [tf.tensor(p, shapes[i]), tf.tensor(g, shapes[i]), tf.tensor(m, shapes[i])] as [
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
          ],
      );
      const counter = backend === 'webgpu' ? countDeviceWork() : null;
      const out = sgdUpdate(triples, options);
      counter?.stop();
      if (counter) assert.equal(counter.counts.dispatches, 2 * shapes.length, label(backend));
      for (const [i, [p, m]] of out.entries()) {
        const ref = sgdReference(...data[i]!, options);
        const [pv, mv] = await read([p, m]);
        assertClose(pv!, ref.param, `${label(backend)} ${JSON.stringify(options)} p${i}'`);
        assertClose(mv!, ref.next, `${label(backend)} ${JSON.stringify(options)} m${i}'`);
      }
      tf.dispose([...triples.flat(), ...out.flat()]);
    }
  }
  assert.ok(
    tf.getKernel(SGD_UPDATE, 'cpu') && tf.getKernel(BATCH_NORM_TRAIN, 'cpu'),
    'composite kernels registered on cpu',
  );
});

test("BatchNorm's running-statistics update (fused RUNNING_UPDATE) is keep·running + take·batch on every backend, one dispatch on webgpu", async () => {
  const rand = rng(11);
  const running = randomData(rand, [24]);
  const batch = randomData(rand, [24]).map((v) => v * 4);
  const attrs = { keep: 0.9, take: (0.1 * 50) / 49 };
  const expected = Array.from(running, (r, i) => attrs.keep * r + attrs.take * batch[i]!);
  for (const backend of backends) {
    await selectBackend(backend as 'cpu');
    const [r, b] = [tf.tensor(running), tf.tensor(batch)];
    const counter = backend === 'webgpu' ? countDeviceWork() : null;
    const out = runningUpdate(r, b, attrs);
    counter?.stop();
    if (counter) assert.equal(counter.counts.dispatches, 1, `one dispatch on ${label(backend)}`);
    const [values] = await read([out]);
    assertClose(values!, expected, `${label(backend)} running update`, 1e-6, 1e-7);
    // The composite is the update as it was written before it was one op: the same bits.
    const composite = tf.add(tf.mul(r, attrs.keep), tf.mul(b, attrs.take));
    if (backend !== 'webgpu')
      assert.deepEqual(values, (await read([composite]))[0], `${label(backend)}: the ops it replaced, bit for bit`);
    tf.dispose([r, b, out, composite]);
  }
});
