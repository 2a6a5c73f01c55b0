import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfigText } from '../../src/config/load.js';
import type { FreezeMode } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { estimateFootprint } from '../../src/models/footprint.js';
import { buildNetwork, checkModelFits, planNetwork, spatialConvsOf, type ModelSpec } from '../../src/models/index.js';
import { cifarBlocksPerStage } from '../../src/models/registry.js';
import { ARCH_NAMES } from '../../src/config/names.js';
import { Sgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/trainer.js';

tf.env().set('PROD', true);

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  arch: 'resnet20',
  width: 16,
  kernelSize: 3,
  lcExpansion: 1,
  lcDepthwise: false,
  lcCompute: 'auto',
  freeze: 'learned',
  init: 'kaiming_uniform',
  spatialInit: { kind: 'iid', scheme: 'kaiming_uniform' },
  inChannels: 3,
  numClasses: 10,
  seed: 0,
  ...over,
});

/**
 * Independent count of a CIFAR ResNet's weights from its shape alone (no model built):
 * spatial filters, LC 1×1 combiners, shortcut 1×1 convs, BN γ/β, classifier.
 */
function formulaCounts(s: ModelSpec): { spatial: number; other: number } {
  const n = cifarBlocksPerStage(s.arch)!;
  const W = s.width,
    k = s.kernelSize,
    E = s.lcExpansion;
  const lc = E > 1 || s.lcDepthwise;
  const conv = (i: number, o: number) => (s.lcDepthwise ? k * k * i * E : k * k * i * (lc ? o * E : o));
  const combine = (i: number, o: number) => (lc ? (s.lcDepthwise ? i * E * o : o * E * o) : 0);
  let spatial = conv(s.inChannels, W);
  let other = combine(s.inChannels, W) + 2 * W;
  let inC = W;
  for (let stage = 0; stage < 3; stage++) {
    const out = W * 2 ** stage;
    for (let b = 0; b < n; b++) {
      spatial += conv(inC, out) + conv(out, out);
      other += combine(inC, out) + combine(out, out) + 4 * out;
      if (inC !== out) other += inC * out + 2 * out; // 1×1 shortcut + BN
      inC = out;
    }
  }
  other += 4 * W * s.numClasses + s.numClasses;
  return { spatial, other };
}

test('registry depths of the CIFAR ResNets are 6n+2, as named', () => {
  const cifar = ARCH_NAMES.filter((a) => cifarBlocksPerStage(a) !== null);
  assert.deepEqual(
    cifar.map((a) => `resnet${6 * cifarBlocksPerStage(a)! + 2}`),
    ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110'],
  );
});

test('ResNet-20 parameter counts match the PyTorch reference at k = 3, 5, 7, 9', () => {
  const reference: Record<number, number> = { 3: 272_474, 5: 748_378, 7: 1_462_234, 9: 2_414_042 };
  for (const [k, count] of Object.entries(reference)) {
    const m = buildNetwork(spec({ kernelSize: Number(k) }));
    assert.equal(m.counts.learnable, count, `k=${k}`);
    assert.equal(m.counts.buffers, 1568);
    m.dispose();
  }
});

test('frozen ResNet-20 learns 4,778 weights; its 267,696 spatial weights are frozen', () => {
  const m = buildNetwork(spec({ freeze: 'frozen' }));
  assert.deepEqual(
    [m.counts.learnable, m.counts.frozen, m.counts.total, m.counts.stored],
    [4778, 267_696, 272_474, 272_474],
  );
  m.dispose();
});

test('counts follow the formula for every freeze mode, k, E and depthwise', () => {
  for (const freeze of ['learned', 'frozen', 'shared'] as FreezeMode[])
    for (const [k, E, dw] of [
      [3, 1, false],
      [5, 1, false],
      [3, 4, false],
      [3, 2, true],
      [1, 1, false],
    ] as const) {
      const s = spec({ arch: 'resnet8', width: 4, freeze, kernelSize: k, lcExpansion: E, lcDepthwise: dw });
      const { spatial, other } = formulaCounts(s);
      const m = buildNetwork(s);
      const frozen = freeze !== 'learned' && k > 1;
      const label = `${freeze} k=${k} E=${E} dw=${dw}`;
      assert.equal(m.counts.total, spatial + other, label);
      assert.equal(m.counts.learnable, frozen ? other : spatial + other, label);
      assert.equal(m.counts.frozen, frozen ? spatial : 0, label);
      if (freeze === 'shared' && frozen) {
        // one bank [k, k, max in, max out] over all spatial filters
        const shapes = spatialConvsOf(s).map((c) =>
          c.depthwise ? [c.inChannels, c.lcExpansion] : [c.inChannels, E > 1 || dw ? c.outChannels * E : c.outChannels],
        );
        const bank = k * k * Math.max(...shapes.map((x) => x[0]!)) * Math.max(...shapes.map((x) => x[1]!));
        assert.equal(m.counts.stored, other + bank, label);
      } else {
        assert.equal(m.counts.stored, m.counts.total, label);
      }
      m.dispose();
    }
});

