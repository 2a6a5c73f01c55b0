/**
 * ResNet-9 of DAWNBench (David Page, "How to train your ResNet", 2018; the network airbench grew
 * from), with its widths as multiples of W: prep k×k conv to W; layer1 conv to 2W, 2×2 max-pool, and
 * a residual of two conv-BN-ReLU; layer2 conv to 4W and a max-pool; layer3 conv to 8W, a max-pool
 * and a residual of two; global max pooling; a linear classifier without bias, its logits scaled by
 * 0.125. Every conv is conv-BN-ReLU (the pool after the ReLU). At W = 64, k = 3, 10 classes:
 * 6,573,120 parameters. Three 2×2 pools: inputs need at least 8×8 pixels.
 * Weight names follow the layout (prep, layer1.conv, layer1.res1, …, fc), as its twin in
 * bench/pytorch_reference.py. Read top to bottom: plan, then model. Activations are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeBatchNorm, makeLinear, makeMaxPool, sequential, type Layer } from './layers.js';
import type { ParamStore } from './params.js';
import { convsAndStore, modelOf, spatialConv, type Model, type ModelSpec, type NetworkPlan } from './network.js';
import { makeSpatialConv, type SpatialConvSpec } from './spatial-conv.js';
import '../backends/tfjs-runtime.js';

/** Page's final scaling of the logits ("Mul(0.125)"). */
const LOGIT_SCALE = 0.125;
/** The smallest input side its three 2×2 max-pools leave a pixel of. */
export const RESNET9_MIN_SIDE = 8;

/** The conv-BN-ReLU units in order: name, channels in and out, and whether a 2×2 max-pool follows. */
function planUnits(spec: ModelSpec) {
  const W = spec.width;
  return [
    { name: 'prep', in: spec.inChannels, out: W, pool: false },
    { name: 'layer1.conv', in: W, out: 2 * W, pool: true },
    { name: 'layer1.res1', in: 2 * W, out: 2 * W, pool: false },
    { name: 'layer1.res2', in: 2 * W, out: 2 * W, pool: false },
    { name: 'layer2.conv', in: 2 * W, out: 4 * W, pool: true },
    { name: 'layer3.conv', in: 4 * W, out: 8 * W, pool: true },
    { name: 'layer3.res1', in: 8 * W, out: 8 * W, pool: false },
    { name: 'layer3.res2', in: 8 * W, out: 8 * W, pool: false },
  ];
}

/** Every spatial conv with its input size, and the size of the rest (BNs, classifier). */
export function planResNet9(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const spatial = [];
  let [h, w] = [height, width];
  let otherWeights = 8 * spec.width * spec.numClasses; // the classifier, no bias
  for (const u of planUnits(spec)) {
    spatial.push({ conv: spatialConv(spec, `${u.name}.conv`, u.in, u.out, 1), height: h, width: w });
    otherWeights += 2 * u.out; // its BN
    if (u.pool) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  }
  return { spatial, otherWeights, otherActivations: 0 };
}

function makeUnit(
  u: ReturnType<typeof planUnits>[number],
  convs: Map<string, SpatialConvSpec>,
  store: ParamStore,
): Layer {
  const conv = makeSpatialConv(convs.get(`${u.name}.conv`)!, store);
  const bn = makeBatchNorm(`${u.name}.bn`, u.out, store);
  const pool = makeMaxPool(2);
  return (x, t) => {
    const y = tf.relu(bn(conv(x, t), t)) as tf.Tensor4D;
    return u.pool ? pool(y, t) : y;
  };
}

export function buildResNet9(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planResNet9);
  const unit = new Map(planUnits(spec).map((u) => [u.name, makeUnit(u, convs, store)]));
  const residual = (a: string, b: string): Layer => {
    const [first, second] = [unit.get(a)!, unit.get(b)!];
    return (x, t) => tf.add(x, second(first(x, t), t)) as tf.Tensor4D;
  };
  const body = sequential([
    unit.get('prep')!,
    unit.get('layer1.conv')!,
    residual('layer1.res1', 'layer1.res2'),
    unit.get('layer2.conv')!,
    unit.get('layer3.conv')!,
    residual('layer3.res1', 'layer3.res2'),
  ]);
  const fc = makeLinear('fc', 8 * spec.width, spec.numClasses, store, { bias: false });

  return modelOf(store, (_model, x, training) => {
    const h = body(x, training); // [B, H/8, W/8, 8W]
    return tf.mul(fc(tf.max(h, [1, 2]) as tf.Tensor2D), LOGIT_SCALE) as tf.Tensor2D;
  });
}
