/**
 * The one factory for spatial (k×k) convolutions. It alone decides, from the spec, whether the
 * filter is learned, frozen or a slice of the shared bank, and whether the conv is an LC block.
 * No model file builds a k×k conv itself.
 *
 * LC block (E > 1, or depthwise): the k×k conv emits E× channels (out·E, or in·E when depthwise,
 * i.e. E random filters per input channel) and a learned 1×1 conv linearly combines them back to
 * `out`.
 *
 * A conv that is depthwise by architecture (`perChannel`: MobileNetV2's and ConvNeXt's, one k×k
 * filter per channel, out = in) is the same factory's: frozen, its per-channel filters stay random;
 * plain (E = 1), it is a depthwise conv [k, k, C, 1]; as an LC block (E > 1; lc_depthwise does not
 * apply, it is depthwise already) each channel has E filters [k, k, C, E] and a learned 1×1 conv
 * grouped per channel (weights [C, E]) combines channel c's E responses into channel c. So each
 * channel's filter is a learned linear combination of its E random filters, and the block stays a
 * depthwise conv of the architecture: composed, it is one depthwise conv [k, k, C, 1] (and folds
 * into one). A dense 1×1 here would instead mix channels that the architecture keeps apart. There is no nonlinearity between the two: the output is a learned linear combination of
 * random filter responses (Gavrikov & Keuper, arXiv 2301.11360, Sec. 3).
 *
 * Because nothing sits between the two convs, the block is one linear map: a k×k conv with the
 * composed filter W_eff[·,·,i,o] = Σ_m W[·,·,i,m]·L[m,o] (depthwise: Σ_e D[·,·,i,e]·L[i·E+e,o]).
 * The "composed" form builds W_eff from the block's current weights in every forward and runs that
 * one conv; autodiff then gives dL = Wᵀ·dW_eff (and dW = dW_eff·Lᵀ when W is learned), the same
 * gradients as the "expanded" pair of convs in exact arithmetic (as DO-Conv trains, and
 * ExpandNets/RepVGG contract). It costs one small matmul per layer, independent of batch and image
 * size, instead of E× the conv work and E× the activations. `lc_compute: auto` picks per call the
 * form with fewer multiply-adds (lcMacs); the weights, and so checkpoints, are the same either way.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FreezeMode, LcCompute } from '../config/schema.js';
import { rngFor } from '../random.js';
import { biasValues } from './init.js';
import { addPointwiseWeight, type Layer } from './layers.js';
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
  lcCompute: LcCompute;
  /** A learned per-output-channel bias after the conv (VGG's convs have one); learned in every mode. */
  bias?: boolean;
  /** Depthwise by architecture (out = in, one filter per channel), whatever lc_depthwise says (see the header). */
  perChannel?: boolean;
  /** Zero padding on each side; unset, k // 2 (PyTorch's padding=k//2). ConvNeXt's 2×2 patch convs: 0. */
  pad?: number;
}

/** The two ways to compute an LC block (see the header). */
export type LcForm = 'composed' | 'expanded';

export function isLcBlock(spec: Pick<SpatialConvSpec, 'lcExpansion' | 'depthwise' | 'perChannel'>): boolean {
  return spec.lcExpansion > 1 || (spec.depthwise && !spec.perChannel);
}

/**
 * How an LC block's 1×1 combination reads the k×k conv's E·C channels: `full` (a full conv's
 * out·E channels, a dense 1×1 to out), `depthwise` (lc_depthwise: in·E channels, a dense 1×1 to
 * out) or `per_channel` (a depthwise conv of the architecture: channel c's E responses into c).
 */
export type LcKind = 'full' | 'depthwise' | 'per_channel';

export function lcKindOf(spec: Pick<SpatialConvSpec, 'depthwise' | 'perChannel'>): LcKind {
  return spec.perChannel ? 'per_channel' : spec.depthwise ? 'depthwise' : 'full';
}

