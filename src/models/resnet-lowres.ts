/**
 * ResNet-18/34/50 in the low-resolution layout of the authors' trainer (tinytorchtrainer,
 * models/lowresresnet.py): torchvision's ResNet with the 7×7 stride-2 stem replaced by a k×k
 * stride-1 conv to W channels, then BN, ReLU and the trainer's 3×3 stride-2 max-pool; four stages
 * of basic blocks (ResNet-18/34) or bottleneck blocks (ResNet-50: 1×1, k×k with the stride, 1×1 to
 * 4× the width) at widths W, 2W, 4W, 8W, stride 2 at the start of stages 2–4, a 1×1 conv + BN
 * shortcut ("downsample") where the shape changes; global average pooling, a linear classifier.
 * At W = 64, k = 3, 10 classes: 11,173,962 (18), 21,282,122 (34) and 23,520,842 (50) parameters.
 * Weight names are the trainer's (conv1, layer2.0.downsample.0, fc), so PyTorch twins load them.
 * Read top to bottom: plan, blocks, then model. Activations are NHWC.
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
import '../backends/tfjs-runtime.js';

interface BlockPlan {
  name: string; // layer<stage>.<index>
  inChannels: number;
  planes: number; // the block's inner width (its k×k conv's channels)
  outChannels: number; // planes, or 4·planes for a bottleneck
  stride: 1 | 2;
  bottleneck: boolean;
}

/** PyTorch MaxPool2d(kernel_size=3, stride=2, padding=1): floor((n + 2 − 3) / 2) + 1. */
const POOL = { size: 3, stride: 2, pad: 1 } as const;
const pooled = (n: number) => Math.floor((n + 2 * POOL.pad - POOL.size) / POOL.stride) + 1;

function planBlocks(spec: ModelSpec): BlockPlan[] {
  const layout = layoutOf(spec.arch);
  if (layout.family !== 'resnet') throw new Error(`${spec.arch} is not a low-resolution ResNet`);
  const bottleneck = layout.block === 'bottleneck';
  const blocks: BlockPlan[] = [];
  let inChannels = spec.width;
  layout.blocksPerStage.forEach((count, stage) => {
    const planes = spec.width * 2 ** stage;
    const outChannels = bottleneck ? 4 * planes : planes;
    for (let i = 0; i < count; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      blocks.push({ name: `layer${stage + 1}.${i}`, inChannels, planes, outChannels, stride, bottleneck });
      inChannels = outChannels;
    }
  });
  return blocks;
}

const hasDownsample = (b: BlockPlan) => b.stride !== 1 || b.inChannels !== b.outChannels;

/** Every spatial conv with its input size (stem first), and the size of the rest. */
export function planLowResResNet(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const spatial = [{ conv: spatialConv(spec, 'conv1', spec.inChannels, spec.width, 1), height, width }];
  let [h, w] = [pooled(height), pooled(width)];
  const blocks = planBlocks(spec);
  const last = blocks[blocks.length - 1]!.outChannels;
  let otherWeights = 2 * spec.width + last * spec.numClasses + spec.numClasses; // stem BN, classifier
  let otherActivations = height * width * spec.width; // the max-pool's input
  for (const b of blocks) {
    const [outH, outW] = [strided(h, b.stride), strided(w, b.stride)];
    if (b.bottleneck) {
      // 1×1 in → planes and 1×1 planes → 4·planes around the k×k conv, and the three BNs.
      otherWeights += b.inChannels * b.planes + b.planes * b.outChannels + 4 * b.planes + 2 * b.outChannels; // + 3 BNs
      otherActivations += h * w * b.planes + outH * outW * b.outChannels;
      spatial.push({ conv: spatialConv(spec, `${b.name}.conv2`, b.planes, b.planes, b.stride), height: h, width: w });
    } else {
      spatial.push({
        conv: spatialConv(spec, `${b.name}.conv1`, b.inChannels, b.planes, b.stride),
        height: h,
        width: w,
      });
      spatial.push({ conv: spatialConv(spec, `${b.name}.conv2`, b.planes, b.planes, 1), height: outH, width: outW });
      otherWeights += 4 * b.planes; // two BNs
    }
    if (hasDownsample(b)) {
      otherWeights += b.inChannels * b.outChannels + 2 * b.outChannels;
      otherActivations += outH * outW * b.outChannels;
    }
    [h, w] = [outH, outW];
  }
  return { spatial, otherWeights, otherActivations };
}

