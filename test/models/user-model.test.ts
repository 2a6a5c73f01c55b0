/**
 * Your own model (model.arch: ./path/to/model.js): a script that rebuilds ResNet-8 from the kit is
 * the built-in ResNet-8 (same weights, counts, plan and logits) in every freeze mode and with LC
 * blocks, so freeze modes and LC blocks apply to a user's network as to the built-in ones; a
 * script that breaks the contract gets one line naming the file and what is wrong; a run keeps a
 * copy of the script and its SHA-256, rebuilds from it after the file is edited, and says so.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../src/errors.js';
import { buildNetwork, planNetwork, spatialConvsOf } from '../../src/models/index.js';
import { readUserModel } from '../../src/models/user-model.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { readRunConfig } from '../../src/runs/config.js';
import { resolveUserModel } from '../../src/runs/model.js';
import { lcconv, tempDir, tinyResNetSpec, writeTinyConfig } from '../fixtures.js';

/** The built-in ResNet-8 (src/models/resnet.ts), written as a user's script with the same layer names. */
const RESNET8 = `
module.exports = function build(kit, spec) {
  const { tf } = kit;
  const W = spec.width;
  const stem = kit.spatialConv('stem.conv', spec.inChannels, W);
  const stemBn = kit.batchNorm('stem.bn', W);
  const block = (name, inC, outC, stride) => {
    const conv1 = kit.spatialConv(name + '.conv1', inC, outC, { stride });
    const bn1 = kit.batchNorm(name + '.bn1', outC);
    const conv2 = kit.spatialConv(name + '.conv2', outC, outC);
    const bn2 = kit.batchNorm(name + '.bn2', outC);
    let shortcut = (x) => x;
    if (stride !== 1 || inC !== outC) {
      const proj = kit.pointwiseConv(name + '.shortcut.conv', inC, outC, { stride });
      const projBn = kit.batchNorm(name + '.shortcut.bn', outC);
      shortcut = (x, t) => projBn(proj(x, t), t);
    }
    return (x, t) => tf.relu(tf.add(bn2(conv2(tf.relu(bn1(conv1(x, t), t)), t), t), shortcut(x, t)));
  };
  const body = kit.sequential([
    (x, t) => tf.relu(stemBn(stem(x, t), t)),
    block('stage1.block1', W, W, 1),
    block('stage2.block1', W, 2 * W, 2),
    block('stage3.block1', 2 * W, 4 * W, 2),
  ]);
  const fc = kit.linear('fc', 4 * W, spec.numClasses);
  return (x, training) => fc(kit.globalAvgPool(body(x, training)));
};
`;

function script(text: string, name = 'model.js'): string {
  const file = join(tempDir('user-model'), name);
  writeFileSync(file, text);
  return file;
}

test('a script that rebuilds ResNet-8 from the kit is the built-in ResNet-8 in every freeze mode and with LC blocks', () => {
  const file = script(RESNET8);
  const x = tf.tensor4d(
    Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.sin(i * 0.31)),
    [2, 16, 16, 3],
  );
  for (const arm of [
    { freeze: 'learned', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'frozen', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'shared', lcExpansion: 1, lcDepthwise: false },
    { freeze: 'frozen', lcExpansion: 3, lcDepthwise: false },
    { freeze: 'shared', lcExpansion: 2, lcDepthwise: true },
  ] as const) {
    const what = `${arm.freeze} E=${arm.lcExpansion}${arm.lcDepthwise ? ' depthwise' : ''}`;
    const builtinSpec = tinyResNetSpec({ ...arm, kernelSize: 5 });
    const userSpec = { ...builtinSpec, arch: file, userModel: readUserModel(file) };
    assert.deepEqual(spatialConvsOf(userSpec), spatialConvsOf(builtinSpec), `${what}: the same spatial convs`);
    const [ours, theirs] = [planNetwork(userSpec, 16, 16), planNetwork(builtinSpec, 16, 16)];
    assert.deepEqual(ours.spatial, theirs.spatial, `${what}: the same input sizes`);
    assert.equal(ours.otherWeights, theirs.otherWeights, `${what}: the same other weights`);
    const before = tf.memory().numTensors;
    const [user, builtin] = [buildNetwork(userSpec), buildNetwork(builtinSpec)];
    assert.deepEqual(user.counts, builtin.counts, `${what}: learnable, frozen and stored counts`);
    for (const kind of ['learnable', 'frozen', 'buffers'] as const) {
      assert.deepEqual([...user.params[kind].keys()], [...builtin.params[kind].keys()], `${what}: ${kind} names`);
      for (const [name, t] of user.params[kind])
        assert.deepEqual(t.dataSync(), builtin.params[kind].get(name)!.dataSync(), `${what}: ${name}`);
    }
    for (const training of [false, true]) {
      const [a, b] = tf.tidy(() => [user.forward(x, training), builtin.forward(x, training)]);
      assert.deepEqual(a!.dataSync(), b!.dataSync(), `${what}: logits (training ${training})`);
      tf.dispose([a!, b!]);
    }
    user.dispose();
    builtin.dispose();
    assert.equal(tf.memory().numTensors, before, `${what}: no tensor leaked`);
  }
  x.dispose();
});

