/**
 * The non-spatial layers: 1×1 convs (shortcuts and LC recombination), BatchNorm, LayerNorm, GELU and
 * the linear classifier. All are learned in every freeze mode, as in the paper. Shapes are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, runningUpdate } from './batchnorm.js';
import { rngFor } from '../random.js';
import { biasValues } from './init.js';
import type { ParamStore } from './params.js';

export type Layer = (x: tf.Tensor4D, training: boolean) => tf.Tensor4D;

/** The learned weight [1, 1, in, out] of a 1×1 conv named `name`, drawn with the configured init. */
export function addPointwiseWeight(
  name: string,
  inChannels: number,
  outChannels: number,
  store: ParamStore,
): tf.Tensor4D {
  const weight = `${name}.weight`;
  return store.addLearnable(
    weight,
    [1, 1, inChannels, outChannels],
    store.initValues(weight, inChannels * outChannels, { fanIn: inChannels, fanOut: outChannels }),
  ) as tf.Tensor4D;
}

/** Learned 1×1 conv, no bias (every conv in open_lth's ResNet is bias-free). */
export function makePointwiseConv(
  name: string,
  inChannels: number,
  outChannels: number,
  stride: 1 | 2,
  store: ParamStore,
): Layer {
  const w = addPointwiseWeight(name, inChannels, outChannels, store);
  return (x) => tf.conv2d(x, w, stride, 0);
}

const BN_EPSILON = 1e-5; // PyTorch's default
const BN_MOMENTUM = 0.1; // PyTorch's convention: running = (1 - m)·running + m·batch

/** BatchNorm: batch statistics in training (running stats updated), running statistics in eval. */
export function makeBatchNorm(name: string, channels: number, store: ParamStore): Layer {
  const gamma = store.addLearnable(`${name}.weight`, [channels], new Float32Array(channels).fill(1)) as tf.Tensor1D;
  const beta = store.addLearnable(`${name}.bias`, [channels], new Float32Array(channels)) as tf.Tensor1D;
  const runningMean = store.addBuffer(`${name}.running_mean`, [channels], new Float32Array(channels));
  const runningVar = store.addBuffer(`${name}.running_var`, [channels], new Float32Array(channels).fill(1));
  return (x, training) => {
    if (!training)
      return tf.batchNorm4d(x, runningMean as tf.Tensor1D, runningVar as tf.Tensor1D, beta, gamma, BN_EPSILON);
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, BN_EPSILON);
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    tf.tidy(() => {
      // Running variance is unbiased (n / (n - 1)), as in PyTorch.
      runningMean.assign(runningUpdate(runningMean, mean, { keep: 1 - BN_MOMENTUM, take: BN_MOMENTUM }));
      runningVar.assign(
        runningUpdate(runningVar, variance, { keep: 1 - BN_MOMENTUM, take: (BN_MOMENTUM * n) / Math.max(n - 1, 1) }),
      );
    });
    return y;
  };
}

/**
 * LayerNorm over the channels of each position (NHWC's last axis; ConvNeXt's channels_last and
 * channels_first norms are both this), with a learned scale and shift, PyTorch's biased variance.
 */
export function makeLayerNorm(name: string, channels: number, store: ParamStore, epsilon = 1e-6) {
  const gamma = store.addLearnable(`${name}.weight`, [channels], new Float32Array(channels).fill(1));
  const beta = store.addLearnable(`${name}.bias`, [channels], new Float32Array(channels));
  return <T extends tf.Tensor>(x: T): T => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta) as T;
  };
}

/** GELU, the exact (erf) form, PyTorch's nn.GELU() default: x · Φ(x). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

/** Linear classifier, with a bias unless `bias: false` (ResNet-9's): [B, C] → [B, classes]. */
export function makeLinear(
  name: string,
  inFeatures: number,
  outFeatures: number,
  store: ParamStore,
  options: { bias?: boolean } = {},
): (x: tf.Tensor2D) => tf.Tensor2D {
  const w = store.addLearnable(
    `${name}.weight`,
    [inFeatures, outFeatures],
    store.initValues(`${name}.weight`, inFeatures * outFeatures, { fanIn: inFeatures, fanOut: outFeatures }),
  );
  if (options.bias === false) return (x) => tf.matMul(x, w as tf.Tensor2D);
  const b = store.addLearnable(
    `${name}.bias`,
    [outFeatures],
    biasValues(outFeatures, inFeatures, rngFor(store.seed, `${name}.bias`)),
  );
  return (x) => tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

/**
 * Blocks applied in order. Inference keeps nothing for a backward pass, so there each block's input
 * is freed as soon as the next block has run: the next block then writes into the same few
 * (cache-warm) arrays of the backend's pool instead of a fresh one per op that lives until the
 * caller's tidy ends.
 */
export function sequential(blocks: Layer[]): Layer {
  return (x, training) => {
    let h = x;
    for (const block of blocks) {
      if (training) {
        h = block(h, true);
        continue;
      }
      const input = h;
      h = tf.tidy(() => block(input, false));
      if (input !== x) input.dispose();
    }
    return h;
  };
}

/** Max pooling over `size`×`size` windows at stride `size` (PyTorch's MaxPool2d(size), floor mode). */
export function makeMaxPool(size: number): Layer {
  return (x) => tf.maxPool(x, size, size, 'valid');
}
