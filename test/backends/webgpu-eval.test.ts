/**
 * Evaluation and export of a run trained on WebGPU, on whichever Dawn backend this process gets
 * (test/backends/dawn-backend.test.ts runs this file again pinned to the other one): FGSM, PGD and
 * a corruption on webgpu agree with the same evaluation on the CPU without a synchronous GPU read,
 * the finished model's logits agree with the CPU's, and the export reproduces them in PyTorch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork } from '../../src/backends/device-counters.js';
import { type BackendName, releaseBackends, selectBackend } from '../../src/backends/index.js';
import { loadWebGpu } from '../../src/backends/webgpu.js';
import { loadDataset } from '../../src/data/index.js';
import { pixelClassifier } from '../../src/eval/evaluate.js';
import { loadFinishedModel, readFinishedRun } from '../../src/eval/load-run.js';
import { evaluateRun } from '../../src/eval/run-eval.js';
import { encodeSafetensors } from '../../src/export/safetensors.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import type { EvalRow } from '../../src/runs/eval-csv.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const probe = await loadWebGpu();
const skip = probe.ok ? false : `WebGPU: ${probe.reason}`;
/** Named in every test title, so that a failure says which Dawn backend it was on. */
const on = probe.ok ? `webgpu (Dawn ${probe.details?.dawn_backend})` : 'webgpu';
const python = process.env.LCCONV_PYTHON ?? '/usr/bin/python3';
const torchMissing =
  spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0
    ? false
    : `PyTorch not importable by ${python} (Debian: apt-get install python3-torch)`;

/** Test images evaluated; every row is a fraction of these. */
const IMAGES = 32;
let runDir = '';
before(() => {
  if (skip) return;
  const dir = tempDir('webgpu-eval');
  const config = writeTinyConfig(join(dir, 'tiny.yaml'), {
    backend: 'webgpu',
    freeze: 'frozen',
    'model.lc_expansion': 2,
    'train.epochs': 6, // with 256 images and lr 0.1: well above chance, so attacks and noise have something to take away
    'train.lr': 0.1,
    'dataset.synthetic.train_size': 256,
    results_dir: join(dir, 'results'),
    eval: {
      images: IMAGES,
      attacks: ['fgsm', 'pgd'],
      linf_epsilons: [2, 8],
      steps: 3,
      corruptions: ['gaussian_noise'],
      severities: [3],
    },
  });
  // Trained in a child process on webgpu: it inherits LCCONV_DAWN_BACKEND, so the same Dawn backend.
  const r = lcconv(['run', config, '--quiet']);
  assert.equal(r.status, 0, `lcconv run on ${on}: ${r.stderr}`);
  const experiment = join(dir, 'results', 'tiny');
  runDir = join(experiment, readdirSync(experiment).find((d) => d.startsWith('frozen-'))!);
});
after(async () => {
  await releaseBackends();
});

/** The CPU backend to compare with: cpu-native where it loads, else pure JS. */
async function cpuBackend(): Promise<BackendName> {
  return selectBackend('cpu-native').then(
    () => 'cpu-native' as const,
    async () => {
      await selectBackend('cpu');
      return 'cpu' as const;
    },
  );
}

/** Evaluates a copy of the run (eval.csv would reuse rows measured before) on the active backend. */
async function evaluateCopy(name: string): Promise<EvalRow[]> {
  const copy = join(tempDir(`webgpu-eval-${name}`), 'run');
  cpSync(runDir, copy, { recursive: true });
  return (await evaluateRun(readFinishedRun(copy))).rows;
}

