import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadDataset } from '../../src/data/index.js';
import { openRun } from '../../src/runs/lifecycle.js';
import { loadRunModel } from '../../src/runs/model.js';
import { trainRun } from '../../src/train/trainer.js';
import { tempDir, tinyConfig } from '../fixtures.js';

test("loadRunModel rebuilds a finished run's model from its directory with the trained weights", async () => {
  await tf.setBackend('cpu');
  const config = tinyConfig([`results_dir=${tempDir('load-model')}`, 'freeze=frozen']);
  const run = openRun(config, config.seed, { gitCommit: null });
  assert.equal(run.finished, null);
  if (run.finished) return;
  const data = loadDataset(config.dataset, config.seed);
  // The recorder's checkpoint store, also copying the weights it saves, to compare with what loadRunModel reads back.
  let trained: Map<string, Float32Array> = new Map();
  const store = {
    load: run.recorder.load.bind(run.recorder),
    save: async (...args: Parameters<typeof run.recorder.save>) => {
      trained = new Map(
        await Promise.all(
          [...args[0].params.learnable].map(async ([n, v]) => [n, (await v.data()) as Float32Array] as const),
        ),
      );
      await run.recorder.save(...args);
    },
  };
  const summary = await trainRun({
    config,
    data,
    identity: run.identity,
    sinks: [run.recorder],
    checkpoints: store,
    backend: { backend: 'cpu', device: 'cpu' },
    versions: {},
    gitCommit: null,
  });

  const loaded = await loadRunModel(summary.dir);
  try {
    assert.equal(loaded.state.epoch, config.train.epochs);
    assert.equal(loaded.config.seed, config.seed);
    assert.equal(loaded.config.freeze, 'frozen');
    assert.ok(trained.size > 0);
    for (const [name, v] of loaded.model.params.learnable) assert.deepEqual(await v.data(), trained.get(name), name);
  } finally {
    loaded.model.dispose();
  }
  await assert.rejects(loadRunModel(join(summary.dir, 'missing')), /no checkpoint/);
});
