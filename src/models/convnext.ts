/**
 * ConvNeXt (Liu et al., "A ConvNet for the 2020s", 2022) at low resolution: a small preset that
 * trains on a CPU. Four stages of 2 blocks at W, 2W, 4W, 8W channels; a 2×2 stride-2 patch conv
 * (ConvNeXt's 4×4 stem, scaled to 32×32 images) and LayerNorm as the stem, LayerNorm and a 2×2
 * stride-2 conv between stages, so a 32×32 image is 16×16 in stage 1 and 2×2 in stage 4 (at least
 * 16×16 pixels: four halvings). Block: depthwise k×k conv, LayerNorm, 1×1 (linear) to 4C, GELU, 1×1
 * back to C, layer scale γ (init 1e-6), plus the input. Head: global average pool, LayerNorm,
 * linear. No stochastic depth (the preset is too shallow to need it). Weight names are the official
 * implementation's (downsample_layers.0.0, stages.1.0.dwconv, pwconv1, gamma, norm, head).
 *
 * Spatial convs: every block's depthwise conv at k = model.kernel_size in all four stages (ConvNeXt's
 * own is 7), and the 2×2 patch convs, whose size is the architecture's (k = 2, no padding): all go
 * through makeSpatialConv, so frozen keeps them all random. Read top to bottom: plan, block, model. NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gelu, makeLayerNorm, makeLinear, sequential, type Layer } from './layers.js';
import type { ParamStore } from './params.js';
import { convsAndStore, modelOf, spatialConv, type Model, type ModelSpec, type NetworkPlan } from './network.js';
import { makeSpatialConv, type SpatialConvSpec } from './spatial-conv.js';
import '../backends/tfjs-runtime.js';

/** Blocks per stage, and stage widths as multiples of W. */
const DEPTHS = [2, 2, 2, 2] as const;
const WIDTHS = [1, 2, 4, 8] as const;
/** ConvNeXt's layer-scale init and LayerNorm epsilon. */
const LAYER_SCALE_INIT = 1e-6;
/** The patch convs: 2×2, stride 2, no padding. */
const PATCH = { kernelSize: 2, pad: 0, bias: true } as const;
/** Four halvings: the smallest image side that leaves stage 4 a pixel. */
export const CONVNEXT_MIN_SIDE = 16;

const dims = (spec: ModelSpec) => WIDTHS.map((m) => m * spec.width);
const patchName = (stage: number) => (stage === 0 ? 'downsample_layers.0.0' : `downsample_layers.${stage}.1`);
const halved = (n: number) => Math.floor(n / 2);

/** Every spatial conv with its input size (patch convs and depthwise convs in forward order), and the size of the rest. */
export function planConvNeXt(spec: ModelSpec, height: number, width: number): NetworkPlan {
  const d = dims(spec);
  const spatial = [];
  let otherWeights = 0;
  let otherActivations = 0;
  let [h, w] = [height, width];
  for (let s = 0; s < 4; s++) {
    const inChannels = s === 0 ? spec.inChannels : d[s - 1]!;
    spatial.push({ conv: spatialConv(spec, patchName(s), inChannels, d[s]!, 2, PATCH), height: h, width: w });
    otherWeights += 2 * (s === 0 ? d[0]! : inChannels); // the stem's LayerNorm after, the others' before
    [h, w] = [halved(h), halved(w)];
    const C = d[s]!;
    for (let b = 0; b < DEPTHS[s]!; b++) {
      spatial.push({
        conv: spatialConv(spec, `stages.${s}.${b}.dwconv`, C, C, 1, { bias: true, perChannel: true }),
        height: h,
        width: w,
      });
      otherWeights += 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C) + C; // norm, pwconv1, pwconv2, gamma
      otherActivations += h * w * (C + 4 * C + 4 * C + C); // norm, pwconv1, GELU, pwconv2
    }
  }
  otherWeights += 2 * d[3]! + d[3]! * spec.numClasses + spec.numClasses; // final norm, head
  return { spatial, otherWeights, otherActivations };
}

/** A linear layer over the channels of every position: [B, H, W, in] → [B, H, W, out]. */
function pointwiseLinear(name: string, inC: number, outC: number, store: ParamStore): Layer {
  const fc = makeLinear(name, inC, outC, store);
  return (x) => {
    const [b, h, w] = x.shape;
    return tf.reshape(fc(tf.reshape(x, [b * h * w, inC]) as tf.Tensor2D), [b, h, w, outC]);
  };
}

/** Depthwise k×k, LayerNorm, linear to 4C, GELU, linear to C, layer scale; plus the input. */
function makeBlock(name: string, C: number, convs: Map<string, SpatialConvSpec>, store: ParamStore): Layer {
  const dwconv = makeSpatialConv(convs.get(`${name}.dwconv`)!, store);
  const norm = makeLayerNorm(`${name}.norm`, C, store);
  const pwconv1 = pointwiseLinear(`${name}.pwconv1`, C, 4 * C, store);
  const pwconv2 = pointwiseLinear(`${name}.pwconv2`, 4 * C, C, store);
  const gamma = store.addLearnable(`${name}.gamma`, [C], new Float32Array(C).fill(LAYER_SCALE_INIT));
  return (x, t) => {
    const y = pwconv2(gelu(pwconv1(norm(dwconv(x, t)), t)), t);
    return tf.add(x, tf.mul(y, gamma)) as tf.Tensor4D;
  };
}

export function buildConvNeXt(spec: ModelSpec): Model {
  const { convs, store } = convsAndStore(spec, planConvNeXt);
  const d = dims(spec);
  const layers: Layer[] = [];
  for (let s = 0; s < 4; s++) {
    const patch = makeSpatialConv(convs.get(patchName(s))!, store);
    if (s === 0) {
      const norm = makeLayerNorm('downsample_layers.0.1', d[0]!, store);
      layers.push((x, t) => norm(patch(x, t)));
    } else {
      const norm = makeLayerNorm(`downsample_layers.${s}.0`, d[s - 1]!, store);
      layers.push((x, t) => patch(norm(x), t));
    }
    for (let b = 0; b < DEPTHS[s]!; b++) layers.push(makeBlock(`stages.${s}.${b}`, d[s]!, convs, store));
  }
  const body = sequential(layers);
  const norm = makeLayerNorm('norm', d[3]!, store);
  const head = makeLinear('head', d[3]!, spec.numClasses, store);

  return modelOf(store, (_model, x, training) => {
    const h = body(x, training); // [B, H/16, W/16, 8W]
    return head(norm(tf.mean(h, [1, 2]) as tf.Tensor2D));
  });
}
