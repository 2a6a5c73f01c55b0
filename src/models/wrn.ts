/**
 * Wide ResNets (Zagoruyko & Komodakis, "Wide Residual Networks", 2016), WRN-d-k for CIFAR, in the
 * layout of the widely used PyTorch implementation (xternalz/WideResNet-pytorch): a k×k conv stem to
 * W channels, three stages of n = (d − 4)/6 pre-activation blocks at W·k, 2W·k, 4W·k (stride 2 at the
 * start of stages 2 and 3), a final BN + ReLU, global average pooling and a linear classifier.
 * A block is BN-ReLU, k×k conv (with the stride), BN-ReLU, k×k conv, added to the input, or where
 * the shape changes to a 1×1 conv (no BN) of the pre-activated input. No dropout (its dropRate 0).
 * At W = 16, k = 3, 10 classes: 2,748,890 (WRN-16-4) and 36,479,194 (WRN-28-10) parameters.
 * Weight names are that implementation's (block2.layer.0.convShortcut, bn1, fc), so twins load them.
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
import '../backends/tfjs-runtime.js';

interface BlockPlan {
  name: string; // block<stage>.layer.<index>
  inChannels: number;
  outChannels: number;
  stride: 1 | 2;
}

function planBlocks(spec: ModelSpec): BlockPlan[] {
  const layout = layoutOf(spec.arch);
  if (layout.family !== 'wrn') throw new Error(`${spec.arch} is not a Wide ResNet`);
  const blocks: BlockPlan[] = [];
  let inChannels = spec.width;
  for (let stage = 0; stage < 3; stage++) {
    const outChannels = spec.width * 2 ** stage * layout.widen;
    for (let i = 0; i < layout.blocksPerStage; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      blocks.push({ name: `block${stage + 1}.layer.${i}`, inChannels, outChannels, stride });
      inChannels = outChannels;
    }
  }
  return blocks;
}

const hasShortcutConv = (b: BlockPlan) => b.inChannels !== b.outChannels; // also where the stride is 2

/** Every spatial conv with its input size (stem first), and the size of the rest. */
export function planWideResNet(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const spatial = [{ conv: spatialConv(spec, 'conv1', spec.inChannels, spec.width, 1), height, width }];
  const blocks = planBlocks(spec);
  const last = blocks[blocks.length - 1]!.outChannels;
  let otherWeights = 2 * last + last * spec.numClasses + spec.numClasses; // final BN, classifier
  let otherActivations = 0;
  let [h, w] = [height, width];
  for (const b of blocks) {
    const [outH, outW] = [strided(h, b.stride), strided(w, b.stride)];
    spatial.push({
      conv: spatialConv(spec, `${b.name}.conv1`, b.inChannels, b.outChannels, b.stride),
      height: h,
      width: w,
    });
    spatial.push({
      conv: spatialConv(spec, `${b.name}.conv2`, b.outChannels, b.outChannels, 1),
      height: outH,
      width: outW,
    });
    otherWeights += 2 * b.inChannels + 2 * b.outChannels; // bn1 (before conv1) and bn2
    if (hasShortcutConv(b)) {
      otherWeights += b.inChannels * b.outChannels;
      otherActivations += outH * outW * b.outChannels;
    }
    [h, w] = [outH, outW];
  }
  return { spatial, otherWeights, otherActivations };
}

/** BN-ReLU, conv (stride), BN-ReLU, conv; plus the input, or a 1×1 conv of the pre-activated input. */
function makeBlock(b: BlockPlan, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const bn1 = makeBatchNorm(`${b.name}.bn1`, b.inChannels, store);
  const conv1 = makeSpatialConv(convs.get(`${b.name}.conv1`)!, store);
  const bn2 = makeBatchNorm(`${b.name}.bn2`, b.outChannels, store);
  const conv2 = makeSpatialConv(convs.get(`${b.name}.conv2`)!, store);
  const shortcut = hasShortcutConv(b)
    ? makePointwiseConv(`${b.name}.convShortcut`, b.inChannels, b.outChannels, b.stride, store)
    : null;
  return (x, t) => {
    const pre = tf.relu(bn1(x, t));
    const out = conv2(tf.relu(bn2(conv1(pre, t), t)), t);
    return tf.add(out, shortcut ? shortcut(pre, t) : x) as tf.Tensor4D;
  };
}

export function buildWideResNet(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planWideResNet);

  const stem = makeSpatialConv(convs.get('conv1')!, store); // [B,H,W,C] → [B,H,W,W], no BN: blocks pre-activate
  const plans = planBlocks(spec);
  const body = sequential([stem, ...plans.map((b) => makeBlock(b, convs, store))]);
  const last = plans[plans.length - 1]!.outChannels;
  const bn = makeBatchNorm('bn1', last, store);
  const fc = makeLinear('fc', last, spec.numClasses, store);

  return modelOf(store, (_model, x, training) => {
    const h = tf.relu(bn(body(x, training), training)); // [B, H/4, W/4, 4W·k]
    return fc(tf.mean(h, [1, 2]) as tf.Tensor2D);
  });
}
