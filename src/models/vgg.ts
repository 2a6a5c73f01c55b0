/**
 * VGG-11/16 with BatchNorm in the low-resolution layout of the authors' trainer (tinytorchtrainer,
 * models/lowresvgg.py): torchvision's configurations "A" and "D" of k×k convs (with bias) + BN +
 * ReLU and 2×2 max-pools, then global average pooling to 1×1 (instead of 7×7) and the trainer's
 * classifier head: Linear(8W, 64W), ReLU, Dropout(0.5), Linear(64W, 64W), ReLU, Dropout(0.5),
 * Linear(64W, classes). At W = 64 that is 512 → 4096 → 4096 → classes, as in the trainer; at k = 3
 * and 10 classes, 28,149,514 (VGG-11-BN) and 33,646,666 (VGG-16-BN) parameters. Weight names are
 * the trainer's (features.<i>, fc.<i>), so PyTorch twins load them.
 * Five max-pools halve the image five times: inputs need at least 32×32 pixels.
 * Read top to bottom: plan, then model. Activations are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rngFor } from '../random.js';
import { makeBatchNorm, makeLinear, makeMaxPool, sequential, type Layer } from './layers.js';
import { layoutOf } from './registry.js';
import { convsAndStore, modelOf, spatialConv, type Model, type ModelSpec, type NetworkPlan } from './network.js';
import { makeSpatialConv } from './spatial-conv.js';
import '../backends/tfjs-runtime.js';

const DROPOUT = 0.5; // nn.Dropout()'s default p, as the trainer uses it

/** The feature layers with their trainer index (conv i, BN i+1, ReLU i+2; a pool takes one index). */
function planFeatures(spec: ModelSpec) {
  const layout = layoutOf(spec.arch);
  if (layout.family !== 'vgg') throw new Error(`${spec.arch} is not a VGG`);
  const layers: ({ index: number; pool: true } | { index: number; pool: false; in: number; out: number })[] = [];
  let [index, channels] = [0, spec.inChannels];
  for (const v of layout.layers) {
    if (v === 'M') {
      layers.push({ index, pool: true });
      index += 1;
    } else {
      layers.push({ index, pool: false, in: channels, out: v * spec.width });
      channels = v * spec.width;
      index += 3;
    }
  }
  return { layers, channels };
}

const hidden = (spec: ModelSpec) => 64 * spec.width; // 4096 at W = 64

/** Every spatial conv with its input size, and the size of the rest (BNs and the classifier head). */
export function planVgg(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const { layers, channels } = planFeatures(spec);
  const spatial = [];
  let [h, w] = [height, width];
  let otherWeights = 0;
  for (const l of layers) {
    if (l.pool) {
      [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
      continue;
    }
    spatial.push({
      conv: spatialConv(spec, `features.${l.index}`, l.in, l.out, 1, { bias: true }),
      height: h,
      width: w,
    });
    otherWeights += 2 * l.out; // BN
  }
  const d = hidden(spec);
  otherWeights += channels * d + d + d * d + d + d * spec.numClasses + spec.numClasses;
  return { spatial, otherWeights, otherActivations: 2 * d };
}

/** The smallest input side its 2×2 pools leave a pixel of: 2^(number of pools). */
export function vggMinSide(spec: Pick<ModelSpec, 'arch'>): number {
  const layout = layoutOf(spec.arch);
  if (layout.family !== 'vgg') throw new Error(`${spec.arch} is not a VGG`);
  return 2 ** layout.layers.filter((v) => v === 'M').length;
}

export function buildVgg(spec: ModelSpec): Model {
  const { layers, channels } = planFeatures(spec);
  const { convs, store } = convsAndStore(spec, planVgg);

  const features = sequential(
    layers.map((l): Layer => {
      if (l.pool) return makeMaxPool(2);
      const conv = makeSpatialConv(convs.get(`features.${l.index}`)!, store); // k×k conv with bias
      const bn = makeBatchNorm(`features.${l.index + 1}`, l.out, store);
      return (x, t) => tf.relu(bn(conv(x, t), t));
    }),
  );
  const d = hidden(spec);
  const fc0 = makeLinear('fc.0', channels, d, store);
  const fc3 = makeLinear('fc.3', d, d, store);
  const fc6 = makeLinear('fc.6', d, spec.numClasses, store);

  return modelOf(store, (model, x, training) => {
    // Dropout masks from (seed, global step, which dropout): the same masks after a resume.
    const dropout = (h: tf.Tensor2D, which: number): tf.Tensor2D => {
      if (!training) return h;
      const seed = Math.floor(rngFor(spec.seed, `dropout/${model.step}/${which}`)() * 2 ** 31);
      return tf.dropout(h, DROPOUT, undefined, seed) as tf.Tensor2D;
    };
    const pooled = tf.mean(features(x, training), [1, 2]) as tf.Tensor2D; // [B, 8W]
    const h1 = dropout(tf.relu(fc0(pooled)), 0);
    const h2 = dropout(tf.relu(fc3(h1)), 1);
    return fc6(h2);
  });
}