test(`eval on ${on}: clean, FGSM, PGD and gaussian noise agree with the CPU, without a synchronous GPU read`, async (t) => {
  if (skip) return t.skip(skip);
  await selectBackend('webgpu');
  const counter = countDeviceWork({ failOnSyncRead: true })!;
  let gpu: EvalRow[];
  try {
    gpu = await evaluateCopy('gpu');
  } finally {
    counter.stop();
  }
  assert.equal(counter.counts.syncReads, 0);
  assert.ok(counter.counts.dispatches > 0, 'the evaluation ran on the GPU');
  const cpuName = await cpuBackend();
  const cpu = await evaluateCopy('cpu');
  const setting = (r: EvalRow) => [r.metric, r.name, r.epsilon, r.severity, r.steps, r.n];
  assert.deepEqual(gpu.map(setting), cpu.map(setting));
  assert.deepEqual(
    gpu.map((r) => r.name),
    ['clean', 'fgsm', 'fgsm', 'pgd', 'pgd', 'gaussian_noise'],
  );
  const clean = gpu[0]!.accuracy;
  assert.ok(clean >= 0.75, `trained well above chance (${clean}), so the attacks have something to take away`);
  assert.ok(gpu.at(-2)!.accuracy < clean, 'PGD at ε = 8/255 lowers the accuracy');
  for (const [i, g] of gpu.entries()) {
    const c = cpu[i]!;
    t.diagnostic(`${g.name} ${g.epsilon ?? g.severity}: ${on} ${g.accuracy} vs ${cpuName} ${c.accuracy}`);
    // Same float32 math in another summation order: an image whose two top logits (or, for an
    // attack, whose input-gradient sign) sit within float noise may flip; one in IMAGES per row.
    assert.ok(
      Math.abs(g.accuracy - c.accuracy) <= ACC_TOL,
      `${g.name} ${g.epsilon ?? g.severity}: ${on} ${g.accuracy} vs ${cpuName} ${c.accuracy}`,
    );
  }
});

test(`a run trained on ${on}: its logits on ${on} agree with the CPU's, and its export reproduces them in PyTorch`, async (t) => {
  if (skip) return t.skip(skip);
  const run = readFinishedRun(runDir);
  const data = loadDataset(run.config.dataset, run.config.seed);
  const pixels = data.height * data.width * data.channels;
  const count = 8;
  const logitsOn = async (backend: BackendName) => {
    await selectBackend(backend);
    const model = await loadFinishedModel(run);
    const { classify, dispose } = pixelClassifier(model, data);
    const first = Float32Array.from(data.test.images.subarray(0, count * pixels), (v) => v / 255); // [0, 1] units
    const images = tf.tensor4d(first, [count, data.height, data.width, data.channels]);
    const logits = classify(images);
    const values = { images: (await images.data()) as Float32Array, logits: (await logits.data()) as Float32Array };
    tf.dispose([images, logits]);
    dispose();
    model.dispose();
    return values;
  };
  const gpu = await logitsOn('webgpu');
  const cpu = await logitsOn(await cpuBackend());
  const scale = Math.max(...cpu.logits.map(Math.abs));
  const worst = Math.max(...gpu.logits.map((v, i) => Math.abs(v - cpu.logits[i]!)));
  t.diagnostic(`max |logit difference| ${on} vs CPU: ${worst} (largest logit ${scale})`);
  assert.ok(worst <= 1e-4 * Math.max(1, scale), `logits ${on} vs CPU differ by ${worst}`);

  const out = join(tempDir('webgpu-export'), 'export');
  const r = lcconv(['export', runDir, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  if (torchMissing) return t.skip(`export written; not loaded: ${torchMissing}`);
  const check = join(out, '..', 'check.safetensors');
  const shape = [count, data.height, data.width, data.channels];
  writeFileSync(
    check,
    encodeSafetensors(
      new Map([
        ['images', { dtype: 'F32', shape, data: gpu.images }],
        ['logits', { dtype: 'F32', shape: [count, data.classNames.length], data: gpu.logits }],
      ] as const),
    ),
  );
  const torch = spawnSync(
    python,
    [join(PACKAGE_ROOT, 'bench', 'lcconv_export.py'), out, '--check', check, '--tol', '1e-4'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(torch.status, 0, `${torch.stdout}${torch.stderr}`);
});

/** One image of IMAGES. */
const ACC_TOL = 1 / IMAGES;
