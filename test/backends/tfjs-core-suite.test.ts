/**
 * tfjs-core's own op tests pass on 'cpu-native' as they do on tfjs's 'cpu' backend. Only the test
 * files of ops whose kernels cpu-native replaces (conv, matmul, elementwise, reductions, and the ops
 * built from them) run: every other kernel is tfjs's cpu kernel itself, and the whole suite (4,230
 * specs: all 4,225 run pass) took 34–49 s here against a few seconds for these. The suite runs in a child process, so a
 * crash in the addon fails this test instead of the runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadAddon } from '../../src/backends/cpu-native/addon.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const ADDON = join(ROOT, 'native', 'build', 'Release', 'lcconv_native.node');

/** tfjs-core/dist/ops/<name>_test.js files covering the kernels cpu-native overrides. */
const TEST_FILES = [
  // Conv2D, FusedConv2D, Conv2DBackpropInput/Filter, the depthwise family, and ops built on them.
  'conv2d',
  'conv2d_transpose',
  'conv1d',
  'conv2d_separable',
  'depthwise_conv2d',
  'fused/fused_conv2d',
  'fused/fused_depthwise_conv2d',
  // BatchMatMul, _FusedMatMul.
  'mat_mul',
  'fused/fused_mat_mul',
  // Binary ops (arithmetic: mul, div; binary_ops: maximum, minimum, squaredDifference) and unary ops.
  'add',
  'sub',
  'arithmetic',
  'binary_ops',
  'relu',
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'abs',
  'step',
  'reciprocal',
  'sigmoid',
  'tanh',
  'add_n',
  // Sum, Mean, Max, and the ops a training step builds from them.
  'sum',
  'mean',
  'max',
  'moments',
  'softmax',
  'log_softmax',
  'losses/softmax_cross_entropy',
];

const skip = loadAddon(ADDON).ok ? false : 'cpu-native addon not built';

test("tfjs-core's op tests pass on cpu-native", { skip, timeout: 240_000 }, async () => {
  const child = join(HERE, 'tfjs-core-suite-child.js');
  const contents = [
    `import { run } from ${JSON.stringify(child)};`,
    ...TEST_FILES.map((f) => `import '@tensorflow/tfjs-core/dist/ops/${f}_test.js';`),
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
  // 815 specs in tfjs 4.22.0's files above; far fewer means files were dropped from the bundle.
  assert.ok((result.counts?.passed ?? 0) >= 800, `only ${JSON.stringify(result.counts)} specs ran`);
});
