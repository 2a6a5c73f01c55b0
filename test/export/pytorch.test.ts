import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { pixelClassifier } from '../../src/eval/evaluate.js';
import { foldedSpec, pytorchTwin, torchName, torchStateDict } from '../../src/export/pytorch.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/export/safetensors.js';
import { ARCH_NAMES } from '../../src/config/names.js';
import { rngFor } from '../../src/random.js';
import { buildNetwork, type ModelSpec } from '../../src/models/index.js';
import { cifarBlocksPerStage } from '../../src/models/registry.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { tempDir, tinyResNetSpec } from '../fixtures.js';

tf.env().set('PROD', true);

test('safetensors: what is written reads back, data 8-byte aligned; a truncated file is refused', () => {
  const tensors = new Map<string, SafeTensor>([
    ['a.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }],
    ['a.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.from([7n]) }],
    ['b', { dtype: 'F32', shape: [1], data: Float32Array.from([-0.25]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { format: 'pt' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name), t, name);
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4)), /do not fit/);
});

test('weight names map to bench/pytorch_reference.py state_dict keys', () => {
  assert.equal(torchName('stem.conv.weight', 'resnet20'), 'stem.weight');
  assert.equal(torchName('stem.conv.combine.weight', 'resnet20'), 'stem.combine.weight');
  assert.equal(torchName('stem.bn.running_var', 'resnet20'), 'bn.running_var');
  assert.equal(torchName('stage1.block1.conv1.weight', 'resnet20'), 'blocks.0.conv1.weight');
  assert.equal(torchName('stage2.block3.bn2.bias', 'resnet20'), 'blocks.5.bn2.bias');
  assert.equal(torchName('stage3.block1.shortcut.conv.weight', 'resnet20'), 'blocks.6.shortcut.0.weight');
  assert.equal(torchName('stage3.block1.shortcut.bn.running_mean', 'resnet20'), 'blocks.6.shortcut.1.running_mean');
  assert.equal(torchName('fc.bias', 'resnet20'), 'fc.bias');
});

const python = '/usr/bin/python3';
const torchMissing = (() => {
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0
    ? false
    : `needs ${python} with torch (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
})();

/**
 * Every freeze mode and LC variant: the exported state_dict loaded into the PyTorch reference model
 * gives lcconv's logits. BatchNorm running statistics are set to random values first, so a wrong
 * BN mapping or eval-mode mistake shows.
 */
test('PyTorch loads the export, plain and folded, into its twin (strict) and reproduces lcconv logits within 1e-4, every family', {
  skip: torchMissing,
}, async () => {
  const variants: Partial<ModelSpec>[] = [
    { freeze: 'frozen', lcExpansion: 2 },
    { freeze: 'shared', kernelSize: 5 },
    { freeze: 'learned', lcExpansion: 2, lcDepthwise: true, inChannels: 1 },
    { arch: 'resnet18', width: 2, freeze: 'frozen', lcExpansion: 2 },
    { arch: 'resnet34', width: 2, freeze: 'shared', kernelSize: 5 },
    { arch: 'resnet50', width: 2, freeze: 'learned', lcExpansion: 2, lcDepthwise: true },
    { arch: 'vgg11_bn', width: 2, freeze: 'frozen', lcExpansion: 2, kernelSize: 7 },
    { arch: 'vgg16_bn', width: 2, freeze: 'shared', inChannels: 1 },
    { arch: 'wrn16_4', width: 2, freeze: 'frozen', lcExpansion: 2, kernelSize: 5 },
    { arch: 'wrn28_10', width: 1, freeze: 'shared' },
    { arch: 'resnet9', width: 2, freeze: 'learned', lcExpansion: 2, lcDepthwise: true },
    { arch: 'resnet9', width: 2, freeze: 'frozen', kernelSize: 7, inChannels: 1 },
    { arch: 'mobilenet_v2', width: 4, freeze: 'frozen', lcExpansion: 3, kernelSize: 5 },
    { arch: 'mobilenet_v2', width: 4, freeze: 'shared', lcExpansion: 2, lcDepthwise: true },
    { arch: 'mobilenet_v2', width: 2, freeze: 'learned', lcCompute: 'expanded', lcExpansion: 2, inChannels: 1 },
    { arch: 'convnext', width: 4, freeze: 'frozen', lcExpansion: 2, kernelSize: 7 },
    { arch: 'convnext', width: 2, freeze: 'shared', lcDepthwise: true, kernelSize: 5 },
    { arch: 'convnext', width: 2, freeze: 'learned', inChannels: 1 },
  ];
  const dir = tempDir('export');
  for (const [i, variant] of variants.entries()) {
    const spec: ModelSpec = tinyResNetSpec({ numClasses: 5, seed: i, ...variant });
    const model = buildNetwork(spec);
    const rng = rngFor(i, 'bn');
    for (const [name, v] of model.params.buffers) {
      v.assign(
        tf.tensor1d(Array.from({ length: v.size }, () => (name.endsWith('running_var') ? 0.5 + rng() : rng() - 0.5))),
      );
    }
    const mean = Array.from({ length: spec.inChannels }, (_, c) => 0.3 + 0.1 * c);
    const std = Array.from({ length: spec.inChannels }, (_, c) => 0.2 + 0.05 * c);
    const side = spec.arch.startsWith('vgg') ? 32 : spec.arch === 'convnext' ? 16 : 8; // VGG's five 2×2 pools need 32×32, ConvNeXt's four patch convs 16×16
    const images = tf.tensor4d(
      Array.from({ length: 6 * side * side * spec.inChannels }, () => rng()),
      [6, side, side, spec.inChannels],
    );
    const { classify, dispose } = pixelClassifier(model, { mean, std });
    const logits = classify(images);
    const check = join(dir, `check${i}.safetensors`);
    writeFileSync(
      check,
      encodeSafetensors(
        new Map<string, SafeTensor>([
          ['images', { dtype: 'F32', shape: images.shape, data: (await images.data()) as Float32Array }],
          ['logits', { dtype: 'F32', shape: logits.shape, data: (await logits.data()) as Float32Array }],
        ]),
      ),
    );
    // The export as trained, and (with LC blocks) folded: each block one k×k conv in a plain learned twin.
    const lc = spec.lcExpansion > 1 || spec.lcDepthwise;
    for (const fold of lc ? [false, true] : [false]) {
      const out = join(dir, `v${i}${fold ? '-folded' : ''}`);
      mkdirSync(out);
      const state = await torchStateDict(model, spec, { fold });
      if (fold) assert.ok(![...state.keys()].some((k) => k.includes('combine')), 'no 1×1 combination left');
      writeFileSync(join(out, 'model.safetensors'), encodeSafetensors(state));
      const twin = pytorchTwin(fold ? foldedSpec(spec) : spec);
      writeFileSync(join(out, 'model.json'), JSON.stringify({ pytorch: twin, input: { mean, std } }));
      const r = spawnSync(
        python,
        [join(PACKAGE_ROOT, 'bench', 'lcconv_export.py'), out, '--check', check, '--tol', '1e-4'],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, `${JSON.stringify(variant)}${fold ? ' folded' : ''}: ${r.stdout}${r.stderr}`);
      assert.ok(JSON.parse(r.stdout).max_abs_diff <= 1e-4);
    }
    tf.dispose([images, logits]);
    dispose();
    model.dispose();
  }
});

test('learnable, total and stored parameter counts equal the PyTorch twins at k = 3 and 7, every family and mode', {
  skip: torchMissing,
}, () => {
  const cases: ModelSpec[] = [];
  // resnet20 for the CIFAR ResNets (one layout at every depth), and every other architecture.
  for (const arch of ARCH_NAMES.filter((a) => a === 'resnet20' || cifarBlocksPerStage(a) === null))
    for (const kernelSize of [3, 7])
      for (const freeze of ['learned', 'frozen', 'shared'] as const)
        for (const [lcExpansion, lcDepthwise] of [
          [1, false],
          [4, false],
          [2, true],
        ] as const)
          cases.push(tinyResNetSpec({ arch, width: 4, kernelSize, freeze, lcExpansion, lcDepthwise }));
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(PACKAGE_ROOT, 'bench'))})
import torch
from pytorch_reference import build_model
out = []
for c in json.load(sys.stdin):
    depth = 6 * c["blocks"] + 2 if c["blocks"] else 20
    m = build_model(None if c["blocks"] else c["arch"], depth, c["width"], c["k"], c["freeze"], c["E"], c["dw"], 3, 10, torch.device("cpu"))
    shared = [mm for mm in m.modules() if getattr(mm, "shared", False)]
    params = sum(p.numel() for p in m.parameters())
    slices = sum(mm.shape[0] * mm.shape[1] * mm.k * mm.k for mm in shared)  # ConvNeXt's patch convs are 2x2
    out.append([sum(p.numel() for p in m.parameters() if p.requires_grad), params + slices, params + (m.bank.tensor.numel() if m.bank is not None else 0)])
print(json.dumps(out))
`;
  const input = cases.map((s) => ({
    arch: s.arch,
    blocks: cifarBlocksPerStage(s.arch),
    width: s.width,
    k: s.kernelSize,
    freeze: s.freeze,
    E: s.lcExpansion,
    dw: s.lcDepthwise,
  }));
  const r = spawnSync(python, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const twin: [number, number, number][] = JSON.parse(r.stdout);
  cases.forEach((spec, i) => {
    const model = buildNetwork(spec);
    const { learnable, total, stored } = model.counts;
    model.dispose();
    assert.deepEqual(
      [learnable, total, stored],
      twin[i],
      `${spec.arch} k=${spec.kernelSize} ${spec.freeze} E=${spec.lcExpansion}${spec.lcDepthwise ? ' dw' : ''}: lcconv vs twin`,
    );
  });
});