/** The shortcut: identity, or 1×1 conv (with the block's stride) + BN where the shape changes. */
function makeShortcut(b: BlockPlan, store: ParamStore): Layer {
  if (!hasDownsample(b)) return (x) => x;
  const proj = makePointwiseConv(`${b.name}.downsample.0`, b.inChannels, b.outChannels, b.stride, store);
  const bn = makeBatchNorm(`${b.name}.downsample.1`, b.outChannels, store);
  return (x, t) => bn(proj(x, t), t);
}

/** conv-BN-ReLU, conv-BN, add the shortcut, ReLU. */
function makeBasicBlock(b: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const conv1 = makeSpatialConv(convs.get(`${b.name}.conv1`)!, store); // [B,H,W,in] → [B,H/s,W/s,planes]
  const bn1 = makeBatchNorm(`${b.name}.bn1`, b.planes, store);
  const conv2 = makeSpatialConv(convs.get(`${b.name}.conv2`)!, store);
  const bn2 = makeBatchNorm(`${b.name}.bn2`, b.planes, store);
  const shortcut = makeShortcut(b, store);
  return (x, t) => {
    const out = tf.relu(bn1(conv1(x, t), t));
    return tf.relu(tf.add(bn2(conv2(out, t), t), shortcut(x, t))) as tf.Tensor4D;
  };
}

/** 1×1-BN-ReLU, k×k (stride)-BN-ReLU, 1×1 to 4·planes-BN, add the shortcut, ReLU. */
function makeBottleneck(b: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const conv1 = makePointwiseConv(`${b.name}.conv1`, b.inChannels, b.planes, 1, store);
  const bn1 = makeBatchNorm(`${b.name}.bn1`, b.planes, store);
  const conv2 = makeSpatialConv(convs.get(`${b.name}.conv2`)!, store); // the block's only k×k conv
  const bn2 = makeBatchNorm(`${b.name}.bn2`, b.planes, store);
  const conv3 = makePointwiseConv(`${b.name}.conv3`, b.planes, b.outChannels, 1, store);
  const bn3 = makeBatchNorm(`${b.name}.bn3`, b.outChannels, store);
  const shortcut = makeShortcut(b, store);
  return (x, t) => {
    let out = tf.relu(bn1(conv1(x, t), t));
    out = tf.relu(bn2(conv2(out, t), t));
    return tf.relu(tf.add(bn3(conv3(out, t), t), shortcut(x, t))) as tf.Tensor4D;
  };
}

export function buildLowResResNet(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planLowResResNet);

  const stem = makeSpatialConv(convs.get('conv1')!, store); // [B,H,W,C] → [B,H,W,W]
  const stemBn = makeBatchNorm('bn1', spec.width, store);
  const plans = planBlocks(spec);
  const body = sequential([
    // [B,H,W,C] → [B,H/2,W/2,W]: conv, BN, ReLU, then the trainer's max-pool
    (x, t) => tf.maxPool(tf.relu(stemBn(stem(x, t), t)), POOL.size, POOL.stride, POOL.pad),
    ...plans.map((b) => (b.bottleneck ? makeBottleneck(b, convs, store) : makeBasicBlock(b, convs, store))),
  ]);
  const fc = makeLinear('fc', plans[plans.length - 1]!.outChannels, spec.numClasses, store);

  return modelOf(store, (_model, x, training) => {
    const h = body(x, training); // [B, H/16, W/16, 8W (×4 bottleneck)]
    return fc(tf.mean(h, [1, 2]) as tf.Tensor2D);
  });
}
