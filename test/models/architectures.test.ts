/**
 * Every architecture family, timm style: each builds and trains one step on 32×32 synthetic data at
 * a narrow width in every freeze mode (and with LC blocks), leaks no tensor, freezes exactly its
 * k×k filters, and has the published parameter count at its default width.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { expandGrid } from '../../src/config/grid.js';
import { loadConfigText } from '../../src/config/load.js';
import { ARCH_NAMES, defaultWidth, type ArchName } from '../../src/config/names.js';
import type { FreezeMode } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { buildNetwork, checkModelFits, spatialConvsOf } from '../../src/models/index.js';
import { cifarBlocksPerStage } from '../../src/models/registry.js';
import { Sgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/trainer.js';
import { tinyResNetSpec } from '../fixtures.js';

/** Every architecture beyond the CIFAR ResNets of resnet.test.ts. */
const NEW_ARCHS = ARCH_NAMES.filter((arch) => cifarBlocksPerStage(arch) === null);
const shape = { height: 32, width: 32, channels: 3, classes: 10 };
const batch = {
  x: Float32Array.from({ length: 4 * 32 * 32 * 3 }, (_, i) => Math.sin(i * 0.37)),
  y: Int32Array.from([0, 3, 7, 9]),
  size: 4,
};

test('every new architecture trains one step in every freeze mode and with LC blocks, without leaking tensors', () => {
  const arms: { freeze: FreezeMode; lcExpansion: number; lcDepthwise: boolean }[] = [
    { freeze: 'learned', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'frozen', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'shared', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'frozen', lcExpansion: 2, lcDepthwise: false },
    { freeze: 'shared', lcExpansion: 2, lcDepthwise: true },
  ];
  // wrn28_10 is wrn16_4's code with other numbers, and 30× its cost here: its counts are tested below.
  for (const arch of NEW_ARCHS.filter((a) => a !== 'wrn28_10'))
    for (const arm of arms) {
      const what = `${arch} ${arm.freeze} E=${arm.lcExpansion}${arm.lcDepthwise ? ' dw' : ''}`;
      const before = tf.memory().numTensors;
      const model = buildNetwork(tinyResNetSpec({ arch, width: arch.startsWith('wrn') ? 1 : 2, ...arm }));
      const frozenBefore = new Map([...model.params.frozen].map(([n, t]) => [n, t.dataSync().slice()]));
      const learnedBefore = new Map([...model.params.learnable].map(([n, v]) => [n, v.dataSync().slice()]));
      const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const { lossSum, correct } = trainStep(model, opt, batch, shape, 0.1, 0.1);
      assert.ok(Number.isFinite(lossSum.dataSync()[0]), `${what}: finite loss`);
      tf.dispose([lossSum, correct]);
      // Frozen k×k filters never change; every learnable weight with a gradient does.
      for (const [n, t] of model.params.frozen)
        assert.deepEqual(t.dataSync(), frozenBefore.get(n), `${what}: ${n} frozen`);
      const moved = [...model.params.learnable].filter(([n, v]) => !sameArray(v.dataSync(), learnedBefore.get(n)!));
      assert.ok(moved.length > model.params.learnable.size / 2, `${what}: ${moved.length} weights updated`);
      const convs = spatialConvsOf(tinyResNetSpec({ arch, width: 2, ...arm }));
      if (arm.freeze === 'frozen')
        assert.equal(model.params.frozen.size, convs.length, `${what}: one frozen filter per k×k conv`);
      if (arm.freeze === 'shared') assert.equal(model.params.sharedSlices.size, convs.length, `${what}: shared slices`);
      if (arm.freeze === 'learned') assert.equal(model.counts.frozen, 0, `${what}: nothing frozen`);
      opt.dispose();
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked`);
    }
});

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

test('at the default width the parameter counts are the published ones (k = 3, 10 classes)', () => {
  const published: Partial<Record<ArchName, number>> = {
    resnet18: 11_173_962,
    resnet34: 21_282_122,
    resnet50: 23_520_842,
    vgg11_bn: 28_149_514,
    vgg16_bn: 33_646_666,
    wrn16_4: 2_748_890, // Zagoruyko & Komodakis: 2.7M
    wrn28_10: 36_479_194, // 36.5M
    resnet9: 6_573_120, // Page's DAWNBench ResNet-9: 6.5M
    mobilenet_v2: 2_236_682, // torchvision's mobilenet_v2(num_classes=10): the strides differ, not the weights
    convnext: 1_586_410, // lcconv's small preset, no published network: the count of its PyTorch twin (test/export)
  };
  for (const arch of NEW_ARCHS) {
    const { config } = loadConfigText(`model: { arch: ${arch} }\n`, 'a.yaml');
    assert.equal(config.model.width, defaultWidth(arch));
    const expected = arch.startsWith('wrn') ? 16 : arch === 'mobilenet_v2' || arch === 'convnext' ? 32 : 64;
    assert.equal(config.model.width, expected, `${arch}: default width`);
    const model = buildNetwork(tinyResNetSpec({ arch, width: config.model.width, freeze: 'learned' }));
    assert.ok(published[arch], `${arch}: its published count is listed here`);
    assert.equal(model.counts.learnable, published[arch], arch);
    model.dispose();
  }
  // The CIFAR ResNets keep W = 16.
  assert.equal(loadConfigText('model: { arch: resnet20 }\n', 'a.yaml').config.model.width, 16);
});

test('a sweep over model.arch gives each point its architecture default width, unless the width is set', () => {
  const sweep = (extra: string) =>
    loadConfigText(`model: { arch: resnet8${extra} }\nsweep: { model.arch: [resnet8, resnet18] }\n`, 'a.yaml').config;
  assert.deepEqual(
    expandGrid(sweep('')).map((p) => p.config.model.width),
    [16, 64],
  );
  assert.deepEqual(
    expandGrid(sweep(', width: 8')).map((p) => p.config.model.width),
    [8, 8],
  );
});

test('VGG on images smaller than 32×32, ResNet-9 on images smaller than 8×8, are refused in one line before anything is built', () => {
  const { config } = loadConfigText('model: { arch: vgg11_bn, width: 2 }\n', 'a.yaml');
  assert.throws(
    () => checkModelFits(config, { channels: 1, classes: 10, height: 28, width: 28 }),
    (e: unknown) =>
      e instanceof InputError &&
      /vgg11_bn halves the image 5 times and needs at least 32×32 pixels; these images are 28×28/.test(e.message),
  );
  assert.doesNotThrow(() => checkModelFits(config, { channels: 3, classes: 10, height: 32, width: 32 }));
  const resnet9 = loadConfigText('model: { arch: resnet9, width: 2 }\n', 'a.yaml').config;
  assert.throws(
    () => checkModelFits(resnet9, { channels: 1, classes: 10, height: 7, width: 9 }),
    /resnet9 halves the image 3 times and needs at least 8×8 pixels; these images are 7×9/,
  );
  assert.doesNotThrow(() => checkModelFits(resnet9, { channels: 1, classes: 10, height: 28, width: 28 }));
});

test("VGG's dropout masks follow (seed, step): the same step gives the same logits, another step others", () => {
  const model = buildNetwork(tinyResNetSpec({ arch: 'vgg11_bn', width: 2, freeze: 'learned' }));
  const x = tf.tensor4d(batch.x, [4, 32, 32, 3]);
  const logits = (step: number) => {
    model.step = step;
    return tf.tidy(() => model.forward(x, true).dataSync().slice());
  };
  const [a, b, c] = [logits(5), logits(5), logits(6)];
  assert.deepEqual(a, b);
  assert.ok(!sameArray(a, c), 'another step, other masks');
  const evalA = tf.tidy(() => model.forward(x, false).dataSync().slice());
  model.step = 99;
  assert.deepEqual(
    tf.tidy(() => model.forward(x, false).dataSync().slice()),
    evalA,
    'no dropout at inference',
  );
  x.dispose();
  model.dispose();
});
