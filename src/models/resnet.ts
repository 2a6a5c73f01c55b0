/**
 * CIFAR ResNet-(6n+2), open_lth layout (the authors' trainer): a k×k stem conv to W channels, three
 * stages of n basic blocks with widths W, 2W, 4W (stride 2 at the start of stages 2 and 3), a 1×1
 * conv + BN shortcut where the shape changes, global average pooling, a linear classifier.
 * At k = 3, W = 16, n = 3 (ResNet-20), learned: 272,474 parameters, as PyTorch counts them.
 * Read top to bottom: block, then model. Activations are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FreezeMode, InitScheme, LcCompute } from '../config/schema.js';
import { makeBatchNorm, makeLinear, makePointwiseConv, type Layer } from './layers.js';
import { ParamStore, SharedBank, type ParamCounts } from './params.js';
import { ARCHS, type ArchName } from './registry.js';
import type { SpatialInit } from './init.js';
import { makeSpatialConv, spatialFilterShape, type SpatialConvSpec } from './spatial-conv.js';
// tfjs-core alone has no backend and no gradients: every computation builds a model, so its first import registers them.
import '../backends/tfjs-runtime.js';

export interface ResNetSpec {
  arch: ArchName;
  width: number; // W
  kernelSize: number; // k
  lcExpansion: number; // E
  lcDepthwise: boolean;
  lcCompute: LcCompute;
  freeze: FreezeMode;
  init: InitScheme;
  spatialInit: SpatialInit; // the k×k filters only
  inChannels: number; // 3 for colour, 1 for grey images
  numClasses: number;
  seed: number;
}

export interface Model {
  /** [B, H, W, C] → logits [B, classes]. `training` selects batch statistics in BatchNorm. */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  params: ParamStore;
  counts: ParamCounts;
  dispose(): void;
}

interface BlockPlan {
  name: string;
  inChannels: number;
  outChannels: number;
  stride: 1 | 2;
}

/** Architecture as data: the stem, then every block with its channels and stride. */
function planBlocks(spec: ResNetSpec): BlockPlan[] {
  const n = ARCHS[spec.arch].blocksPerStage;
  const blocks: BlockPlan[] = [];
  let inChannels = spec.width;
  for (let stage = 0; stage < 3; stage++) {
    const outChannels = spec.width * 2 ** stage;
    for (let b = 0; b < n; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      blocks.push({ name: `stage${stage + 1}.block${b + 1}`, inChannels, outChannels, stride });
      inChannels = outChannels;
    }
  }
  return blocks;
}

/** Every spatial conv of the network, in order (stem first), as the factory will receive them. */
export function planSpatialConvs(spec: ResNetSpec): SpatialConvSpec[] {
  const conv = (name: string, inChannels: number, outChannels: number, stride: 1 | 2): SpatialConvSpec => ({
    name,
    inChannels,
    outChannels,
    stride,
    kernelSize: spec.kernelSize,
    freeze: spec.freeze,
    lcExpansion: spec.lcExpansion,
    depthwise: spec.lcDepthwise,
    lcCompute: spec.lcCompute,
  });
  return [
    conv('stem.conv', spec.inChannels, spec.width, 1),
    ...planBlocks(spec).flatMap((b) => [
      conv(`${b.name}.conv1`, b.inChannels, b.outChannels, b.stride),
      conv(`${b.name}.conv2`, b.outChannels, b.outChannels, 1),
    ]),
  ];
}

/**
 * Each spatial conv with the feature-map size it reads, for an input of height × width: in this
 * network every conv reads its predecessor's output (a stride-2 conv1 halves it, rounding up).
 */
export function planSpatialConvInputs(
  spec: ResNetSpec,
  height: number,
  width: number,
): Array<{ conv: SpatialConvSpec; height: number; width: number }> {
  let [h, w] = [height, width];
  return planSpatialConvs(spec).map((conv) => {
    const at = { conv, height: h, width: w };
    [h, w] = [Math.ceil(h / conv.stride), Math.ceil(w / conv.stride)];
    return at;
  });
}

/** conv-BN-ReLU, conv-BN, add the shortcut, ReLU. */
function makeBasicBlock(plan: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const conv1 = makeSpatialConv(convs.get(`${plan.name}.conv1`)!, store); // [B,H,W,in] → [B,H/s,W/s,out]
  const bn1 = makeBatchNorm(`${plan.name}.bn1`, plan.outChannels, store);
  const conv2 = makeSpatialConv(convs.get(`${plan.name}.conv2`)!, store);
  const bn2 = makeBatchNorm(`${plan.name}.bn2`, plan.outChannels, store);
  let shortcut: Layer = (x) => x;
  if (plan.stride !== 1 || plan.inChannels !== plan.outChannels) {
    const proj = makePointwiseConv(`${plan.name}.shortcut.conv`, plan.inChannels, plan.outChannels, plan.stride, store);
    const projBn = makeBatchNorm(`${plan.name}.shortcut.bn`, plan.outChannels, store);
    shortcut = (x, t) => projBn(proj(x, t), t);
  }
  return (x, t) => {
    const out = tf.relu(bn1(conv1(x, t), t));
    return tf.relu(tf.add(bn2(conv2(out, t), t), shortcut(x, t))) as tf.Tensor4D;
  };
}

export function buildResNet(spec: ResNetSpec): Model {
  const convSpecs = planSpatialConvs(spec);
  const shared = spec.freeze === 'shared' && spec.kernelSize > 1 ? makeSharedBank(spec, convSpecs) : undefined;
  const store = new ParamStore(spec.seed, spec.init, spec.spatialInit, shared);
  const convs = new Map(convSpecs.map((c) => [c.name, c]));

  const stem = makeSpatialConv(convs.get('stem.conv')!, store); // [B,H,W,C] → [B,H,W,W]
  const stemBn = makeBatchNorm('stem.bn', spec.width, store);
  const blocks = planBlocks(spec).map((plan) => makeBasicBlock(plan, convs, store));
  const fc = makeLinear('fc', spec.width * 4, spec.numClasses, store);

  const forward = (x: tf.Tensor4D, training: boolean): tf.Tensor2D => {
    let h: tf.Tensor4D = tf.relu(stemBn(stem(x, training), training));
    for (const block of blocks) {
      if (training) {
        h = block(h, true);
        continue;
      }
      // Inference keeps nothing for a backward pass, so each block's activations are freed as soon
      // as it returns: the next block then writes into the same few (cache-warm) arrays of the
      // backend's pool instead of a fresh one per op that lives until the caller's tidy ends.
      const input = h;
      h = tf.tidy(() => block(input, false));
      if (input !== x) input.dispose();
    }
    // h: [B, H/4, W/4, 4W]
    return fc(tf.mean(h, [1, 2]) as tf.Tensor2D); // global average pool → [B, 4W] → [B, classes]
  };
  return { forward, params: store, counts: store.counts(), dispose: () => store.dispose() };
}

/** One bank large enough for every spatial filter: [k, k, max in, max out] over all layers. */
function makeSharedBank(spec: ResNetSpec, convSpecs: SpatialConvSpec[]): SharedBank {
  const shapes = convSpecs.map((c) => spatialFilterShape(c));
  const k = spec.kernelSize;
  const maxIn = Math.max(...shapes.map((s) => s[2]));
  const maxOut = Math.max(...shapes.map((s) => s[3]));
  return new SharedBank([k, k, maxIn, maxOut], spec.spatialInit, spec.seed);
}
