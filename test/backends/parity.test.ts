/**
 * WebGPU parity with the pure-JS cpu backend: same seed, same batch → same logits, loss and
 * gradient of every learnable weight, for each freeze mode and an LC block; frozen and shared
 * filters get no filter gradient on either backend. Runs on Mesa's software adapter where there is
 * no GPU (CI installs libegl1 libegl-mesa0 libgles2).
 *
 * tfjs has one engine: a model is built once on cpu, computed there, then `setBackend('webgpu')`
 * and computed again; its variables move to the GPU when first read. Never the other way: the
 * webgpu backend cannot read synchronously in Node, so no test moves GPU data back to cpu.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { releaseBackends, selectBackend } from '../../src/backends/index.js';
import { loadWebGpu } from '../../src/backends/webgpu.js';
import type { Batch } from '../../src/data/batches.js';
import { buildModel, type Model } from '../../src/models/index.js';
import { Sgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/trainer.js';
import { tinyConfig } from '../fixtures.js';

/**
 * Agreement per tensor: |webgpu − cpu| ≤ ATOL + RTOL·max|cpu|. Float32 kernels that sum in a
 * different order (tiled GPU reductions vs sequential JS loops) differ by a few ulps per add; the
 * largest difference measured on Mesa llvmpipe was 2.1e-6 of max|cpu| (with RTOL = ATOL = 0 every
 * case fails, so the comparison is real); 1e-4 leaves margin and still catches a wrong kernel.
 */
const RTOL = 1e-4;
const ATOL = 1e-6;

const CLASSES = 4;
const shape = { height: 8, width: 8, channels: 3, classes: 4 };
const batch: Batch = {
  x: Float32Array.from({ length: 8 * 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.37)),
  y: Int32Array.from({ length: 8 }, (_, i) => i % CLASSES),
  size: 8,
};

const MODELS = [
  { name: 'learned', overrides: ['freeze=learned'] },
  { name: 'frozen', overrides: ['freeze=frozen'] },
  { name: 'shared', overrides: ['freeze=shared'] },
  { name: 'LC E=4 frozen', overrides: ['freeze=frozen', 'model.lc_expansion=4'] },
];

let skip: string | false = false;
before(async () => {
  const probe = await loadWebGpu();
  // Only "no adapter at all" skips; a Dawn that loads but fails later is a failure.
  if (!probe.ok && /no adapter/.test(probe.reason)) skip = `WebGPU: ${probe.reason} (fix: ${probe.fix})`;
  else if (!probe.ok) throw new Error(`webgpu probe failed: ${probe.reason}`);
  // Run every kernel on the GPU, also the small ones tfjs would otherwise hand to its CPU kernels.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
});
after(releaseBackends);

interface Outputs {
  logits: Float32Array;
  loss: number;
  grads: Map<string, Float32Array>;
  filterGradKernels: number;
}

/** Forward in training mode, loss as the trainer computes it, gradients of every learnable weight. */
async function compute(model: Model): Promise<Outputs> {
  const learnable = [...model.params.learnable.values()];
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, 8, 8, 3]);
      const onehot = tf.oneHot(tf.tensor1d(batch.y, 'int32'), CLASSES);
      let logits: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        logits = tf.keep(model.forward(x, true));
        return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0.1) as tf.Scalar;
      }, learnable);
      return { logits: logits!, loss: value, grads };
    });
  let out!: ReturnType<typeof run>;
  const profile = await tf.profile(() => {
    out = run();
    return [out.logits, out.loss, ...Object.values(out.grads)];
  });
  const grads = new Map<string, Float32Array>();
  for (const [name, v] of model.params.learnable) grads.set(name, (await out.grads[v.name]!.data()) as Float32Array);
  const result = {
    logits: (await out.logits.data()) as Float32Array,
    loss: (await out.loss.data())[0]!,
    grads,
    filterGradKernels: profile.kernels.filter((k) => k.name === 'Conv2DBackpropFilter').length,
  };
  tf.dispose([out.logits, out.loss, ...Object.values(out.grads)]);
  return result;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  const tol = ATOL + RTOL * scale;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    assert.ok(
      d <= tol,
      `${what}[${i}]: webgpu ${actual[i]} vs cpu ${expected[i]} (|Δ| ${d.toExponential(2)} > ${tol.toExponential(2)})`,
    );
  }
}

for (const { name, overrides } of MODELS) {
  test(`${name}: logits, loss and every learnable gradient agree on cpu and webgpu; filter gradients only for learned convs`, async (t) => {
    if (skip) return t.skip(skip);
    await selectBackend('cpu');
    const model = buildModel(tinyConfig(overrides), { channels: 3, classes: CLASSES }, 0);
    try {
      const cpu = await compute(model);
      await selectBackend('webgpu');
      assert.equal(tf.getBackend(), 'webgpu');
      const gpu = await compute(model);

      assertClose(gpu.logits, cpu.logits, 'logits');
      assertClose([gpu.loss], [cpu.loss], 'loss');
      assert.deepEqual([...gpu.grads.keys()], [...cpu.grads.keys()]);
      for (const [param, g] of cpu.grads) assertClose(gpu.grads.get(param)!, g, `grad ${param}`);

      // One Conv2DBackpropFilter per learnable conv weight (4-D): none for frozen or shared filters.
      const learnedConvs = [...model.params.learnable.values()].filter((v) => v.rank === 4).length;
      assert.equal(cpu.filterGradKernels, learnedConvs, 'cpu filter-gradient kernels');
      assert.equal(gpu.filterGradKernels, learnedConvs, 'webgpu filter-gradient kernels');
      if (name !== 'learned') assert.ok(learnedConvs < [...model.params.learnable.values()].length);
    } finally {
      model.dispose();
    }
  });
}

test('one trainStep (SGD, Nesterov, weight decay) gives the same weights on cpu and webgpu', async (t) => {
  if (skip) return t.skip(skip);
  const config = tinyConfig(['freeze=shared', 'model.lc_expansion=2']);
  const weightsAfterStep = async (backend: 'cpu' | 'webgpu') => {
    await selectBackend(backend);
    const model = buildModel(config, { channels: 3, classes: CLASSES }, 0);
    const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    for (let i = 0; i < 2; i++) tf.dispose(Object.values(trainStep(model, opt, batch, shape, 0.1, 0.1)));
    const weights = new Map<string, Float32Array>();
    for (const [name, v] of model.params.learnable) weights.set(name, (await v.data()) as Float32Array);
    opt.dispose();
    model.dispose();
    return weights;
  };
  const cpu = await weightsAfterStep('cpu');
  const gpu = await weightsAfterStep('webgpu');
  for (const [param, w] of cpu) assertClose(gpu.get(param)!, w, param);
});
