import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadDataset, shapeOf } from '../../src/data/index.js';
import { trainBatches } from '../../src/data/batches.js';
import { buildModel } from '../../src/models/index.js';
import { lrAt, scheduleFor } from '../../src/train/schedule.js';
import { Sgd } from '../../src/train/sgd.js';
import { checkFinite, countFinite, NonFiniteLoss } from '../../src/train/non-finite.js';
import { evaluate, trainStep } from '../../src/train/trainer.js';
import { lcconv, tempDir, tinyConfig, writeTinyConfig } from '../fixtures.js';

tf.env().set('PROD', true);

test('cosine schedule: lr at step 0, half-way and the end; warm-up ramps linearly', () => {
  const s = scheduleFor(tinyConfig(['train.epochs=10', 'train.lr=0.1']).train, 10);
  assert.equal(lrAt(0, s), 0.1);
  assert.ok(Math.abs(lrAt(50, s) - 0.05) < 1e-12);
  assert.ok(lrAt(99, s) < 1e-3);
  const w = scheduleFor(tinyConfig(['train.epochs=10', 'train.lr=0.1', 'train.warmup_epochs=2']).train, 10);
  assert.ok(Math.abs(lrAt(0, w) - 0.005) < 1e-12);
  assert.ok(Math.abs(lrAt(9, w) - 0.05) < 1e-12);
  assert.equal(lrAt(20, w), 0.1);
});

test('step schedule: default milestones at 50% and 75%, explicit milestones in epochs', () => {
  const s = scheduleFor(tinyConfig(['train.epochs=8', 'train.lr=1', 'train.schedule=step']).train, 5);
  assert.deepEqual(
    [lrAt(19, s), lrAt(20, s), lrAt(29, s), lrAt(30, s)].map((v) => +v.toFixed(6)),
    [1, 0.1, 0.1, 0.01],
  );
  const e = scheduleFor(
    tinyConfig([
      'train.epochs=8',
      'train.lr=1',
      'train.schedule=step',
      'train.step_milestones=[1]',
      'train.step_gamma=0.5',
    ]).train,
    5,
  );
  assert.deepEqual([lrAt(4, e), lrAt(5, e), lrAt(39, e)], [1, 0.5, 0.5]);
  const c = scheduleFor(tinyConfig(['train.schedule=constant']).train, 5);
  assert.equal(lrAt(3, c), c.lr);
});

test('SGD matches torch.optim.SGD (momentum, Nesterov, weight decay) on a hand-computed example', () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const params = new Map([['p', p]]);
  const sgd = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  const g = tf.tensor1d([0.5, 0.5]);
  sgd.step(params, new Map([['p', g]]), 0.1);
  // d = g + 0.1·p = [0.6, 0.3]; buf = d; d' = d + 0.9·buf = [1.14, 0.57]; p -= 0.1·d'
  assert.deepEqual(
    Array.from(p.dataSync()).map((v) => +v.toFixed(6)),
    [0.886, -2.057],
  );
  sgd.step(params, new Map([['p', g]]), 0.1);
  // d = [0.5886, 0.2943]; buf = 0.9·[0.6,0.3] + d = [1.1286, 0.5643]; d' = d + 0.9·buf; p -= 0.1·d'
  assert.deepEqual(
    Array.from(p.dataSync()).map((v) => +v.toFixed(5)),
    [+(0.886 - 0.1 * (0.5886 + 0.9 * 1.1286)).toFixed(5), +(-2.057 - 0.1 * (0.2943 + 0.9 * 0.5643)).toFixed(5)],
  );
  sgd.dispose();
  tf.dispose([p, g]);
});

test('no tensor leaks across training steps and evaluation', async () => {
  const config = tinyConfig(['freeze=shared', 'model.lc_expansion=2']);
  const data = loadDataset(config.dataset, 0);
  const model = buildModel(config, { channels: data.channels, classes: data.classNames.length }, 0);
  const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const batches = [...trainBatches(data, 16, 0, 1, null)];
  tf.dispose(Object.values(trainStep(model, opt, batches[0]!, shapeOf(data), 0.1, 0.1))); // burn-in: creates momentum buffers
  const before = tf.memory().numTensors;
  for (const b of batches.slice(1)) tf.dispose(Object.values(trainStep(model, opt, b, shapeOf(data), 0.1, 0.1)));
  await evaluate(model, data, 16);
  assert.equal(tf.memory().numTensors, before);
  opt.dispose();
  model.dispose();
});

