/**
 * Whether Dawn could reach a GPU, from files only (src/backends/vulkan.ts), and the loader lookup
 * it rests on (src/backends/shared-libraries.ts), on faked machines.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findSharedLibraries } from '../../src/backends/shared-libraries.js';
import { dawnGpuMissing, icdFolders, type VulkanFacts, vulkanFacts } from '../../src/backends/vulkan.js';
import { tempDir } from '../fixtures.js';

const linux = (loader: boolean, icds: string[]): VulkanFacts => ({
  platform: 'linux',
  loader,
  icds,
  icdFolders: ['/usr/share/vulkan/icd.d'],
});

test('Dawn can reach a GPU on Linux only with the Vulkan loader and a hardware driver ICD', () => {
  assert.equal(dawnGpuMissing(linux(true, ['/usr/share/vulkan/icd.d/nvidia_icd.json'])), null);
  assert.match(
    dawnGpuMissing(linux(false, ['/usr/share/vulkan/icd.d/nvidia_icd.json']))!,
    /no Vulkan loader \(libvulkan\.so\.1/,
  );
  assert.match(
    dawnGpuMissing(linux(true, []))!,
    /no Vulkan driver ICD \(no \*\.json in \/usr\/share\/vulkan\/icd\.d\)/,
  );
  // lavapipe is Vulkan on the CPU: Dawn would get a software adapter through it.
  assert.match(
    dawnGpuMissing(linux(true, ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json']))!,
    /only software Vulkan drivers \(lvp_icd/,
  );
  assert.equal(
    dawnGpuMissing(linux(true, ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/etc/vulkan/icd.d/radeon_icd.json'])),
    null,
  );
  // Metal and D3D12 are not checked from files: Dawn is probed there.
  assert.equal(dawnGpuMissing({ platform: 'darwin', loader: false, icds: [], icdFolders: [] }), null);
  assert.equal(dawnGpuMissing({ platform: 'win32', loader: false, icds: [], icdFolders: [] }), null);
});

test('vulkanFacts finds the loader on LD_LIBRARY_PATH and ICDs in the XDG folders the Vulkan loader searches', () => {
  const root = tempDir('vulkan');
  const libs = join(root, 'lib');
  const icd = join(root, 'share', 'vulkan', 'icd.d');
  mkdirSync(libs, { recursive: true });
  mkdirSync(icd, { recursive: true });
  const env = { XDG_DATA_DIRS: join(root, 'share'), XDG_CONFIG_DIRS: join(root, 'none'), HOME: root };
  const noLoader = { libraryPath: libs, cache: null, folders: [] };
  let facts = vulkanFacts(env, noLoader, 'linux');
  assert.equal(facts.loader, false);
  assert.deepEqual(
    facts.icds.filter((p) => p.startsWith(root)),
    [],
  );
  assert.ok(facts.icdFolders.includes(icd), facts.icdFolders.join(':'));

  writeFileSync(join(libs, 'libvulkan.so.1'), '');
  writeFileSync(join(icd, 'nvidia_icd.json'), '{}');
  writeFileSync(join(icd, 'README'), '');
  facts = vulkanFacts(env, noLoader, 'linux');
  assert.equal(facts.loader, true);
  assert.deepEqual(
    facts.icds.filter((p) => p.startsWith(root)),
    [join(icd, 'nvidia_icd.json')],
  );

  // VK_DRIVER_FILES names manifests directly.
  const named = vulkanFacts({ ...env, VK_DRIVER_FILES: '/opt/x/my_icd.json' }, noLoader, 'linux');
  assert.ok(named.icds.includes('/opt/x/my_icd.json'));
});

test('the Vulkan loader ICD folders follow XDG defaults', () => {
  const folders = icdFolders({}, '/home/u');
  for (const f of [
    '/home/u/.config/vulkan/icd.d',
    '/etc/xdg/vulkan/icd.d',
    '/etc/vulkan/icd.d',
    '/home/u/.local/share/vulkan/icd.d',
    '/usr/local/share/vulkan/icd.d',
    '/usr/share/vulkan/icd.d',
  ])
    assert.ok(folders.includes(f), f);
});

test('findSharedLibraries reads sonames from the loader cache bytes, LD_LIBRARY_PATH and default folders', () => {
  // The cache's string table: `\0soname\0` keys and `/path/soname\0` values.
  const cache = Buffer.from('glibc-ld.so.cache1.1\0libEGL.so.1\0/lib/x86_64-linux-gnu/libEGL.so.1\0xlibfoo.so.2\0');
  const dir = tempDir('libs');
  writeFileSync(join(dir, 'libbar.so.3'), '');
  const found = findSharedLibraries(['libEGL.so.1', 'libfoo.so.2', 'libbar.so.3', 'libvulkan.so.1'], {
    cache,
    libraryPath: `/nonexistent:${dir}`,
    folders: [],
  });
  assert.deepEqual([...found].sort(), ['libEGL.so.1', 'libbar.so.3'], 'xlibfoo.so.2 is another library');
});
