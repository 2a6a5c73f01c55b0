/**
 * LCCONV_DAWN_BACKEND pins Dawn to one backend, and the WebGPU tests run on each that has an adapter
 * here (docs/backends.md: lavapipe beside Mesa's OpenGL ES; scripts/setup.sh --test-tools installs
 * both): the test files run in-process on the backend Dawn picks, and again, from here, in a child
 * pinned to each other one. Through child processes, since Dawn starts once per process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DoctorReport } from '../../src/cli/commands/doctor.js';
import { BIN } from '../fixtures.js';

interface Probe {
  backend: string;
  ok: boolean;
  device?: string;
  reason?: string;
}

function doctor(env: Record<string, string>): DoctorReport {
  const r = spawnSync(process.execPath, [BIN, 'doctor', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as DoctorReport;
}

function webgpuProbe(env: Record<string, string>): Probe {
  return doctor(env).probes.find((p) => p.backend === 'webgpu')! as Probe;
}

test('LCCONV_DAWN_BACKEND=opengles and =vulkan each give that Dawn backend, or say it has no adapter; other values are refused', (t) => {
  const free = webgpuProbe({});
  if (!free.ok) return t.skip(`no WebGPU adapter here: ${free.reason}`);
  const gles = webgpuProbe({ LCCONV_DAWN_BACKEND: 'opengles' });
  if (gles.ok) assert.match(gles.device!, /\(Dawn opengles/);
  else assert.match(gles.reason!, /Dawn found no opengles adapter \(LCCONV_DAWN_BACKEND=opengles\)/);
  const vulkan = webgpuProbe({ LCCONV_DAWN_BACKEND: 'vulkan' });
  if (vulkan.ok) assert.match(vulkan.device!, /\(Dawn vulkan/);
  else assert.match(vulkan.reason!, /Dawn found no vulkan adapter \(LCCONV_DAWN_BACKEND=vulkan\)/);
  assert.ok(gles.ok || vulkan.ok, 'the unpinned adapter is one of the two');
  const bad = webgpuProbe({ LCCONV_DAWN_BACKEND: 'metal' });
  assert.equal(bad.ok, false);
  assert.match(bad.reason!, /LCCONV_DAWN_BACKEND=metal: expected vulkan or opengles, or unset/);
});

/** The test files of the WebGPU path: training in every mode and family, resume, fused ops, eval and export. */
const WEBGPU_TESTS = ['webgpu-training.test.js', 'fused-ops.test.js', 'webgpu-eval.test.js'].map((f) =>
  join(dirname(fileURLToPath(import.meta.url)), f),
);

test('the WebGPU tests pass pinned to each Dawn backend other than the one this machine picks', {
  timeout: 10 * 60_000,
}, (t) => {
  const { dawn } = doctor({ LCCONV_DAWN_BACKEND: '' });
  if (!dawn) return t.skip('the webgpu package does not load here');
  const others = dawn.adapters.filter((a) => a.found && a.dawnBackend !== dawn.uses);
  if (others.length === 0) {
    const absent = dawn.adapters.flatMap((a) => (a.found ? [] : [`${a.dawnBackend}: ${a.reason}`]));
    return t.skip(
      `only Dawn ${dawn.uses ?? '(none)'} has an adapter here (${absent.join('; ')}); scripts/lavapipe.sh --user adds Vulkan`,
    );
  }
  for (const other of others) {
    // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing TAP.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...WEBGPU_TESTS], {
      encoding: 'utf8',
      env: { ...env, LCCONV_DAWN_BACKEND: other.dawnBackend },
      maxBuffer: 64 * 1024 * 1024,
    });
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(r.stdout)?.[1] ?? Number.NaN);
    const failed = r.stdout.split('\n').filter((line) => /^\s*not ok /.test(line));
    t.diagnostic(
      `Dawn ${other.dawnBackend}: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`,
    );
    assert.equal(
      r.status,
      0,
      `the WebGPU tests failed on Dawn ${other.dawnBackend} (${other.found ? other.name : ''}):\n${failed.join('\n')}\n${r.stdout.slice(-4000)}${r.stderr.slice(-2000)}`,
    );
    assert.ok(count('pass') > 0, `nothing passed on Dawn ${other.dawnBackend}`);
    assert.match(
      r.stdout,
      new RegExp(`on webgpu \\(Dawn ${other.dawnBackend}\\)`),
      'the child ran on the pinned backend',
    );
  }
});
