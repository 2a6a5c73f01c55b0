/**
 * `auto` backend choice on faked probe tables (which backends load, on what device), and `doctor`
 * output for a machine missing backends. No GPU or native package needed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  BackendError,
  chooseBackend,
  PROBERS,
  probeAll,
  selectBackend,
  type Probe,
  type Probers,
  webGpuCannotWin,
} from '../../src/backends/index.js';
import { dawnGpuMissing, type VulkanFacts } from '../../src/backends/vulkan.js';
import type { DawnAdapter } from '../../src/backends/webgpu.js';
import { doctorReport, formatDoctor } from '../../src/cli/commands/doctor.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';

const ok = (backend: string, hardware: boolean, device = `${backend} device`): Probe => ({
  ok: true,
  backend,
  device,
  hardware,
});
const missing = (backend: string, reason = `${backend} missing`, fix?: string): Probe => ({
  ok: false,
  backend,
  reason,
  ...(fix ? { fix } : {}),
});

/** A machine: every backend absent unless listed. */
function machine(...probes: Probe[]): Probe[] {
  return (['tensorflow', 'webgpu', 'cpu-native', 'wasm', 'cpu'] as const).map(
    (b) => probes.find((p) => p.backend === b) ?? missing(b),
  );
}

test('auto order: CUDA tensorflow > hardware webgpu > CPU tensorflow > cpu-native > software webgpu > wasm > cpu', () => {
  const cases: [Probe[], string][] = [
    [machine(ok('tensorflow', true), ok('webgpu', true), ok('cpu', false)), 'tensorflow'],
    [machine(ok('tensorflow', false), ok('webgpu', true), ok('cpu', false)), 'webgpu'],
    [machine(ok('tensorflow', false), ok('webgpu', false), ok('cpu-native', false), ok('cpu', false)), 'tensorflow'],
    [machine(ok('webgpu', false), ok('cpu-native', false), ok('cpu', false)), 'cpu-native'],
    [machine(ok('webgpu', false), ok('wasm', false), ok('cpu', false)), 'webgpu'],
    [machine(ok('wasm', false), ok('cpu', false)), 'wasm'],
    [machine(ok('cpu', false)), 'cpu'],
  ];
  for (const [probes, expected] of cases)
    assert.equal(chooseBackend(probes).chosen.backend, expected, JSON.stringify(probes.filter((p) => p.ok)));
});

test('auto says why every better candidate was skipped, and nothing about worse ones', () => {
  const { chosen, skipped } = chooseBackend(
    machine(
      missing('tensorflow', 'libtensorflow binding not available'),
      ok('webgpu', false, 'llvmpipe'),
      ok('cpu', false),
    ),
  );
  assert.equal(chosen.backend, 'webgpu');
  assert.deepEqual(skipped, ['tensorflow: libtensorflow binding not available', 'cpu-native: cpu-native missing']);

  // A software webgpu that loses to cpu-native is reported with its device; wasm (worse) is not mentioned.
  const r = chooseBackend(machine(ok('webgpu', false, 'llvmpipe'), ok('cpu-native', false), ok('cpu', false)));
  assert.equal(r.chosen.backend, 'cpu-native');
  assert.deepEqual(r.skipped, ['tensorflow: tensorflow missing', 'webgpu: llvmpipe ranks below cpu-native']);
});

