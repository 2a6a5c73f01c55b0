/**
 * What a model will take, known before it is built: its weights, counted from the plan of its
 * convolutions, and a rough training-memory estimate (weights with their gradients and momentum,
 * plus the activations of one batch). Lets a config that cannot fit (width: 100000) be refused with
 * one line instead of allocating for minutes.
 */
import type { NetworkPlan } from './network.js';
import { chooseLcForm, hasDepthwiseFilter, isLcBlock, spatialFilterShape } from './spatial-conv.js';

export interface Footprint {
  /** Weights of the network (a shared bank counted per layer: an upper bound for `shared`). */
  weights: number;
  /** Estimated bytes to train one batch. */
  bytes: number;
}

const FLOAT_BYTES = 4;
/** Copies of every weight during training: the weight, its gradient, its momentum buffer. */
const WEIGHT_COPIES = 3;
/** Activation tensors per conv kept for the backward pass (conv output, BatchNorm output, ReLU) plus their gradient. */
const ACTIVATION_COPIES = 4;

export function estimateFootprint(
  plan: NetworkPlan,
  input: { height: number; width: number; batch: number },
): Footprint {
  let weights = plan.otherWeights; // 1×1 convs, BatchNorm, classifier
  let activations = input.batch * plan.otherActivations;
  for (const { conv, height, width } of plan.spatial) {
    const filter = spatialFilterShape(conv);
    weights += filter.reduce((a, b) => a * b, 1) + (conv.bias ? conv.outChannels : 0);
    const expanded = hasDepthwiseFilter(conv) ? conv.inChannels * conv.lcExpansion : filter[3];
    // The learned 1×1 combination: dense, or E per channel for a depthwise conv of the architecture.
    if (isLcBlock(conv)) weights += conv.perChannel ? expanded : expanded * conv.outChannels;
    // Only the expanded form holds the E×-channel activation; the composed form's conv writes `out`.
    const storesExpanded = isLcBlock(conv) && chooseLcForm(conv, [input.batch, height, width], true) === 'expanded';
    const outPositions = input.batch * Math.ceil(height / conv.stride) * Math.ceil(width / conv.stride);
    activations += outPositions * ((storesExpanded ? expanded : 0) + conv.outChannels);
  }
  return { weights, bytes: FLOAT_BYTES * (WEIGHT_COPIES * weights + ACTIVATION_COPIES * activations) };
}
