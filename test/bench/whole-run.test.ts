/** The whole-run benchmark's lcconv side: the real step loop, timed per epoch, leaving no tensors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backends/index.js';
import { tinyConfig } from '../fixtures.js';

test('benchWholeRun: per-epoch train, eval and data-path times of the real loop, no tensor left behind', async () => {
  await selectBackend('cpu');
  const { benchWholeRun } = await import('../../src/bench/whole-run.js');
  const { loadDataset } = await import('../../src/data/index.js');
  const config = tinyConfig();
  const data = loadDataset(config.dataset, config.seed);
  const before = tf.memory().numTensors;
  const r = await benchWholeRun(config, data, { epochs: 2, repeats: 1 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([r.train_images, r.test_images, r.epochs, r.repeats.length], [64, 32, 2, 1]);
  const side = r.repeats[0]!.lcconv;
  assert.deepEqual(
    side.epochs.map((e) => e.epoch),
    [1, 2],
  );
  for (const e of side.epochs) {
    assert.ok(
      e.train_seconds > 0 && e.eval_seconds > 0 && e.data_seconds >= 0 && e.data_seconds < e.train_seconds,
      JSON.stringify(e),
    );
    assert.ok(e.train_cpu_seconds > 0 && e.eval_cpu_seconds >= 0, JSON.stringify(e));
    assert.ok(e.val_acc >= 0 && e.val_acc <= 1);
  }
  assert.equal(r.summary.pytorch, null);
  assert.equal(r.summary.ratio, null);
});
