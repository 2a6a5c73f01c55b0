/**
 * tfjs-core's own test suite, whole (every `*_test.js` in @tensorflow/tfjs-core/dist: ops, engine,
 * memory, kernel and gradient registries, io, …), passes on 'cpu-native' as it does on tfjs's 'cpu'
 * backend. The memory and registry specs hand the backend data ids it does not hold: the suite is
 * what showed the backend's hooks must only look at such ids (NativeCpuBackend.held). The suite runs
 * in a child process, so a crash in the addon fails this test instead of the runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadAddon } from '../../src/backends/cpu-native/addon.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const ADDON = join(ROOT, 'native', 'build', 'Release', 'lcconv_native.node');
const CORE_DIST = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core', 'dist');

/** Every test file tfjs-core ships (265 in 4.22.0), relative to its dist folder. */
const TEST_FILES = (readdirSync(CORE_DIST, { recursive: true }) as string[])
  .filter((f) => f.endsWith('_test.js'))
  .sort();

const skip = loadAddon(ADDON).ok ? false : 'cpu-native addon not built';

test("tfjs-core's whole test suite passes on cpu-native", { skip, timeout: 240_000 }, async () => {
  const child = join(HERE, 'tfjs-core-suite-child.js');
  const contents = [
    `import { run } from ${JSON.stringify(child)};`,
    ...TEST_FILES.map((f) => `import '@tensorflow/tfjs-core/dist/${f}';`),
    'await run();',
  ].join('\n');
  const outfile = join(ROOT, 'dist', 'test', 'backends', 'tfjs-core-suite.bundle.mjs');
  await build({
    stdin: { contents, resolveDir: ROOT, sourcefile: 'tfjs-core-suite-entry.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    // tfjs packages' ES module builds ("module"), so the suite and cpu-native share one tfjs-core.
    mainFields: ['module', 'main'],
    // tfjs-core's package.json marks its test files side-effect free; they register specs on import.
    ignoreAnnotations: true,
    // jasmine-core is CommonJS that reads its own folder: load it from node_modules as it is.
    external: ['jasmine-core', 'jasmine-core/*'],
    banner: {
      js: "import { createRequire as lcconvCreateRequire } from 'node:module'; const require = lcconvCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  const run = spawnSync(process.execPath, [outfile], {
    encoding: 'utf8',
    env: { ...process.env, LCCONV_NATIVE_ADDON: ADDON },
    maxBuffer: 64 << 20,
  });
  assert.equal(
    run.status,
    0,
    `suite process failed (${run.signal ?? `exit ${run.status}`}):\n${run.stderr.slice(-3000)}`,
  );
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
    counts?: Record<string, number>;
    failures?: { spec: string; messages: string[] }[];
    skip?: string;
  };
  assert.equal(result.skip, undefined);
  assert.deepEqual(result.failures, [], 'failing tfjs-core specs');
  // 4,225 specs pass in tfjs-core 4.22.0 (5 more are pending upstream); far fewer means files were
  // dropped from the bundle.
  assert.ok(TEST_FILES.length >= 250, `${TEST_FILES.length} test files found in ${CORE_DIST}`);
  assert.ok((result.counts?.passed ?? 0) >= 4200, `only ${JSON.stringify(result.counts)} specs ran`);
});