/** Whether the k×k filter is depthwise ([k, k, in, E], one group per input channel): an LC depthwise block, or a depthwise conv of the architecture. */
export function hasDepthwiseFilter(spec: Pick<SpatialConvSpec, 'depthwise' | 'perChannel'>): boolean {
  return spec.depthwise || spec.perChannel === true;
}

/** Filter shape of the k×k part: [k, k, in, out] (full) or [k, k, in, E] (depthwise multiplier). */
export function spatialFilterShape(
  spec: Omit<SpatialConvSpec, 'name' | 'stride' | 'freeze'>,
): [number, number, number, number] {
  const k = spec.kernelSize;
  if (hasDepthwiseFilter(spec)) return [k, k, spec.inChannels, spec.lcExpansion];
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
  const fans = hasDepthwiseFilter(spec)
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

  const conv = spatialOrLcConv(spec, filter, store);
  if (!spec.bias) return conv;
  // PyTorch's conv bias init: U(-1/√fan_in, 1/√fan_in), fan_in of the k×k conv.
  const biasName = `${spec.name}.bias`;
  const bias = store.addLearnable(
    biasName,
    [spec.outChannels],
    biasValues(spec.outChannels, spec.inChannels * receptive, rngFor(store.seed, biasName)),
  );
  return (x, training) => tf.add(conv(x, training), bias) as tf.Tensor4D;
}

/** The k×k conv with this filter, or the LC block around it (in the form `lc_compute` picks). */
function spatialOrLcConv(spec: SpatialConvSpec, filter: () => tf.Tensor4D, store: ParamStore): Layer {
  const [k, , inC, outC] = spatialFilterShape(spec);
  const pad = spec.pad ?? Math.floor(k / 2); // symmetric k//2 padding, as PyTorch's padding=k//2 (not TF 'same')
  const depthwise = hasDepthwiseFilter(spec);
  const spatial: Layer = depthwise
    ? (x) => tf.depthwiseConv2d(x, filter(), spec.stride, pad)
    : (x) => tf.conv2d(x, filter(), spec.stride, pad);
  if (!isLcBlock(spec)) return spatial;

  const kind = lcKindOf(spec);
  if (kind === 'per_channel') {
    const combine = addGroupedCombination(`${spec.name}.combine`, inC, outC, store);
    return (x, training) => {
      if (chooseLcForm(spec, x.shape, training) === 'composed')
        return tf.depthwiseConv2d(x, composeLcFilter(filter(), combine, kind), spec.stride, pad);
      // Channel c·E + e of the depthwise conv is channel c's e-th response: weight it by L[c, e], sum over e.
      const y = spatial(x, training);
      const [b, h, w] = y.shape;
      return tf.sum(tf.mul(tf.reshape(y, [b, h, w, inC, outC]), combine), 4) as tf.Tensor4D;
    };
  }
  const expandedChannels = depthwise ? inC * outC : outC;
  const combine = addPointwiseWeight(`${spec.name}.combine`, expandedChannels, spec.outChannels, store);
  return (x, training) => {
    if (chooseLcForm(spec, x.shape, training) === 'composed')
      return tf.conv2d(x, composeLcFilter(filter(), combine, kind), spec.stride, pad); // a full k×k conv either way
    return tf.conv2d(spatial(x, training), combine, 1, 0);
  };
}

/**
 * The learned weights [C, E] of a 1×1 conv grouped per channel (C groups of E inputs, one output
 * each), drawn with the configured init at PyTorch's fans for that conv ([C, E, 1, 1]: fan-in E).
 */
function addGroupedCombination(name: string, channels: number, perChannel: number, store: ParamStore): tf.Tensor2D {
  const weight = `${name}.weight`;
  return store.addLearnable(
    weight,
    [channels, perChannel],
    store.initValues(weight, channels * perChannel, { fanIn: perChannel, fanOut: channels }),
  ) as tf.Tensor2D;
}

