import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { layerWeights } from '../../src/models/effective-filters.js';
import { loadConfigText } from '../../src/config/load.js';
import { datasetShape } from '../../src/data/index.js';
import { modelSpec } from '../../src/models/index.js';
import { filterSecondMoments, normaliseCovariance } from '../../src/models/init.js';
import { spatialConvsOf } from '../../src/models/index.js';
import { runIdentity } from '../../src/runs/identity.js';
import { initialRunModel, loadRunModel, resolveSpatialInit } from '../../src/runs/model.js';
import { readFinishedRun } from '../../src/eval/load-run.js';
import { evaluateRun } from '../../src/eval/run-eval.js';
import { exportRun } from '../../src/export/pytorch.js';
import { loadDataset } from '../../src/data/index.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { runTrial } from '../../src/experiment/experiment.js';
import { tempDir, tinyYaml } from '../fixtures.js';

test("spatial_init: from_run draws from the source run's filter covariance; the hash follows the source run, not its path", {
  timeout: 120_000,
}, async () => {
  await tf.setBackend('cpu');
  const results = tempDir('from-run');
  const sourceConfig = loadConfigText(
    tinyYaml({ results_dir: results, 'dataset.synthetic.train_size': 32, 'dataset.synthetic.test_size': 16 }),
    's.yaml',
  ).config;
  const [sourceTrial] = sweepTrials(sourceConfig);
  const source = await runTrial(sourceTrial!, { backend: { backend: 'cpu', device: 'cpu' } });

  const derived = (from: string, over: Record<string, unknown> = {}) =>
    loadConfigText(
      tinyYaml({
        results_dir: results,
        freeze: 'frozen',
        'model.width': 8,
        'model.spatial_init': 'from_run',
        'model.spatial_init_from': from,
        ...over,
      }),
      'd.yaml',
    ).config;
  const config = derived(source.dir);
  const identity = runIdentity(config, 0);
  assert.match(identity.run_id, /^frozen-k3-E1-fromrun-seed0-/);
  // Same run through another spelling of its path: same identity.
  assert.equal(runIdentity(derived(join(source.dir, '..', source.run_id)), 0).run_id, identity.run_id);

  // The frozen filters (unit draws × their layer's std) follow the normalised covariance of the
  // source's filters, pooled over all layers: check against an independent estimate.
  const loaded = await loadRunModel(source.dir);
  const convs = spatialConvsOf(modelSpec(loaded.config, datasetShape(loaded.config.dataset), 0));
  const sourceLayers = await layerWeights(loaded.model, convs);
  loaded.model.dispose();
  const n = sourceLayers.reduce((a, l) => a + l.effective.length / 9, 0);
  const expected = normaliseCovariance(
    sourceLayers.reduce(
      (sum, l) => {
        const m = filterSecondMoments(l.effective, 9);
        return sum.map((row, p) => row.map((v, q) => v + (m[p]![q]! * l.effective.length) / 9 / n));
      },
      Array.from({ length: 9 }, () => new Array<number>(9).fill(0)),
    ),
  );
  // Resolved once, before training, into the run's own directory.
  const trained = await runTrial(sweepTrials(config)[0]!, { backend: { backend: 'cpu', device: 'cpu' } });
  assert.ok(existsSync(join(trained.dir, 'spatial-init.json')));
  const model = initialRunModel(trained.dir);
  try {
    const stage3 = model.params.frozen.get('stage3.block1.conv2.weight')!; // 32 → 32 channels: 1,024 filters
    const fanIn = 9 * 32;
    const unit = (stage3.dataSync() as Float32Array).map((v) => v * Math.sqrt(3 * fanIn));
    const sample = filterSecondMoments(unit, 9);
    for (let p = 0; p < 9; p++) {
      for (let q = 0; q < 9; q++) {
        const se = Math.sqrt((expected[p]![p]! * expected[q]![q]! + expected[p]![q]! ** 2) / 1024);
        assert.ok(
          Math.abs(sample[p]![q]! - expected[p]![q]!) < 5 * se,
          `Σ[${p}][${q}] ${sample[p]![q]} vs ${expected[p]![q]}`,
        );
      }
    }
  } finally {
    model.dispose();
  }

  // Bad sources are one clear line: an unfinished run, another kernel size.
  assert.throws(
    () => runIdentity(derived(join(results, 'nope')), 0),
    /model\.spatial_init_from: .*nope is not a finished run/,
  );
  await assert.rejects(
    resolveSpatialInit(derived(source.dir, { 'model.kernel_size': 5 }), tempDir('from-run-k5')),
    /model\.spatial_init_from: .* has k = 3, this run k = 5/,
  );

  // Another source run (other weights) gives another identity.
  const retrained = await runTrial(
    sweepTrials(
      loadConfigText(
        tinyYaml({
          results_dir: results,
          'dataset.synthetic.train_size': 32,
          'dataset.synthetic.test_size': 16,
          'train.lr': 0.2,
        }),
        's.yaml',
      ).config,
    )[0]!,
    { backend: { backend: 'cpu', device: 'cpu' } },
  );
  assert.notEqual(runIdentity(derived(retrained.dir), 0).run_id, identity.run_id);

  // The run stands alone: with its source deleted it still reloads, evaluates and exports.
  rmSync(source.dir, { recursive: true });
  const reloaded = await loadRunModel(trained.dir);
  reloaded.model.dispose();
  const run = readFinishedRun(trained.dir);
  const data = loadDataset(run.config.dataset, run.config.seed);
  const evaluation = await evaluateRun(run, { data });
  assert.ok(evaluation.rows.length > 0);
  const standalone = await loadRunModel(trained.dir);
  try {
    const files = await exportRun(run, standalone.model, data, tempDir('from-run-export'));
    assert.ok(files.every((f) => existsSync(f)));
  } finally {
    standalone.model.dispose();
  }
});
