/**
 * LCCONV_DAWN_BACKEND pins Dawn to one backend, so the WebGPU tests can run on each where both exist
 * (docs/backends.md: lavapipe beside Mesa's OpenGL ES). Through `lcconv doctor --json` in a child
 * process, since Dawn starts once per process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BIN } from '../fixtures.js';

interface Probe {
  backend: string;
  ok: boolean;
  device?: string;
  reason?: string;
}

function webgpuProbe(env: Record<string, string>): Probe {
  const r = spawnSync(process.execPath, [BIN, 'doctor', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { probes: Probe[] }).probes.find((p) => p.backend === 'webgpu')!;
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
