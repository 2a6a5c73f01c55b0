/**
 * The spatial layers of a built model as plain arrays: each k×k conv's own filter (learned, frozen,
 * or its slice of the shared bank), its LC block's 1×1 combination weights, and the effective k×k
 * filters the block applies — for an LC block, the learned linear combination of its (random) filters.
 */
import type { Model } from '../models/index.js';
import type * as tf from '@tensorflow/tfjs-core';
import {
  composeLcFilter,
  lcKindOf,
  isFrozen,
  isLcBlock,
  spatialFilterShape,
  type SpatialConvSpec,
} from '../models/spatial-conv.js';

export interface LayerWeights {
  name: string; // e.g. stage1.block1.conv1
  /** The k×k filter's mode: learned, frozen or shared (a k = 1 conv is always learned). */
  mode: 'learned' | 'frozen' | 'shared';
  spec: SpatialConvSpec;
  /** The k×k conv's own filter, [k, k, in, C] (C = out·E, or E per input channel when depthwise). */
  spatial: Float32Array;
  spatialShape: [number, number, number, number];
  /** LC block: the 1×1 combination weight [C_expanded, out] (per channel: [C, E]); null for a plain conv. */
  combine: Float32Array | null;
  /** The filters the layer applies, [k, k, in, out] (a plain depthwise conv of the architecture: [k, k, C, 1], one per channel). */
  effective: Float32Array;
}

/** Reads every spatial conv of `model` (in `convs` order, stem first) off the device. */
export async function layerWeights(model: Model, convs: SpatialConvSpec[]): Promise<LayerWeights[]> {
  const store = model.params;
  const layers: LayerWeights[] = [];
  for (const spec of convs) {
    const weight = `${spec.name}.weight`;
    const shape = spatialFilterShape(spec);
    const mode = !isFrozen(spec) ? 'learned' : spec.freeze;
    const slice = store.sharedSlices.get(weight);
    const filter = (store.learnable.get(weight) ?? store.frozen.get(weight) ?? slice?.()) as tf.Tensor4D | undefined;
    if (!filter) throw new Error(`model has no spatial filter ${weight}`);
    const combineVar = isLcBlock(spec) ? store.learnable.get(`${spec.name}.combine.weight`) : undefined;
    const spatial = (await filter.data()) as Float32Array;
    const combine = combineVar ? ((await combineVar.data()) as Float32Array) : null;
    // The filters the block applies: W·L, computed as the composed form computes it (the folded export too).
    let effective = spatial;
    if (combineVar) {
      const composed = composeLcFilter(filter, combineVar, lcKindOf(spec));
      effective = (await composed.data()) as Float32Array;
      composed.dispose();
    }
    if (slice) filter.dispose();
    layers.push({ name: spec.name, mode, spec, spatial, spatialShape: shape, combine, effective });
  }
  return layers;
}