test("a script's depthwise kit.spatialConv is the factory's per-channel conv: frozen random filters, E per channel combined per channel", () => {
  const file = script(
    `module.exports = function build(kit, spec) {
      const stem = kit.spatialConv('stem', spec.inChannels, 6);
      const dw = kit.spatialConv('dw', 6, 6, { stride: 2, depthwise: true });
      const fc = kit.linear('fc', 6, spec.numClasses);
      return (x, t) => fc(kit.globalAvgPool(kit.tf.relu(dw(kit.tf.relu(stem(x, t)), t))));
    };`,
    'depthwise-ok.js',
  );
  const spec = { ...tinyResNetSpec({ freeze: 'frozen', lcExpansion: 2 }), arch: file, userModel: readUserModel(file) };
  const dw = spatialConvsOf(spec).find((c) => c.name === 'dw')!;
  assert.equal(dw.perChannel, true);
  const model = buildNetwork(spec);
  assert.deepEqual(model.params.frozen.get('dw.weight')!.shape, [3, 3, 6, 2], 'two random filters per channel');
  assert.deepEqual(model.params.learnable.get('dw.combine.weight')!.shape, [6, 2], 'combined per channel');
  const logits = model.forward(tf.ones([2, 8, 8, 3]) as tf.Tensor4D, true);
  assert.deepEqual(logits.shape, [2, 10]);
  logits.dispose();
  model.dispose();
});

test('a script that breaks the contract gets one line naming the file and what is wrong', () => {
  const spec = tinyResNetSpec();
  const cases: [string, string, RegExp][] = [
    ['export default function build(kit) {}', 'esm.js', /uses ES module syntax .*module\.exports = function build/],
    ['module.exports = 42;', 'number.js', /module\.exports is number, not the build function/],
    ['module.exports = function (kit) { return 1; };', 'returns.js', /returned number, not the forward function/],
    ['module.exports = function (kit) { throw new Error("boom"); };', 'throws.js', /build\(kit, spec\) failed: boom/],
    ['module.exports = function (kit) { const { x } = require("fs"); };', 'require.js', /require is not defined/],
    ['module.exports = (', 'syntax.js', /does not parse/],
    [
      'module.exports = (kit, s) => { const fc = kit.linear("fc", s.inChannels, s.numClasses); return (x) => fc(kit.globalAvgPool(x)); };',
      'no-spatial.js',
      /builds no kit\.spatialConv/,
    ],
    [
      'module.exports = (kit, s) => { kit.spatialConv("c", 3, 4); kit.batchNorm("c", 4); };',
      'duplicate.js',
      /two layers are named 'c'/,
    ],
    [
      'module.exports = (kit, s) => { kit.spatialConv("c", 3, 4, { stride: 3 }); };',
      'stride.js',
      /stride must be 1 or 2/,
    ],
    ['module.exports = (kit, s) => { kit.spatialConv("c", 3, 0); };', 'channels.js', /positive integers \(got 0\)/],
    [
      'module.exports = (kit, s) => { kit.spatialConv("dw", 3, 4, { depthwise: true }); };',
      'depthwise.js',
      /kit\.spatialConv\('dw', …\): a depthwise conv keeps its channels \(got 3 in, 4 out\)/,
    ],
    [
      'module.exports = (kit, s) => { const c = kit.spatialConv("c", s.inChannels, 4); return (x, t) => kit.globalAvgPool(c(x, t)); };',
      'logits.js',
      /forward returned a tensor of shape \[1, 4\], expected logits of shape \[1, 10\]/,
    ],
  ];
  for (const [text, name, message] of cases) {
    const file = script(text, name);
    assert.throws(
      () => planNetwork({ ...spec, arch: file, userModel: readUserModel(file) }, 8, 8),
      (err: Error) => {
        assert.ok(err instanceof InputError, `${name}: an input error, got ${err}`);
        assert.ok(err.message.startsWith(`model.arch: ${file}: `), `${name}: names the file: ${err.message}`);
        assert.match(err.message, message, name);
        assert.ok(!err.message.includes('\n'), `${name}: one line`);
        return true;
      },
    );
  }
  assert.throws(() => readUserModel('./no/such/model.js'), /model\.arch: \.\/no\/such\/model\.js: no such file/);
});

