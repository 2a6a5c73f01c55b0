/**
 * The one factory for spatial (k×k) convolutions. It alone decides, from the spec, whether the
 * filter is learned, frozen or a slice of the shared bank, and whether the conv is an LC block.
 * No model file builds a k×k conv itself.
 *
 * LC block (E > 1, or depthwise): the k×k conv emits E× channels (out·E, or in·E when depthwise,
 * i.e. E random filters per input channel) and a learned 1×1 conv linearly combines them back to
 * `out`. There is no nonlinearity between the two: the output is a learned linear combination of
 * random filter responses (Gavrikov & Keuper, arXiv 2301.11360, Sec. 3).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FreezeMode } from '../config/schema.js';
import { makePointwiseConv, type Layer } from './layers.js';
import type { ParamStore } from './params.js';

export interface SpatialConvSpec {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: 1 | 2;
  freeze: FreezeMode;
  lcExpansion: number;
  depthwise: boolean;
}

export function isLcBlock(spec: Pick<SpatialConvSpec, 'lcExpansion' | 'depthwise'>): boolean {
  return spec.lcExpansion > 1 || spec.depthwise;
}

/** Filter shape of the k×k part: [k, k, in, out] (full) or [k, k, in, E] (depthwise multiplier). */
export function spatialFilterShape(
  spec: Omit<SpatialConvSpec, 'name' | 'stride' | 'freeze'>,
): [number, number, number, number] {
  const k = spec.kernelSize;
  if (spec.depthwise) return [k, k, spec.inChannels, spec.lcExpansion];
  return [k, k, spec.inChannels, isLcBlock(spec) ? spec.outChannels * spec.lcExpansion : spec.outChannels];
}

/**
 * Whether the k×k filter is trained. As in the paper, only convs with k > 1 are frozen: at k = 1 the
 * "spatial" conv is a 1×1 conv and stays learned in every mode.
 */
export function isFrozen(spec: Pick<SpatialConvSpec, 'freeze' | 'kernelSize'>): boolean {
  return spec.freeze !== 'learned' && spec.kernelSize > 1;
}

export function makeSpatialConv(spec: SpatialConvSpec, store: ParamStore): Layer {
  const shape = spatialFilterShape(spec);
  const [k, , inC, outC] = shape;
  const receptive = k * k;
  // PyTorch's fans: depthwise is a grouped conv with one input channel per group.
  const fans = spec.depthwise
    ? { fanIn: receptive, fanOut: inC * outC * receptive }
    : { fanIn: inC * receptive, fanOut: outC * receptive };
  const filterName = `${spec.name}.weight`;

  // The k×k filter follows model.spatial_init in every mode; the LC 1×1 conv below keeps `init`.
  let filter: () => tf.Tensor4D;
  if (!isFrozen(spec)) {
    const v = store.addLearnable(filterName, shape, store.spatialValues(filterName, shape, fans)) as tf.Tensor4D;
    filter = () => v;
  } else if (spec.freeze === 'frozen') {
    const t = store.addFrozen(filterName, shape, store.spatialValues(filterName, shape, fans)) as tf.Tensor4D;
    filter = () => t;
  } else {
    filter = store.useShared(filterName, shape, fans);
  }

  const pad = Math.floor(k / 2); // symmetric k//2 padding, as PyTorch's padding=k//2 (not TF 'same')
  const spatial: Layer = spec.depthwise
    ? (x) => tf.depthwiseConv2d(x, filter(), spec.stride, pad)
    : (x) => tf.conv2d(x, filter(), spec.stride, pad);
  if (!isLcBlock(spec)) return spatial;

  const expandedChannels = spec.depthwise ? inC * outC : outC;
  const combine = makePointwiseConv(`${spec.name}.combine`, expandedChannels, spec.outChannels, 1, store);
  return (x, training) => combine(spatial(x, training), training);
}