test('synthetic data and batches are deterministic from the seed', () => {
  const config = tinyConfig(['dataset.augment=true']);
  const a = loadDataset(config.dataset, 3);
  const b = loadDataset(config.dataset, 3);
  const c = loadDataset(config.dataset, 4);
  assert.deepEqual(a.train.images, b.train.images);
  assert.notDeepEqual(a.train.images, c.train.images);
  const first = (d: typeof a, epoch: number) =>
    trainBatches(d, 16, 3, epoch, { cropPadding: 4, flip: true }).next().value!;
  assert.deepEqual(first(a, 1).x, first(b, 1).x);
  assert.notDeepEqual(first(a, 1).x, first(a, 2).x);
  assert.equal(first(a, 1).x.length, 16 * 8 * 8 * 3);
});

test('a non-finite loss is located on the device: the first bad step is named at the next read, with its learning rate', () => {
  let finite = tf.scalar(0);
  let total = tf.scalar(0);
  for (const loss of [1, 2, NaN, 3, Infinity]) {
    const nextTotal = tf.add(total, loss) as tf.Scalar;
    const nextFinite = countFinite(finite, nextTotal);
    tf.dispose([total, finite]);
    [total, finite] = [nextTotal, nextFinite];
  }
  const [t, f] = [total.dataSync()[0]!, finite.dataSync()[0]!];
  tf.dispose([total, finite]);
  assert.equal(f, 2);
  assert.throws(
    () => checkFinite(4, t, f, (step) => step * 10),
    (err: Error) =>
      err instanceof NonFiniteLoss &&
      err.message ===
        'training loss became NaN at epoch 4, step 3 (learning rate 30.0); the run stopped and is marked failed: lower train.lr (or check the data)',
  );
  checkFinite(4, 12.5, 5, () => 0.1); // finite: nothing
});

test('CLI: --set train.lr=1e6 stops the run at the first non-finite loss: one line with epoch and lr, error.json, exit 1, listed as failed by report', {
  timeout: 120_000,
}, () => {
  const dir = tempDir('nan');
  const config = writeTinyConfig(join(dir, 'exp.yaml'), { results_dir: join(dir, 'results'), 'train.epochs': 3 });
  assert.equal(lcconv(['run', config, '--quiet']).status, 0, 'a sound run to report beside the failed one');
  const r = lcconv(['run', config, '--set', 'train.lr=1e6', '--quiet']);
  assert.equal(r.status, 1, r.stderr);
  const line = r.stderr
    .trim()
    .split('\n')
    .find((l) => l.startsWith('lcconv:'))!;
  assert.match(
    line,
    /(training loss became (NaN|Infinity) at epoch \d+, step \d+|validation loss became (NaN|Infinity) after epoch \d+) \(learning rate [\d.e+]+\); the run stopped and is marked failed: lower train\.lr/,
  );
  const run = readdirSync(join(dir, 'results', 'tiny')).find((d) =>
    existsSync(join(dir, 'results', 'tiny', d, 'error.json')),
  );
  const error = JSON.parse(readFileSync(join(dir, 'results', 'tiny', run!, 'error.json'), 'utf8')) as {
    message: string;
  };
  assert.match(error.message, /became (NaN|Infinity)/);
  assert.equal(existsSync(join(dir, 'results', 'tiny', run!, 'summary.json')), false, 'not a finished result');
  const report = lcconv(['report', join(dir, 'results', 'tiny'), '--no-plots']);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /\(n=1\)/, 'only the sound run is compared');
  assert.match(report.stdout, new RegExp(`^failed: ${run}$`, 'm'));
  assert.match(readFileSync(join(dir, 'results', 'tiny', 'report.md'), 'utf8'), /became (NaN|Infinity)/);
});