test('lcconv run trains a script, keeps its copy and SHA-256; resume, eval and export use the copy and say when the file changed', () => {
  const dir = tempDir('user-model-run');
  const file = join(dir, 'net.js');
  writeFileSync(file, RESNET8);
  const config = writeTinyConfig(join(dir, 'exp.yaml'), {
    results_dir: join(dir, 'results'),
    'model.arch': './net.js', // relative to the working directory
    'model.lc_expansion': 2,
    freeze: 'frozen',
  });
  let r = lcconv(['run', config, '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { runs: { dir: string; params: { frozen: number } }[] };
  const run = summary.runs[0]!;
  assert.ok(run.params.frozen > 0, 'frozen k×k filters');
  assert.equal(readFileSync(join(run.dir, 'model-script.js'), 'utf8'), RESNET8, 'the copy');
  const record = JSON.parse(readFileSync(join(run.dir, 'model-script.json'), 'utf8'));
  assert.equal(record.file, file);
  assert.match(record.sha256, /^[0-9a-f]{64}$/);

  // The user edits the file (a wider classifier input would not even load the checkpoint).
  writeFileSync(file, RESNET8.replace("kit.linear('fc', 4 * W", "kit.linear('fc', 4 * W + 0").replace('fc(', 'fc ('));
  r = lcconv(['eval', run.dir, '--set', 'eval.attacks=[fgsm]'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /its model script .*net\.js has changed since the run was built; using the run's copy/);
  // A resume builds from the copy too, and says so.
  const said: string[] = [];
  const resumed = resolveUserModel(readRunConfig(run.dir), run.dir, (line) => said.push(line));
  assert.equal(resumed?.text, RESNET8);
  assert.match(said.join('\n'), /has changed since the run was built; using the run's copy/);
  r = lcconv(['export', run.dir], PACKAGE_ROOT); // another working directory: the recorded path is compared
  assert.equal(r.status, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(run.dir, 'export', 'model.json'), 'utf8'));
  assert.equal(meta.pytorch, null, 'no PyTorch twin for your own network');

  // A damaged copy: one line, exit 2.
  writeFileSync(join(run.dir, 'model-script.js'), `${RESNET8}\n// edited`);
  r = lcconv(['eval', run.dir], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /the run's copy of its model script is not what was recorded/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

  // A script that breaks the contract is refused before anything is written.
  writeFileSync(join(dir, 'broken.js'), 'export default () => {}');
  const broken = writeTinyConfig(join(dir, 'broken.yaml'), {
    results_dir: join(dir, 'fresh'),
    'model.arch': './broken.js',
  });
  r = lcconv(['run', broken], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^lcconv: model\.arch: \.\/broken\.js: uses ES module syntax/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('the worked example (configs/own-model.yaml, configs/models/small-cnn.js) trains frozen with LC blocks', () => {
  const results = tempDir('own-model');
  const r = lcconv([
    'run',
    'configs/own-model.yaml',
    ...[
      '--set',
      'dataset.name=synthetic',
      '--set',
      'dataset.synthetic.image_size=12',
      '--set',
      'dataset.augment=false',
    ],
    ...['--set', 'seeds=[0]', '--set', 'train.epochs=1', '--set', 'compare_to_standard=false'],
    ...['--set', `results_dir=${results}`, '--json'],
  ]);
  assert.equal(r.status, 0, r.stderr);
  const [run] = (
    JSON.parse(r.stdout) as {
      runs: { arch: string; freeze: string; lc_expansion: number; params: { frozen: number } }[];
    }
  ).runs;
  assert.deepEqual([run!.arch, run!.freeze, run!.lc_expansion], ['./configs/models/small-cnn.js', 'frozen', 4]);
  assert.ok(run!.params.frozen > 0);
});