/**
 * The block's one k×k filter from its spatial filter and its 1×1 combination: full W [k, k, in, C]
 * (C = E·out) with L [1, 1, C, out] gives W·L as one matmul over C; depthwise D [k, k, in, E] with
 * L [1, 1, in·E, out] gives, per input channel i, D[·,·,i,:]·L[i·E .. i·E+E-1, :] (a batched matmul
 * over i, since expanded channel i·E + e is input i's e-th filter), [k, k, in, out]; per channel,
 * D [k, k, C, E] with L [C, E] gives Σ_e D[·,·,c,e]·L[c,e], the depthwise filter [k, k, C, 1].
 * Differentiable: autodiff through it gives the LC block's gradients.
 */
export function composeLcFilter(spatial: tf.Tensor4D, combine: tf.Tensor, kind: LcKind): tf.Tensor4D {
  return tf.tidy(() => {
    const [k, , inC, c] = spatial.shape;
    if (kind === 'per_channel') return tf.sum(tf.mul(spatial, combine), 3, true) as tf.Tensor4D;
    const out = combine.shape[3]!;
    if (kind === 'full') {
      const flat = tf.matMul(tf.reshape(spatial, [k * k * inC, c]), tf.reshape(combine, [c, out]));
      return tf.reshape(flat, [k, k, inC, out]);
    }
    const perInput = tf.transpose(tf.reshape(spatial, [k * k, inC, c]), [1, 0, 2]); // [in, k², E]
    const mixed = tf.matMul(perInput, tf.reshape(combine, [inC, c, out])); // [in, k², out]
    return tf.reshape(tf.transpose(mixed, [1, 0, 2]), [k, k, inC, out]);
  });
}

/**
 * Multiply-adds of one LC block call on an input of `inputShape` (NHWC), per form: the forward, and
 * in training the backward (input gradient, combination gradient, and the k×k filter's gradient
 * when it is learned). Expanded runs the k×k conv at E× channels and the 1×1 conv over every
 * output position; composed runs one k×k conv at `out` channels plus the filter composition
 * (forward, dL, and dW when learned), whose cost is independent of batch and image size.
 */
export function lcMacs(
  spec: SpatialConvSpec,
  inputShape: readonly number[],
  training: boolean,
): Record<LcForm, number> {
  const [batch = 1, h = 1, w = 1] = inputShape;
  const positions = batch * Math.ceil(h / spec.stride) * Math.ceil(w / spec.stride);
  const taps = spec.kernelSize * spec.kernelSize;
  const kind = lcKindOf(spec);
  const E = spec.lcExpansion;
  const expandedChannels = kind === 'full' ? spec.outChannels * E : spec.inChannels * E;
  // Per output position: full convs read every input channel, a depthwise one only its own.
  const spatialPerPosition = taps * (kind === 'full' ? spec.inChannels * expandedChannels : expandedChannels);
  // The combination per position (dense, or E per channel) and the composed conv per position (full, or depthwise).
  const combinePerPosition = kind === 'per_channel' ? expandedChannels : expandedChannels * spec.outChannels;
  const composedPerPosition = taps * (kind === 'per_channel' ? spec.inChannels : spec.inChannels * spec.outChannels);
  const composition =
    kind === 'full' ? taps * spec.inChannels * expandedChannels * spec.outChannels : taps * composedPerPosition * E;
  // Forward only, or forward + input gradient + weight gradients.
  const filterPasses = training ? (isFrozen(spec) ? 2 : 3) : 1;
  const pointwisePasses = training ? 3 : 1;
  return {
    expanded: positions * (filterPasses * spatialPerPosition + pointwisePasses * combinePerPosition),
    composed: positions * pointwisePasses * composedPerPosition + filterPasses * composition,
  };
}

/** The form an LC block takes for this call: `lc_compute`, or under `auto` the fewer multiply-adds. */
export function chooseLcForm(spec: SpatialConvSpec, inputShape: readonly number[], training: boolean): LcForm {
  if (spec.lcCompute !== 'auto') return spec.lcCompute;
  const macs = lcMacs(spec, inputShape, training);
  return macs.composed <= macs.expanded ? 'composed' : 'expanded';
}
