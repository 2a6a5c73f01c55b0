import { mkdirSync } from 'node:fs';
/**
 * Whole training runs on WebGPU (Mesa's software adapter in CI): every freeze mode and LC variant,
 * and every architecture family, trains to the end with checkpoints and evaluation, without a single synchronous GPU read (the
 * counter makes one throw); an interrupted run resumed from its checkpoint ends with the metrics of
 * the uninterrupted run; and the final numbers are close to the same run on the CPU.
 *
 * Runs in-process (trainRun), so the WGSL pipelines compile once for all cases.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, type DeviceCounter } from '../../src/backends/device-counters.js';
import { releaseBackends, selectBackend } from '../../src/backends/index.js';
import { loadWebGpu } from '../../src/backends/webgpu.js';
import type { Config } from '../../src/config/schema.js';
import { loadDataset } from '../../src/data/index.js';
import { runIdentity } from '../../src/runs/identity.js';
import { RunRecorder } from '../../src/runs/recorder.js';
import type { EpochRow, RunSink, RunSummary } from '../../src/runs/records.js';
import { trainRun } from '../../src/train/trainer.js';
import { tempDir, tinyConfig } from '../fixtures.js';

const EPOCHS = 2;
/** Tiny and short: 32 images in 2 steps per epoch, 2 epochs, 32 test images. */
const base = (overrides: string[], results: string): Config =>
  tinyConfig([
    `train.epochs=${EPOCHS}`,
    'dataset.synthetic.train_size=32',
    'train.momentum=0.9',
    'train.nesterov=true',
    'train.weight_decay=0.0005',
    `results_dir=${results}`,
    ...overrides,
  ]);

const MODES = [
  { name: 'learned', overrides: ['freeze=learned'] },
  { name: 'frozen', overrides: ['freeze=frozen'] },
  { name: 'shared', overrides: ['freeze=shared'] },
  { name: 'LC E=4 frozen', overrides: ['freeze=frozen', 'model.lc_expansion=4'] },
  { name: 'LC E=2 depthwise frozen', overrides: ['freeze=frozen', 'model.lc_expansion=2', 'model.lc_depthwise=true'] },
];

const probe = await loadWebGpu();
if (!probe.ok && !/no adapter/.test(probe.reason)) throw new Error(`webgpu probe failed: ${probe.reason}`);
const skip = probe.ok ? false : `WebGPU: ${probe.reason} (fix: ${probe.fix})`;
/** Named in the test titles, so that a failure says which Dawn backend it was on (dawn-backend.test.ts runs both). */
const on = probe.ok ? `webgpu (Dawn ${probe.details?.dawn_backend})` : 'webgpu';
let counter: DeviceCounter | null = null;
after(async () => {
  counter?.stop();
  await releaseBackends();
});

interface Trained {
  rows: EpochRow[];
  summary: RunSummary | null;
}

/** Trains `config` on `backend` (resuming its run directory's checkpoint if any); with `stopAfter`, aborts once that epoch is checkpointed. */
async function train(
  backend: 'webgpu' | 'cpu-native' | 'cpu',
  config: Config,
  options: { stopAfter?: number } = {},
): Promise<Trained> {
  await selectBackend(backend);
  if (backend === 'webgpu' && !counter) counter = countDeviceWork({ failOnSyncRead: true });
  const rows: EpochRow[] = [];
  const abort = new AbortController();
  const sink: RunSink = {
    start() {},
    epoch(row) {
      rows.push(row);
    },
    end() {},
  };
  const data = loadDataset(config.dataset, config.seed);
  const identity = runIdentity(config, config.seed);
  mkdirSync(identity.dir, { recursive: true }); // made by src/runs/lifecycle.ts in a real run
  // The checkpoint is written after the row: abort on the next row's way in, i.e. at the next step.
  const stopping: RunSink = { ...sink, epoch: (row) => void (row.epoch === options.stopAfter && abort.abort()) };
  try {
    const summary = await trainRun({
      config,
      data,
      identity,
      sinks: [sink, stopping],
      backend: { backend, device: backend },
      versions: {},
      gitCommit: null,
      // The run directory's store: a fresh temp folder has no checkpoint, a resume finds the interrupted one's.
      checkpoints: new RunRecorder(config, identity.dir, { gitCommit: null }),
      signal: abort.signal,
    });
    return { rows, summary };
  } catch (err) {
    if ((err as Error).name === 'RunInterrupted') return { rows, summary: null };
    throw err;
  }
}

/** Uninterrupted webgpu runs by mode, reused by the resume and CPU comparisons. */
const finished = new Map<string, Promise<Trained>>();
const trainedOnWebGpu = (overrides: string[]) => {
  const key = overrides.join(' ');
  if (!finished.has(key)) finished.set(key, train('webgpu', base(overrides, tempDir('webgpu-train'))));
  return finished.get(key)!;
};

/** The computed columns of metrics.csv (not the timings). */
const computed = (rows: EpochRow[]) =>
  rows.map((r) => [r.epoch, r.lr, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.best_val_acc]);