test('shared mode holds exactly one frozen tensor: the bank', () => {
  const m = buildNetwork(spec({ arch: 'resnet8', width: 4, freeze: 'shared', lcExpansion: 2 }));
  assert.equal(m.params.frozen.size, 0);
  assert.ok(m.params.shared);
  assert.deepEqual(m.params.shared.tensor.shape, [3, 3, 16, 32]);
  m.dispose();
});

test('every arch and mode: forward gives finite [B, classes] logits', () => {
  for (const arch of ['resnet8', 'resnet14'] as const)
    for (const freeze of ['learned', 'frozen', 'shared'] as FreezeMode[]) {
      const m = buildNetwork(spec({ arch, width: 4, freeze, lcExpansion: 2, inChannels: 1, numClasses: 3 }));
      tf.tidy(() => {
        for (const training of [true, false]) {
          const y = m.forward(tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D, training);
          assert.deepEqual(y.shape, [2, 3]);
          assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
        }
      });
      m.dispose();
    }
});

const tinyShape = { height: 8, width: 8, channels: 3, classes: 4 };
const batch = (seed: number) => ({
  x: Float32Array.from({ length: 8 * 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.37 + seed)),
  y: Int32Array.from({ length: 8 }, (_, i) => i % 4),
  size: 8,
});

