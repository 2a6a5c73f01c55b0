/**
 * A normal run prints lcconv's own lines only: no Dawn warnings (native code writing to stderr
 * while it looks for adapters) and no tfjs banner, on `auto`, `cpu` and `webgpu`, and in `doctor`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stderrCaptureAvailable } from '../../src/backends/stderr-capture.js';
import { dawnGpuMissing, vulkanFacts } from '../../src/backends/vulkan.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

/** Dawn's lines as they looked ("Warning: Couldn't load Vulkan ... at operator() (...)") and tfjs's banner. */
const NOISE = /^Warning:|at operator\(\)|Hi, looks like you are running TensorFlow\.js/m;

const noCapture = stderrCaptureAvailable()
  ? false
  : 'native/build/Release/lcconv_stdio.node not built: Dawn, when loaded, prints its warnings';

function runTiny(backend: string) {
  const dir = tempDir(`quiet-${backend}`);
  const config = writeTinyConfig(join(dir, 'tiny.yaml'), { backend, results_dir: join(dir, 'results') });
  const r = lcconv(['run', config, '--set', 'seeds=[0]']);
  return { r, dir };
}

function assertQuiet(output: { stdout: string; stderr: string }, what: string) {
  const hit = NOISE.exec(output.stderr) ?? NOISE.exec(output.stdout);
  assert.equal(hit, null, `${what} printed third-party noise:\n${output.stderr}`);
}

test('run on auto prints no Dawn warnings and no tfjs banner', { skip: noCapture, timeout: 120_000 }, () => {
  const { r } = runTiny('auto');
  assert.equal(r.status, 0, r.stderr);
  assertQuiet(r, 'lcconv run (auto)');
  // Where Dawn could only offer a software adapter below a CPU backend, auto does not load it at all.
  if (dawnGpuMissing(vulkanFacts()) && /^backend: (cpu-native|tensorflow) /m.test(r.stderr + r.stdout))
    assert.match(r.stderr + r.stdout, /skipped webgpu: not loaded: /);
});

test('run on cpu prints no tfjs banner', { timeout: 120_000 }, () => {
  const { r } = runTiny('cpu');
  assert.equal(r.status, 0, r.stderr);
  assertQuiet(r, 'lcconv run --backend cpu');
});

test('run on webgpu trains and is quiet', { skip: noCapture, timeout: 120_000 }, (t) => {
  const { r, dir } = runTiny('webgpu');
  if (r.status !== 0 && /backend 'webgpu' is not available/.test(r.stderr)) {
    t.skip(`no Dawn adapter here: ${r.stderr.trim()}`);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  assertQuiet(r, 'lcconv run --backend webgpu');
  const exp = join(dir, 'results', 'tiny');
  const [run] = readdirSync(exp).filter((d) => !d.endsWith('.csv'));
  const summary = JSON.parse(readFileSync(join(exp, run!, 'summary.json'), 'utf8'));
  assert.equal(summary.backend, 'webgpu');
  assert.equal(summary.status, 'finished');
});

test('doctor loads Dawn but prints its warnings as one summary line', { skip: noCapture, timeout: 60_000 }, () => {
  const r = lcconv(['doctor']);
  assert.equal(r.status, 0, r.stderr);
  assertQuiet(r, 'lcconv doctor');
  if (/^ {2}ok {2}webgpu /m.test(r.stdout)) assert.match(r.stdout, /^ +Dawn: .*using /m);
});
