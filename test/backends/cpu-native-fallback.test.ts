/**
 * Without the addon (not built, or unloadable) 'cpu-native' reports not ok with the reason and the
 * fix, so backend selection falls back. Runs everywhere: it needs no compiled addon.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCpuNative } from '../../src/backends/cpu-native/index.js';
import { tempDir } from '../fixtures.js';

test('a missing addon gives a not-ok probe with reason and fix', async () => {
  const probe = await loadCpuNative({ addonPath: '/nonexistent/lcconv_native.node' });
  assert.equal(probe.ok, false);
  if (probe.ok) return;
  assert.equal(probe.backend, 'cpu-native');
  assert.match(probe.reason, /not built/);
  assert.match(probe.fix ?? '', /apt-get install g\+\+ libdnnl-dev/);
});

test('the reason recorded by a skipped build is what the probe reports', async () => {
  const build = join(tempDir('native'), 'build');
  mkdirSync(build);
  writeFileSync(join(build, 'status.json'), JSON.stringify({ ok: false, reason: 'no C++ compiler (g++) found' }));
  const probe = await loadCpuNative({ addonPath: join(build, 'Release', 'lcconv_native.node') });
  assert.equal(probe.ok, false);
  if (!probe.ok) assert.match(probe.reason, /not built: no C\+\+ compiler \(g\+\+\) found/);
});

test('a file that is not a loadable addon gives a not-ok probe, not a crash', async () => {
  const dir = tempDir('native');
  const bogus = join(dir, 'lcconv_native.node');
  writeFileSync(bogus, 'not an ELF file');
  const probe = await loadCpuNative({ addonPath: bogus });
  assert.equal(probe.ok, false);
  if (!probe.ok) assert.match(probe.reason, /failed to load/);
});

test('an invalid LCCONV_THREADS is reported, not ignored', async () => {
  const saved = process.env.LCCONV_THREADS;
  process.env.LCCONV_THREADS = 'two';
  try {
    const probe = await loadCpuNative();
    assert.equal(probe.ok, false);
    if (!probe.ok) assert.match(probe.reason, /LCCONV_THREADS/);
  } finally {
    if (saved === undefined) delete process.env.LCCONV_THREADS;
    else process.env.LCCONV_THREADS = saved;
  }
});