function snapshot(tensors: Iterable<[string, tf.Tensor]>): Map<string, Float32Array> {
  return new Map([...tensors].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
}

for (const freeze of ['frozen', 'shared'] as FreezeMode[]) {
  test(`${freeze}: spatial filters unchanged bit-for-bit after training steps; 1×1, BN and FC change`, () => {
    const m = buildNetwork(spec({ arch: 'resnet8', width: 4, freeze, lcExpansion: 2, numClasses: 4 }));
    const frozenBefore = snapshot(freeze === 'shared' ? [['bank', m.params.shared!.tensor]] : m.params.frozen);
    const learnBefore = snapshot(m.params.learnable);
    const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    for (let i = 0; i < 3; i++) tf.dispose(Object.values(trainStep(m, opt, batch(i), tinyShape, 0.1, 0.1)));
    for (const [name, after] of snapshot(freeze === 'shared' ? [['bank', m.params.shared!.tensor]] : m.params.frozen)) {
      assert.deepEqual(after, frozenBefore.get(name), `${name} changed`);
    }
    const after = snapshot(m.params.learnable);
    for (const name of [
      'stem.conv.combine.weight',
      'stem.bn.weight',
      'stage2.block1.shortcut.conv.weight',
      'fc.weight',
      'fc.bias',
    ]) {
      assert.notDeepEqual(after.get(name), learnBefore.get(name), `${name} did not change`);
    }
    opt.dispose();
    m.dispose();
  });
}

test('learned: spatial filters change', () => {
  const m = buildNetwork(spec({ arch: 'resnet8', width: 4, numClasses: 4 }));
  const before = m.params.learnable.get('stage1.block1.conv1.weight')!.dataSync().slice();
  const opt = new Sgd({ momentum: 0.9, nesterov: false, weightDecay: 0 });
  tf.dispose(Object.values(trainStep(m, opt, batch(0), tinyShape, 0.1, 0)));
  assert.notDeepEqual(m.params.learnable.get('stage1.block1.conv1.weight')!.dataSync(), before);
  opt.dispose();
  m.dispose();
});

test('no filter gradient is computed for frozen convs: Conv2DBackpropFilter runs only for learned 1×1 convs', async () => {
  const m = buildNetwork(spec({ arch: 'resnet8', width: 4, freeze: 'frozen', numClasses: 4 }));
  const opt = new Sgd({ momentum: 0, nesterov: false, weightDecay: 0 });
  const info = await tf.profile(() => tf.dispose(Object.values(trainStep(m, opt, batch(0), tinyShape, 0.1, 0))));
  const filterGrads = info.kernels.filter((k) => k.name === 'Conv2DBackpropFilter');
  // resnet8 has two learned 1×1 shortcut convs (stages 2 and 3) and 7 frozen 3×3 convs
  assert.equal(filterGrads.length, 2);
  opt.dispose();
  m.dispose();
});

test('same seed, same weights; different seed, different weights', () => {
  const a = buildNetwork(spec({ arch: 'resnet8', width: 4 }));
  const b = buildNetwork(spec({ arch: 'resnet8', width: 4 }));
  const c = buildNetwork(spec({ arch: 'resnet8', width: 4, seed: 1 }));
  const w = (m: typeof a) => m.params.learnable.get('stage1.block1.conv1.weight')!.dataSync();
  assert.deepEqual(w(a), w(b));
  assert.notDeepEqual(w(a), w(c));
  // Kaiming-uniform a=√5: |w| ≤ 1/√fan_in, fan_in = 4·3·3
  assert.ok(Array.from(w(a)).every((v) => Math.abs(v) <= 1 / 6));
  for (const m of [a, b, c]) m.dispose();
});

test('the footprint estimate counts exactly the weights of the plan before anything is built, in every family', () => {
  for (const [arch, width, kernelSize, lcExpansion, lcDepthwise] of [
    ['resnet20', 16, 3, 1, false],
    ['resnet8', 4, 5, 4, false],
    ['resnet8', 4, 3, 2, true],
    ['resnet18', 4, 3, 2, false],
    ['resnet50', 4, 5, 1, false],
    ['resnet34', 2, 3, 2, true],
    ['vgg11_bn', 4, 3, 4, false],
    ['vgg16_bn', 2, 7, 1, false],
  ] as const) {
    const s = spec({ arch, width, kernelSize, lcExpansion, lcDepthwise });
    const model = buildNetwork(s);
    const { weights } = estimateFootprint(planNetwork(s, 32, 32), { height: 32, width: 32, batch: 4 });
    assert.equal(weights, model.counts.total, `${arch} W=${width} k=${kernelSize} E=${lcExpansion}`);
    model.dispose();
  }
});

test('a kernel wider than the images allow, or a model larger than memory, is refused before allocation with one line', () => {
  const data = { channels: 3, classes: 4, height: 8, width: 8 };
  const config = (settings: string[]) =>
    loadConfigText('model: { arch: resnet8, width: 4 }\ntrain: { batch_size: 16 }\n', 'a.yaml', settings).config;
  assert.throws(
    () => checkModelFits(config(['model.kernel_size=1001']), data),
    (err: Error) =>
      err instanceof InputError &&
      /^model\.kernel_size: 1001 is wider than 8×8 images allow: .* use at most 15$/.test(err.message),
  );
  checkModelFits(config(['model.kernel_size=15']), data);
  assert.throws(
    () => checkModelFits(config(['model.width=100000']), data),
    (err: Error) =>
      err instanceof InputError &&
      /^the model would need about [\d.]+ GiB to train \([\d,]+ weights, batches of 16 8×8 images\), more than this machine's [\d.]+ GiB; lower model\.width/.test(
        err.message,
      ),
  );
  assert.throws(() => checkModelFits(config([]), data, 1000), /more than this machine's 0\.0 GiB/);
});

test('inference frees each block as it goes: peak memory is a fraction of what the forward allocates', async () => {
  const model = buildNetwork(spec({ arch: 'resnet20', width: 8 }));
  const x = tf.randomNormal([4, 16, 16, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const info = await tf.profile(() => tf.tidy(() => model.forward(x, false)));
  const allocated = info.kernels.reduce((s, k) => s + k.bytesAdded, 0);
  // Without per-block freeing every activation lives until the caller's tidy: peak ≈ allocated.
  assert.ok(info.peakBytes < 0.5 * allocated, `peak ${info.peakBytes} B of ${allocated} B allocated`);
  assert.equal(tf.memory().numTensors, before + 1, 'only the logits remain');
  assert.equal(x.isDisposed, false, 'the input stays');
  tf.dispose([info.result as tf.Tensor, x]);
  model.dispose();
});
