/**
 * `lcconv bench`: the result is well formed and consistent with the config, the benchmark leaks no
 * tensors, and bad flags are one-line input errors. No assertion on speed (that belongs in
 * docs/benchmarks.md, not in a test).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backends/index.js';
import { loadWebGpu, releaseWebGpu } from '../../../src/backends/webgpu.js';
import { buildModel } from '../../../src/models/index.js';
import { benchThroughput } from '../../../src/bench/throughput.js';
import { inputErrorOf, lcconv, tempDir, tinyConfig, writeTinyConfig } from '../../fixtures.js';

test('benchThroughput on cpu: numbers for the configured model and batch, no tensor left behind', async () => {
  await selectBackend('cpu');
  const config = tinyConfig(['freeze=frozen', 'model.lc_expansion=2']);
  const before = tf.memory().numTensors;
  const r = await benchThroughput(config, { steps: 2, warmup: 1 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([r.batch_size, r.steps, r.warmup_steps, r.classes], [16, 2, 1, 4]);
  assert.deepEqual(r.image, [8, 8, 3]);
  const m = buildModel(config, { channels: 3, classes: 4 }, 0);
  assert.deepEqual([r.model.learnable_params, r.model.total_params], [m.counts.learnable, m.counts.total]);
  m.dispose();
  for (const v of [
    r.train.images_per_second,
    r.train.seconds_per_step,
    r.eval.images_per_second,
    r.eval.seconds_per_batch,
  ])
    assert.ok(Number.isFinite(v) && v > 0);
  // Peak during a step holds at least every weight (4 bytes each).
  assert.ok(r.peak_tensor_bytes >= 4 * r.model.total_params, `${r.peak_tensor_bytes}`);
});

test('lcconv bench --json on webgpu (Mesa where there is no GPU) reports the backend and device', {
  timeout: 120_000,
}, async (t) => {
  const probe = await loadWebGpu();
  releaseWebGpu(); // the CLI child probes on its own
  if (!probe.ok) return t.skip(`WebGPU: ${probe.reason}`);
  const r = lcconv(['bench', 'configs/smoke.yaml', '--backend', 'webgpu', '--steps', '1', '--warmup', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.backend, 'webgpu');
  assert.equal(out.device, probe.device);
  assert.equal(out.model.arch, 'resnet8');
  assert.ok(out.train.images_per_second > 0);
  // One step, read back once as the trainer reads an epoch; dispatches are counted on the device.
  assert.equal(out.per_step.reads, 1);
  assert.equal(out.per_step.sync_reads, 0);
  assert.ok(out.per_step.dispatches > 10 && out.per_step.kernels > 10, JSON.stringify(out.per_step));
});

test('lcconv bench: bad --steps is an input error (one line, exit 2)', async () => {
  assert.equal(
    (await inputErrorOf(['bench', 'configs/smoke.yaml', '--steps', '0'])).message,
    '--steps: expected an integer ≥ 1, got 0',
  );
});

test('lcconv bench --json: the profiled step lists its top kernels; threads come from the config', async (t) => {
  const { loadCpuNative } = await import('../../../src/backends/cpu-native/index.js');
  const native = (await loadCpuNative()).ok;
  const r = lcconv([
    'bench',
    'configs/smoke.yaml',
    '--steps',
    '2',
    '--warmup',
    '1',
    '--json',
    '--set',
    'threads=2',
    '--backend',
    native ? 'cpu-native' : 'cpu',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.top_kernels.length > 0 && out.top_kernels.some((k: { name: string }) => k.name === 'Conv2D'));
  assert.equal(out.pytorch, null);
  if (native) assert.match(out.device, /2 threads/);
  else t.diagnostic('cpu-native addon not built: threads not checked');
});

test('lcconv bench --pytorch with a Python that cannot run: one-line input error, exit 2', () => {
  const r = lcconv([
    'bench',
    'configs/smoke.yaml',
    '--steps',
    '1',
    '--warmup',
    '0',
    '--backend',
    'cpu',
    '--pytorch',
    '/nonexistent/python3',
  ]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--pytorch: cannot run '\/nonexistent\/python3'/);
});

test('lcconv bench --whole-run --pytorch: PyTorch trains the same images (same counts), ratios reported', {
  timeout: 120_000,
}, async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('PyTorch (with numpy) not installed for /usr/bin/python3');
  const dir = tempDir('whole-run');
  // Width 8, not the tiny config's 4: Debian's PyTorch 1.13 corrupts its heap in the channels-last
  // backward of 4-channel convs (seen as "double free or corruption"); from 8 channels up it runs.
  const config = writeTinyConfig(join(dir, 'tiny.yaml'), { 'dataset.augment': true, 'model.width': 8 });
  const r = lcconv([
    'bench',
    config,
    '--whole-run',
    '--epochs',
    '1',
    '--repeats',
    '1',
    '--pytorch',
    '/usr/bin/python3',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const torchSide = out.repeats[0].pytorch;
  assert.match(torchSide.framework, /^pytorch /);
  assert.equal(torchSide.epochs.length, 1);
  assert.ok(torchSide.peak_rss_bytes > 0);
  for (const k of ['train', 'eval', 'whole', 'train_cpu', 'eval_cpu', 'whole_cpu'])
    assert.ok(Number.isFinite(out.summary.ratio[k]) && out.summary.ratio[k] > 0, k);
});

test('lcconv bench: bad --epochs or --repeats is a one-line input error', async () => {
  assert.equal(
    (await inputErrorOf(['bench', 'configs/smoke.yaml', '--whole-run', '--epochs', '0'])).message,
    '--epochs: expected an integer ≥ 1, got 0',
  );
  assert.equal(
    (await inputErrorOf(['bench', 'configs/smoke.yaml', '--whole-run', '--repeats', '1.5'])).message,
    '--repeats: expected an integer ≥ 1, got 1.5',
  );
});
