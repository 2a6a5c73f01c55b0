#!/usr/bin/env node
// Builds the optional native addons (native/): oneDNN behind the 'cpu-native' backend, the
// stderr capture that keeps Dawn's start-up warnings off the terminal, and the JPEG/PNG decoder of
// image folders (where libjpeg-turbo's and libpng's headers are). Called from
// `npm run build:native` and the `prepare` script; it never fails the install: on any problem it
// prints one line (why + fix), records it in native/build/status.json for `lcconv doctor`, and
// exits 0, so lcconv works without the addon (the backend probe then reports the reason).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const statusFile = join(buildDir, 'status.json');
const FIX = 'apt-get install g++ libdnnl-dev && npm run build:native';

function record(ok, reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(
    statusFile,
    `${JSON.stringify({ ok, reason, fix: ok ? undefined : FIX, at: new Date().toISOString() }, null, 2)}\n`,
  );
}

function skip(reason) {
  record(false, reason);
  console.log(`lcconv: native oneDNN addon not built (${reason}); cpu-native backend unavailable. Fix: ${FIX}`);
  process.exit(0);
}

// npm sets npm_config_node_gyp for scripts; otherwise use the copy bundled with npm next to node.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((p) => p && existsSync(p));
}

// node-gyp downloads Node's headers unless told where they are; Debian's nodejs ships them in
// /usr/include/node, and this machine class has no network for the download.
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  for (const dir of [resolve(dirname(process.execPath), '..'), '/usr']) {
    if (existsSync(join(dir, 'include', 'node', 'node_api.h'))) return [`--nodedir=${dir}`];
  }
  return [];
}

function onednnHeaderFound() {
  return ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'].some((p) => existsSync(p));
}

function main() {
  if (process.env.LCCONV_SKIP_NATIVE === '1') skip('LCCONV_SKIP_NATIVE=1');
  if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported yet`);
  const cxx = spawnSync(process.env.CXX ?? 'g++', ['--version'], { encoding: 'utf8' });
  if (cxx.status !== 0) skip('no C++ compiler (g++) found');
  if (!onednnHeaderFound()) skip('oneDNN headers (oneapi/dnnl/dnnl.hpp) not found');
  const gyp = findNodeGyp();
  if (!gyp) skip('node-gyp not found (it ships with npm)');
  const res = spawnSync(process.execPath, [gyp, 'rebuild', ...nodeDirArgs(), '-j', '2'], {
    cwd: nativeDir,
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    const lines = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n');
    const firstError = lines.find(
      (l) => /error/i.test(l) && !/^gyp (info|ERR! (cwd|node|node-gyp|System|command|stack))/.test(l),
    );
    skip(`node-gyp failed: ${(firstError ?? res.error?.message ?? `exit ${res.status}`).trim().slice(0, 300)}`);
  }
  record(true, 'built');
  // binding.gyp builds the image decoder only where the libjpeg and libpng headers are.
  const image = existsSync(join(buildDir, 'Release', 'lcconv_image.node'))
    ? 'lcconv_image.node: JPEG/PNG decoding'
    : 'no lcconv_image.node: JPEG/PNG headers not found, sharp decodes image folders (apt-get install libjpeg62-turbo-dev libpng-dev)';
  console.log(
    `lcconv: native addons built (native/build/Release/lcconv_native.node: oneDNN; lcconv_stdio.node: stderr capture; ${image})`,
  );
}

main();
