/**
 * MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", 2018) for
 * low-resolution images, as the CIFAR adaptations lay it out (kuangliu/pytorch-cifar): torchvision's
 * stages with the stem and the second stage at stride 1, so a 32×32 image reaches the head at 4×4.
 * Channels are torchvision's scaled by W/32 (W = 32: 32, 16, 24, 32, 64, 96, 160, 320, head 1280).
 *
 * Stem: k×k conv, BN, ReLU6. Inverted residual block: 1×1 expand to t·in channels, BN, ReLU6 (no
 * expansion when t = 1); depthwise k×k conv (the stage's stride), BN, ReLU6; 1×1 project, BN (linear
 * bottleneck); plus the input when the stride is 1 and the channels stay. Head: 1×1 conv, BN, ReLU6,
 * global average pooling, linear classifier. No dropout (the CIFAR adaptations have none).
 * At W = 32, k = 3, 10 classes: 2,236,682 parameters, torchvision's mobilenet_v2(num_classes=10).
 *
 * The spatial convs are the stem's and every block's depthwise conv (makeSpatialConv, `perChannel`):
 * frozen, the depthwise filters stay random; with LC blocks each channel gets E of them and a learned
 * 1×1 conv combines the C·E responses back to C. Read top to bottom: plan, block, then model. NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeBatchNorm, makeLinear, makePointwiseConv, sequential, type Layer } from './layers.js';
import type { ParamStore } from './params.js';
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
import '../backends/tfjs-runtime.js';

/** torchvision's inverted-residual settings: expansion t, channels c (at W = 32), blocks n, first stride s. */
const STAGES = [
  { t: 1, c: 16, n: 1, s: 1 },
  { t: 6, c: 24, n: 2, s: 1 }, // torchvision: 2 (ImageNet's 224×224); 1 for low-resolution images
  { t: 6, c: 32, n: 3, s: 2 },
  { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 },
  { t: 6, c: 160, n: 3, s: 2 },
  { t: 6, c: 320, n: 1, s: 1 },
] as const;
const STEM_CHANNELS = 32;
const HEAD_CHANNELS = 1280;

/** torchvision's channel count `c` at width W (W = 32 is torchvision's width multiplier 1). */
const scaled = (c: number, W: number) => Math.max(1, Math.round((c * W) / 32));

interface BlockPlan {
  name: string; // blocks.<index>
  inChannels: number;
  hidden: number; // t · in: the depthwise conv's channels
  outChannels: number;
  stride: 1 | 2;
}

function planBlocks(spec: ModelSpec): BlockPlan[] {
  const blocks: BlockPlan[] = [];
  let inChannels = scaled(STEM_CHANNELS, spec.width);
  for (const { t, c, n, s } of STAGES) {
    const outChannels = scaled(c, spec.width);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      blocks.push({ name: `blocks.${blocks.length}`, inChannels, hidden: inChannels * t, outChannels, stride });
      inChannels = outChannels;
    }
  }
  return blocks;
}

const expands = (b: BlockPlan) => b.hidden !== b.inChannels;
const isResidual = (b: BlockPlan) => b.stride === 1 && b.inChannels === b.outChannels;

/** Every spatial conv with its input size (stem first), and the size of the rest. */
export function planMobileNetV2(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const stem = scaled(STEM_CHANNELS, spec.width);
  const head = scaled(HEAD_CHANNELS, spec.width);
  const spatial = [{ conv: spatialConv(spec, 'stem.conv', spec.inChannels, stem, 1), height, width }];
  let otherWeights = 2 * stem; // stem BN
  let otherActivations = 0;
  let [h, w] = [height, width];
  const blocks = planBlocks(spec);
  for (const b of blocks) {
    if (expands(b)) {
      otherWeights += b.inChannels * b.hidden + 2 * b.hidden;
      otherActivations += h * w * b.hidden;
    }
    spatial.push({
      conv: spatialConv(spec, `${b.name}.dw`, b.hidden, b.hidden, b.stride, { perChannel: true }),
      height: h,
      width: w,
    });
    [h, w] = [strided(h, b.stride), strided(w, b.stride)];
    otherWeights += 2 * b.hidden + b.hidden * b.outChannels + 2 * b.outChannels; // dw BN, project + BN
    otherActivations += h * w * b.outChannels;
  }
  const last = blocks[blocks.length - 1]!.outChannels;
  otherWeights += last * head + 2 * head + head * spec.numClasses + spec.numClasses; // head conv + BN, classifier
  otherActivations += h * w * head;
  return { spatial, otherWeights, otherActivations };
}

const relu6 = (x: tf.Tensor4D) => tf.relu6(x) as tf.Tensor4D;

/** [1×1 expand, BN, ReLU6], depthwise k×k, BN, ReLU6, 1×1 project, BN; plus the input where shapes allow. */
function makeBlock(b: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const expand = expands(b) ? makePointwiseConv(`${b.name}.expand`, b.inChannels, b.hidden, 1, store) : null;
  const bn1 = expands(b) ? makeBatchNorm(`${b.name}.bn1`, b.hidden, store) : null;
  const dw = makeSpatialConv(convs.get(`${b.name}.dw`)!, store);
  const bn2 = makeBatchNorm(`${b.name}.bn2`, b.hidden, store);
  const project = makePointwiseConv(`${b.name}.project`, b.hidden, b.outChannels, 1, store);
  const bn3 = makeBatchNorm(`${b.name}.bn3`, b.outChannels, store);
  return (x, t) => {
    const wide = expand && bn1 ? relu6(bn1(expand(x, t), t)) : x;
    const out = bn3(project(relu6(bn2(dw(wide, t), t)), t), t);
    return isResidual(b) ? (tf.add(x, out) as tf.Tensor4D) : out;
  };
}

export function buildMobileNetV2(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planMobileNetV2);
  const stemChannels = scaled(STEM_CHANNELS, spec.width);
  const headChannels = scaled(HEAD_CHANNELS, spec.width);
  const plans = planBlocks(spec);

  const stemConv = makeSpatialConv(convs.get('stem.conv')!, store);
  const stemBn = makeBatchNorm('stem.bn', stemChannels, store);
  const stem: Layer = (x, t) => relu6(stemBn(stemConv(x, t), t));
  const headConv = makePointwiseConv('head.conv', plans[plans.length - 1]!.outChannels, headChannels, 1, store);
  const headBn = makeBatchNorm('head.bn', headChannels, store);
  const head: Layer = (x, t) => relu6(headBn(headConv(x, t), t));
  const body = sequential([stem, ...plans.map((b) => makeBlock(b, convs, store)), head]);
  const fc = makeLinear('fc', headChannels, spec.numClasses, store);

  return modelOf(store, (_model, x, training) => {
    const h = body(x, training); // [B, H/8, W/8, 1280·W/32]
    return fc(tf.mean(h, [1, 2]) as tf.Tensor2D);
  });
}