test(`the counter fails a synchronous read of GPU data on ${on} (the check below can fail)`, async (t) => {
  if (skip) return t.skip(skip);
  await selectBackend('webgpu');
  const probe = countDeviceWork({ failOnSyncRead: true })!;
  const cpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false); // else tfjs adds these 4 numbers on the CPU
  try {
    const x = tf.add(tf.ones([4]), 1);
    assert.throws(() => x.dataSync(), /synchronous GPU read/);
    assert.deepEqual([...(await x.data())], [2, 2, 2, 2]);
    assert.ok(
      probe.counts.dispatches >= 1 && probe.counts.reads === 1 && probe.counts.syncReads === 1,
      JSON.stringify(probe.counts),
    );
    x.dispose();
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', cpuForward);
    probe.stop();
  }
});

for (const { name, overrides } of MODES) {
  test(`${name}: trains to the end on ${on} without a synchronous read`, async (t) => {
    if (skip) return t.skip(skip);
    const run = await trainedOnWebGpu(overrides);
    assert.equal(run.rows.length, EPOCHS);
    assert.ok(run.summary && Number.isFinite(run.summary.final_val_loss), 'finished with a finite loss');
    assert.equal(counter!.counts.syncReads, 0);
  });
}

/** Every family beyond the CIFAR ResNets, narrow, frozen with LC blocks (VGG's five pools need 32×32, ConvNeXt's four patch convs 16×16). */
const FAMILIES = [
  { arch: 'resnet18', overrides: ['model.width=2'] },
  { arch: 'vgg11_bn', overrides: ['model.width=2', 'dataset.synthetic.image_size=32'] },
  { arch: 'wrn16_4', overrides: ['model.width=1'] },
  { arch: 'resnet9', overrides: ['model.width=2'] },
  { arch: 'mobilenet_v2', overrides: ['model.width=4'] },
  { arch: 'convnext', overrides: ['model.width=2', 'dataset.synthetic.image_size=16'] },
];

for (const { arch, overrides } of FAMILIES) {
  test(`${arch}, frozen LC E=2: trains to the end on ${on} without a synchronous read`, async (t) => {
    if (skip) return t.skip(skip);
    const run = await trainedOnWebGpu([`model.arch=${arch}`, 'freeze=frozen', 'model.lc_expansion=2', ...overrides]);
    assert.equal(run.rows.length, EPOCHS);
    assert.ok(run.summary && Number.isFinite(run.summary.final_val_loss), 'finished with a finite loss');
    assert.equal(counter!.counts.syncReads, 0);
  });
}

test(`frozen on ${on}: interrupted after epoch 1, then --resume, ends with the uninterrupted metrics`, async (t) => {
  if (skip) return t.skip(skip);
  const straight = await trainedOnWebGpu(['freeze=frozen']);
  const results = tempDir('webgpu-resume');
  const config = base(['freeze=frozen'], results);
  const first = await train('webgpu', config, { stopAfter: 1 });
  assert.equal(first.summary, null, 'interrupted');
  assert.equal(first.rows.length, 1);
  const rest = await train('webgpu', config);
  assert.deepEqual(computed([...first.rows, ...rest.rows]), computed(straight.rows));
  assert.equal(rest.summary!.final_val_acc, straight.summary!.final_val_acc);
  assert.equal(counter!.counts.syncReads, 0);
});

test(`LC E=4 frozen: ${on} ends close to the same run on the CPU`, async (t) => {
  if (skip) return t.skip(skip);
  const gpu = await trainedOnWebGpu(['freeze=frozen', 'model.lc_expansion=4']);
  const cpuBackend = await selectBackend('cpu-native').then(
    () => 'cpu-native' as const,
    () => 'cpu' as const,
  );
  const cpu = await train(cpuBackend, base(['freeze=frozen', 'model.lc_expansion=4'], tempDir('webgpu-vs-cpu')));
  const [g, c] = [gpu.summary!, cpu.summary!];
  t.diagnostic(
    `val loss webgpu ${g.final_val_loss} vs ${cpuBackend} ${c.final_val_loss}; val acc ${g.final_val_acc} vs ${c.final_val_acc}`,
  );
  // Both backends compute the same float32 math in a different summation order (tiled GPU
  // reductions vs oneDNN/JS loops): ~1e-6 relative per step, amplified over 4 SGD steps.
  assert.ok(
    Math.abs(g.final_val_loss - c.final_val_loss) <= LOSS_TOL * Math.abs(c.final_val_loss),
    `val loss webgpu ${g.final_val_loss} vs ${cpuBackend} ${c.final_val_loss}`,
  );
  assert.ok(
    Math.abs(g.final_val_acc - c.final_val_acc) <= ACC_TOL,
    `val acc webgpu ${g.final_val_acc} vs ${cpuBackend} ${c.final_val_acc}`,
  );
});

/** Relative; see the test for why. */
const LOSS_TOL = 1e-3;
/** One test image of 32 may flip when its two top logits are within the float noise. */
const ACC_TOL = 1 / 32;