test('auto loads Dawn only when it can win: a GPU path exists, or nothing above a software adapter loaded', async () => {
  const facts = (loader: boolean, icd: boolean): VulkanFacts => ({
    platform: 'linux',
    loader,
    icds: icd ? ['/usr/share/vulkan/icd.d/nvidia_icd.json'] : [],
    icdFolders: ['/usr/share/vulkan/icd.d'],
  });
  for (const loader of [true, false])
    for (const icd of [true, false])
      for (const cpuNative of [true, false]) {
        const label = `loader ${loader}, ICD ${icd}, cpu-native ${cpuNative}`;
        let dawnLoaded = false;
        const probers: Probers = {
          tensorflow: async () => missing('tensorflow'),
          webgpu: async () => {
            dawnLoaded = true;
            return ok('webgpu', loader && icd, 'a Dawn adapter');
          },
          'cpu-native': async () => (cpuNative ? ok('cpu-native', false) : missing('cpu-native')),
          wasm: async () => missing('wasm'),
          cpu: async () => ok('cpu', false),
        };
        const probes = await probeAll(probers, { dawnGpuMissing: () => dawnGpuMissing(facts(loader, icd)) });
        const canWin = (loader && icd) || !cpuNative;
        assert.equal(dawnLoaded, canWin, label);
        assert.deepEqual(
          probes.map((p) => p.backend),
          ['tensorflow', 'webgpu', 'cpu-native', 'wasm', 'cpu'],
          'probes keep their order',
        );
        const { chosen, skipped } = chooseBackend(probes);
        assert.equal(chosen.backend, loader && icd ? 'webgpu' : cpuNative ? 'cpu-native' : 'webgpu', label);
        if (!canWin)
          assert.ok(
            skipped.some((s) =>
              /^webgpu: not loaded: no Vulkan (loader|driver ICD).*only a software adapter, which ranks below cpu-native$/.test(
                s,
              ),
            ),
            `${label}: ${skipped.join(' | ')}`,
          );
        // doctor loads every backend, to show what Dawn offers, whatever a run would do.
        dawnLoaded = false;
        await probeAll(probers, { all: true, dawnGpuMissing: () => 'no GPU' });
        assert.ok(dawnLoaded, `${label}: doctor probes Dawn`);
      }
  // Only a backend that ranks above a software adapter keeps Dawn out: wasm and cpu do not.
  assert.equal(webGpuCannotWin('no GPU', [ok('wasm', false), ok('cpu', false)]), null);
  assert.match(webGpuCannotWin('no GPU', [ok('tensorflow', false)])!, /ranks below tensorflow$/);
  assert.equal(webGpuCannotWin(null, [ok('cpu-native', false)]), null);
});

test('no usable backend is a one-line BackendError listing every reason', () => {
  assert.throws(
    () => chooseBackend(machine(missing('cpu', 'broken'))),
    (e: unknown) => e instanceof BackendError && /cpu: broken/.test(e.message) && !e.message.includes('\n'),
  );
});

