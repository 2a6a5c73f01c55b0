/**
 * What every architecture shares: the spec it is built from, the Model it returns, the plan of its
 * spatial convs (for the footprint check, the LC-form summary, analysis and export), and the
 * bookkeeping that is the same in every family (the spatial conv specs from the model-wide settings,
 * one shared bank sized for every spatial filter, the parameter store). Each family file
 * (resnet.ts, resnet-lowres.ts, vgg.ts) is then only its network, top to bottom.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FreezeMode, InitScheme, LcCompute } from '../config/schema.js';
import type { SpatialInit } from './init.js';
import { ParamStore, SharedBank, type ParamCounts } from './params.js';
import type { ArchName } from './registry.js';
import type { UserModelSource } from './user-model.js';
import { spatialFilterShape, type SpatialConvSpec } from './spatial-conv.js';

export interface ModelSpec {
  /** A built-in architecture, or the config's path of your own script (then `userModel` is its text). */
  arch: ArchName | string;
  userModel?: UserModelSource;
  width: number; // W: channels of the first stage
  kernelSize: number; // k
  lcExpansion: number; // E
  lcDepthwise: boolean;
  lcCompute: LcCompute;
  freeze: FreezeMode;
  init: InitScheme;
  spatialInit: SpatialInit; // the k×k filters only
  inChannels: number; // 3 for colour, 1 for grey images
  numClasses: number;
  seed: number;
}

export interface Model {
  /** [B, H, W, C] → logits [B, classes]. `training` selects batch statistics in BatchNorm (and dropout). */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /**
   * The global training step the next training forward belongs to. Stochastic layers (VGG's
   * dropout) draw their masks from (seed, step), so a resumed run draws what an uninterrupted one
   * would; the trainer sets it before every step.
   */
  step: number;
  params: ParamStore;
  counts: ParamCounts;
  dispose(): void;
}

/** A spatial conv and the height × width of the feature map it reads. */
export interface SpatialConvAt {
  conv: SpatialConvSpec;
  height: number;
  width: number;
}

/** A network's plan before anything is allocated. */
export interface NetworkPlan {
  /** Every spatial (k×k) conv, in forward order, with its input size. */
  spatial: SpatialConvAt[];
  /** Weights outside the spatial convs (1×1 convs, BatchNorm, classifier). */
  otherWeights: number;
  /** Activation values per image outside the spatial convs' outputs (1×1 convs, the classifier). */
  otherActivations: number;
}

/** The factory's spec for one spatial conv of this network, from the model-wide settings. */
export function spatialConv(
  spec: ModelSpec,
  name: string,
  inChannels: number,
  outChannels: number,
  stride: 1 | 2,
  options: { bias?: boolean; perChannel?: boolean; kernelSize?: number; pad?: number } = {},
): SpatialConvSpec {
  if (options.perChannel && inChannels !== outChannels)
    throw new Error(`${name}: a depthwise conv keeps its channels (${inChannels} in, ${outChannels} out)`);
  return {
    name,
    inChannels,
    outChannels,
    stride,
    kernelSize: options.kernelSize ?? spec.kernelSize,
    freeze: spec.freeze,
    lcExpansion: spec.lcExpansion,
    depthwise: spec.lcDepthwise,
    lcCompute: spec.lcCompute,
    bias: options.bias ?? false,
    ...(options.perChannel ? { perChannel: true } : {}),
    ...(options.pad !== undefined ? { pad: options.pad } : {}),
  };
}

/** Output size of a conv or pool with padding that keeps "same" at stride 1: ceil(n / stride). */
export const strided = (n: number, stride: number) => Math.ceil(n / stride);

/**
 * The parameter store for a network whose spatial convs are `convs`: in shared mode with one bank
 * large enough for every spatial filter ([max k, max k, max in, max out] over the k > 1 layers).
 */
export function makeStore(spec: ModelSpec, convs: SpatialConvSpec[]): ParamStore {
  let bank: SharedBank | undefined;
  const sharing = convs.filter((c) => c.kernelSize > 1); // k = 1 convs stay learned in every mode
  if (spec.freeze === 'shared' && sharing.length > 0) {
    const shapes = sharing.map((c) => spatialFilterShape(c));
    const maxK = Math.max(...shapes.map((s) => s[0]));
    const maxIn = Math.max(...shapes.map((s) => s[2]));
    const maxOut = Math.max(...shapes.map((s) => s[3]));
    bank = new SharedBank([maxK, maxK, maxIn, maxOut], spec.spatialInit, spec.seed);
  }
  return new ParamStore(spec.seed, spec.init, spec.spatialInit, bank);
}

/**
 * What every family's builder starts from: its spatial convs by name (from its plan) and the
 * parameter store for them.
 */
export function convsAndStore(
  spec: ModelSpec,
  plan: (spec: ModelSpec, height: number, width: number) => NetworkPlan,
): { convs: Map<string, SpatialConvSpec>; store: ParamStore } {
  // The input size only matters for the footprint and lc_compute's per-call choice, not for building.
  const convs = new Map(plan(spec, 1, 1).spatial.map(({ conv }) => [conv.name, conv]));
  return { convs, store: makeStore(spec, [...convs.values()]) };
}

/** The Model of a built network. */
export function modelOf(
  store: ParamStore,
  forward: (model: Model, x: tf.Tensor4D, training: boolean) => tf.Tensor2D,
): Model {
  const model: Model = {
    forward: (x, training) => forward(model, x, training),
    step: 0,
    params: store,
    counts: store.counts(),
    dispose: () => store.dispose(),
  };
  return model;
}
