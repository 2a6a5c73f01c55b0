/**
 * CIFAR ResNet-(6n+2), open_lth layout (the authors' trainer): a k×k stem conv to W channels, three
 * stages of n basic blocks with widths W, 2W, 4W (stride 2 at the start of stages 2 and 3), a 1×1
 * conv + BN shortcut where the shape changes, global average pooling, a linear classifier.
 * At k = 3, W = 16, n = 3 (ResNet-20), learned: 272,474 parameters, as PyTorch counts them.
 * Read top to bottom: plan, block, then model. Activations are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeBatchNorm, makeLinear, makePointwiseConv, sequential, type Layer } from './layers.js';
import type { ParamStore } from './params.js';
import { layoutOf } from './registry.js';
import {
  convsAndStore,
  modelOf,
  spatialConv,
  strided,
  type Model,
  type ModelSpec,
  type NetworkPlan,
} from './network.js';
import { makeSpatialConv, type SpatialConvSpec } from './spatial-conv.js';
// tfjs-core alone has no backend and no gradients: every computation builds a model, so its first import registers them.
import '../backends/tfjs-runtime.js';

interface BlockPlan {
  name: string;
  inChannels: number;
  outChannels: number;
  stride: 1 | 2;
}

/** Architecture as data: every block with its channels and stride. */
function planBlocks(spec: ModelSpec): BlockPlan[] {
  const layout = layoutOf(spec.arch);
  if (layout.family !== 'cifar_resnet') throw new Error(`${spec.arch} is not a CIFAR ResNet`);
  const blocks: BlockPlan[] = [];
  let inChannels = spec.width;
  for (let stage = 0; stage < 3; stage++) {
    const outChannels = spec.width * 2 ** stage;
    for (let b = 0; b < layout.blocksPerStage; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      blocks.push({ name: `stage${stage + 1}.block${b + 1}`, inChannels, outChannels, stride });
      inChannels = outChannels;
    }
  }
  return blocks;
}

const hasProjection = (b: BlockPlan) => b.stride !== 1 || b.inChannels !== b.outChannels;

/** Every spatial conv with its input size (stem first), and the size of the rest, before anything is built. */
export function planCifarResNet(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const spatial = [{ conv: spatialConv(spec, 'stem.conv', spec.inChannels, spec.width, 1), height, width }];
  let [h, w] = [height, width];
  let otherWeights = 2 * spec.width + spec.width * 4 * spec.numClasses + spec.numClasses; // stem BN, classifier
  let otherActivations = 0;
  for (const b of planBlocks(spec)) {
    spatial.push({
      conv: spatialConv(spec, `${b.name}.conv1`, b.inChannels, b.outChannels, b.stride),
      height: h,
      width: w,
    });
    [h, w] = [strided(h, b.stride), strided(w, b.stride)];
    spatial.push({ conv: spatialConv(spec, `${b.name}.conv2`, b.outChannels, b.outChannels, 1), height: h, width: w });
    otherWeights += 4 * b.outChannels; // two BNs
    if (hasProjection(b)) {
      otherWeights += b.inChannels * b.outChannels + 2 * b.outChannels; // 1×1 shortcut + BN
      otherActivations += h * w * b.outChannels;
    }
  }
  return { spatial, otherWeights, otherActivations };
}

/** conv-BN-ReLU, conv-BN, add the shortcut, ReLU. */
function makeBasicBlock(plan: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const conv1 = makeSpatialConv(convs.get(`${plan.name}.conv1`)!, store); // [B,H,W,in] → [B,H/s,W/s,out]
  const bn1 = makeBatchNorm(`${plan.name}.bn1`, plan.outChannels, store);
  const conv2 = makeSpatialConv(convs.get(`${plan.name}.conv2`)!, store);
  const bn2 = makeBatchNorm(`${plan.name}.bn2`, plan.outChannels, store);
  let shortcut: Layer = (x) => x;
  if (hasProjection(plan)) {
    const proj = makePointwiseConv(`${plan.name}.shortcut.conv`, plan.inChannels, plan.outChannels, plan.stride, store);
    const projBn = makeBatchNorm(`${plan.name}.shortcut.bn`, plan.outChannels, store);
    shortcut = (x, t) => projBn(proj(x, t), t);
  }
  return (x, t) => {
    const out = tf.relu(bn1(conv1(x, t), t));
    return tf.relu(tf.add(bn2(conv2(out, t), t), shortcut(x, t))) as tf.Tensor4D;
  };
}

export function buildCifarResNet(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planCifarResNet);

  const stem = makeSpatialConv(convs.get('stem.conv')!, store); // [B,H,W,C] → [B,H,W,W]
  const stemBn = makeBatchNorm('stem.bn', spec.width, store);
  const body = sequential([
    (x, t) => tf.relu(stemBn(stem(x, t), t)),
    ...planBlocks(spec).map((plan) => makeBasicBlock(plan, convs, store)),
  ]);
  const fc = makeLinear('fc', spec.width * 4, spec.numClasses, store);

  return modelOf(store, (_model, x, training) => {
    const h = body(x, training); // [B, H/4, W/4, 4W]
    return fc(tf.mean(h, [1, 2]) as tf.Tensor2D); // global average pool → [B, 4W] → [B, classes]
  });
}
