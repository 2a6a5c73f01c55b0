/**
 * Augmented batches: reproducible from (seed, epoch), shapes kept, float32 only per batch, flips
 * never applied to sets whose labels a mirror would change (digits); grey images feed the ResNet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { CIFAR_AUGMENT, evalBatches, trainBatches } from '../../src/data/batches.js';
import type { Dataset } from '../../src/data/dataset.js';
import { loadSynthetic } from '../../src/data/synthetic.js';
import { buildModel } from '../../src/models/index.js';
import { tinyConfig } from '../fixtures.js';
import '../../src/backends/tfjs-runtime.js'; // the cpu backend and gradients, without selectBackend

tf.env().set('PROD', true);

/** A grey 10×6 (non-square) set with asymmetric images, so flips and crops are visible. */
function greyData(flipAugment: boolean): Dataset {
  const base = loadSynthetic({ train_size: 40, test_size: 8, image_size: 6, channels: 1, classes: 4, noise: 0.2 }, 3);
  const H = 10;
  const W = 6;
  const images = Uint8Array.from({ length: 40 * H * W }, (_, i) => (i * 37 + (i % W) * 11) % 256);
  return {
    ...base,
    name: 'grey',
    height: H,
    width: W,
    train: { ...base.train, images },
    test: { images: images.slice(0, 8 * H * W), labels: base.test.labels, count: 8 },
    mean: [0.5],
    std: [0.25],
    flipAugment,
  };
}

const all = (data: Dataset, seed: number, epoch: number, aug = CIFAR_AUGMENT) => [
  ...trainBatches(data, 8, seed, epoch, aug),
];

test('augmented batches: same (seed, epoch) → identical; another epoch or seed → different; shapes and dtype kept', () => {
  const data = greyData(true);
  const a = all(data, 1, 0);
  const b = all(data, 1, 0);
  assert.equal(a.length, 5);
  for (let i = 0; i < a.length; i++) {
    assert.ok(a[i]!.x instanceof Float32Array);
    assert.equal(a[i]!.x.length, 8 * 10 * 6 * 1);
    assert.deepEqual(a[i]!.x, b[i]!.x);
    assert.deepEqual(a[i]!.y, b[i]!.y);
  }
  assert.notDeepEqual(all(data, 1, 1)[0]!.x, a[0]!.x);
  assert.notDeepEqual(all(data, 2, 0)[0]!.x, a[0]!.x);
  assert.ok(data.train.images instanceof Uint8Array, 'the stored set stays uint8');
});

test('flips: applied to about half the images when allowed, never for a set marked flipAugment=false', () => {
  const flipOnly = { cropPadding: 0, flip: true };
  const px = 10 * 6;
  // Train batches are shuffled, so match each augmented image to an original by content.
  const toKey = (x: Float32Array) => Array.from(x, (v) => v.toFixed(4)).join(',');
  const mirror = (x: Float32Array) => Float32Array.from(x, (_, i) => x[Math.floor(i / 6) * 6 + (5 - (i % 6))]!);
  for (const flipAugment of [true, false]) {
    const data = greyData(flipAugment);
    const originals = new Set<string>();
    for (const batch of evalBatches(data, data.train, 8))
      for (let b = 0; b < batch.size; b++) originals.add(toKey(batch.x.subarray(b * px, (b + 1) * px)));
    let flipped = 0;
    for (const batch of all(data, 5, 0, flipOnly))
      for (let b = 0; b < batch.size; b++) {
        const img = batch.x.subarray(b * px, (b + 1) * px);
        if (originals.has(toKey(img))) continue;
        assert.ok(originals.has(toKey(mirror(img))), 'an augmented image is the original or its mirror');
        flipped++;
      }
    if (flipAugment) assert.ok(flipped > 8 && flipped < 32, `about half of 40 flipped, got ${flipped}`);
    else assert.equal(flipped, 0);
  }
});

test('crop with padding shifts content and zero-fills (normalised 0) at the border', () => {
  const data = greyData(false);
  const zero = -data.mean[0]! / data.std[0]!; // a padded pixel after normalisation
  let shiftedBorder = 0;
  for (const batch of all(data, 7, 0, { cropPadding: 4, flip: false }))
    for (let b = 0; b < batch.size; b++)
      if (batch.x.subarray(b * 60, (b + 1) * 60).some((v) => Math.abs(v - zero) < 1e-6)) shiftedBorder++;
  assert.ok(shiftedBorder > 20, `most crops include padding, got ${shiftedBorder} of 40`);
});

test('grey 28×28 images feed a CIFAR ResNet (1 input channel, global average pooling)', () => {
  const config = tinyConfig();
  const model = buildModel(config, { channels: 1, classes: 10 }, 0);
  const logits = tf.tidy(() => model.forward(tf.randomNormal([2, 28, 28, 1]) as tf.Tensor4D, false));
  assert.deepEqual(logits.shape, [2, 10]);
  assert.ok(Array.from(logits.dataSync()).every(Number.isFinite));
  logits.dispose();
  model.dispose();
});