test('selectBackend uses an injected probe table and activates the choice', async () => {
  const probers: Probers = {
    ...PROBERS,
    tensorflow: async () => missing('tensorflow', 'faked away'),
    webgpu: async () => missing('webgpu', 'faked away'),
    'cpu-native': async () => missing('cpu-native'),
    wasm: async () => missing('wasm'),
  };
  const choice = await selectBackend('auto', probers, { dawnGpuMissing: () => null });
  assert.equal(choice.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(choice.skipped, [
    'tensorflow: faked away',
    'webgpu: faked away',
    'cpu-native: cpu-native missing',
    'wasm: wasm missing',
  ]);
  // An explicit request for a missing backend fails with the reason and the fix, not mid-run.
  await assert.rejects(
    selectBackend('webgpu', {
      ...probers,
      webgpu: async () => missing('webgpu', 'Dawn found no adapter', 'apt-get install libegl1'),
    }),
    /backend 'webgpu' is not available: Dawn found no adapter \(fix: apt-get install libegl1\)/,
  );
});

test('doctor shows each missing backend with its reason and fix, and what auto picks', async () => {
  const probers: Probers = {
    ...PROBERS,
    tensorflow: async () =>
      missing('tensorflow', 'libtensorflow binding not available', 'npm install @tensorflow/tfjs-node'),
    webgpu: async () => missing('webgpu', 'Dawn found no adapter', 'apt-get install libegl1 libegl-mesa0 libgles2'),
    'cpu-native': async () => missing('cpu-native', 'addon not built'),
    wasm: async () => missing('wasm', 'cannot train'),
  };
  const report = await doctorReport(probers, () => null);
  const text = formatDoctor(report);
  assert.match(text, /^node {6}v\d+/m);
  assert.match(text, /-- {2}webgpu {6}Dawn found no adapter\n\s+fix: apt-get install libegl1 libegl-mesa0 libgles2\n/);
  assert.match(
    text,
    /-- {2}tensorflow {2}libtensorflow binding not available\n\s+fix: npm install @tensorflow\/tfjs-node\n/,
  );
  assert.match(text, /ok {2}cpu {9}CPU \(pure JavaScript kernels\)/);
  assert.match(
    text,
    /^auto: cpu — CPU \(pure JavaScript kernels\)\n {2}skipped tensorflow: libtensorflow binding not available\n/m,
  );
  assert.deepEqual(
    report.probes.map((p) => p.backend),
    ['tensorflow', 'webgpu', 'cpu-native', 'wasm', 'cpu'],
  );
});

test('doctor prints what Dawn said in one line, and that a run leaves Dawn out', async () => {
  const probers: Probers = {
    tensorflow: async () => missing('tensorflow'),
    webgpu: async () => ({
      ...ok('webgpu', false, 'llvmpipe (Dawn opengles, software adapter)'),
      log: 'Dawn: no Vulkan loader (libvulkan.so.1), using OpenGL ES',
    }),
    'cpu-native': async () => ok('cpu-native', false),
    wasm: async () => missing('wasm'),
    cpu: async () => ok('cpu', false),
  };
  const text = formatDoctor(await doctorReport(probers, () => 'no Vulkan loader (libvulkan.so.1 not found)'));
  assert.match(
    text,
    /ok {2}webgpu {6}llvmpipe \(Dawn opengles, software adapter\)\n {18}Dawn: no Vulkan loader \(libvulkan\.so\.1\), using OpenGL ES\n/,
  );
  assert.match(
    text,
    /^ {2}a run does not load webgpu at all: no Vulkan loader \(libvulkan\.so\.1 not found\), so Dawn could offer only a software adapter, which ranks below cpu-native$/m,
  );
});

test('doctor lists the adapter of each Dawn backend, software or hardware, and which one --backend webgpu takes', async () => {
  const probers: Probers = {
    tensorflow: async () => missing('tensorflow'),
    webgpu: async () => ({ ...ok('webgpu', true, 'NVIDIA H100 (Dawn vulkan)'), details: { dawn_backend: 'vulkan' } }),
    'cpu-native': async () => ok('cpu-native', false),
    wasm: async () => missing('wasm'),
    cpu: async () => ok('cpu', false),
  };
  const adapters = async (): Promise<DawnAdapter[]> => [
    { dawnBackend: 'vulkan', found: true, name: 'nvidia NVIDIA H100', driver: '570.86', software: false },
    { dawnBackend: 'opengles', found: false, reason: 'no OpenGL ES through EGL' },
  ];
  const report = await doctorReport(probers, () => null, adapters);
  assert.deepEqual(report.dawn, { adapters: await adapters(), uses: 'vulkan', pinned: null });
  assert.match(
    formatDoctor(report),
    /^webgpu adapters, one per Dawn backend:\n {2}ok {2}vulkan {4}nvidia NVIDIA H100, driver 570\.86, hardware: --backend webgpu uses this\n {2}-- {2}opengles {2}none: no OpenGL ES through EGL\n/m,
  );
  // Pinned to OpenGL ES: that adapter is the one a run takes, the other says how to get it.
  const pinned = async (): Promise<DawnAdapter[]> => [
    { dawnBackend: 'vulkan', found: true, name: 'mesa llvmpipe', driver: 'llvmpipe: Mesa 25.0.7', software: true },
    { dawnBackend: 'opengles', found: true, name: 'llvmpipe', driver: 'OpenGL ES 3.2 Mesa 22.3.6', software: true },
  ];
  const gles: Probers = {
    ...probers,
    webgpu: async () => ({ ...ok('webgpu', false, 'llvmpipe (Dawn opengles)'), details: { dawn_backend: 'opengles' } }),
  };
  const saved = process.env.LCCONV_DAWN_BACKEND;
  process.env.LCCONV_DAWN_BACKEND = 'opengles';
  try {
    const text = formatDoctor(await doctorReport(gles, () => null, pinned));
    assert.match(
      text,
      /ok {2}vulkan {4}mesa llvmpipe, driver llvmpipe: Mesa 25\.0\.7, software: LCCONV_DAWN_BACKEND=vulkan --backend webgpu to use it\n/,
    );
    assert.match(
      text,
      /ok {2}opengles {2}llvmpipe, driver OpenGL ES 3\.2 Mesa 22\.3\.6, software: --backend webgpu uses this \(LCCONV_DAWN_BACKEND=opengles\)\n/,
    );
  } finally {
    if (saved === undefined) delete process.env.LCCONV_DAWN_BACKEND;
    else process.env.LCCONV_DAWN_BACKEND = saved;
  }
  // Faked probers without a list: no adapter section (the real list would load Dawn).
  assert.equal((await doctorReport(probers, () => null)).dawn, null);
});

test('lcconv doctor --json runs here: every backend probed, cpu usable, wasm says why it cannot train', {
  timeout: 60_000,
}, async () => {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'lcconv.js'), 'doctor', '--json'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.probes.length, 5);
  assert.ok(report.probes.find((p: Probe) => p.backend === 'cpu').ok);
  // wasm has no filter-gradient kernel in tfjs 4.22: the probe says it cannot train instead of failing mid-run.
  const wasm = report.probes.find((p: Probe) => p.backend === 'wasm');
  if (!wasm.ok) assert.match(wasm.reason, /cannot train/);
  assert.ok(report.auto.backend, JSON.stringify(report.auto));
});
