/**
 * The spatial layers of a built model as plain arrays: each k×k conv's own filter (learned, frozen,
 * or its slice of the shared bank), its LC block's 1×1 combination weights, and the effective k×k
 * filters the block applies — for an LC block, the learned linear combination of its (random) filters.
 */
import type { Model } from '../models/index.js';
import { isFrozen, isLcBlock, spatialFilterShape, type SpatialConvSpec } from '../models/spatial-conv.js';

export interface LayerWeights {
  name: string; // e.g. stage1.block1.conv1
  /** The k×k filter's mode: learned, frozen or shared (a k = 1 conv is always learned). */
  mode: 'learned' | 'frozen' | 'shared';
  spec: SpatialConvSpec;
  /** The k×k conv's own filter, [k, k, in, C] (C = out·E, or E per input channel when depthwise). */
  spatial: Float32Array;
  spatialShape: [number, number, number, number];
  /** LC block: the 1×1 combination weight [C_expanded, out]; null for a plain conv. */
  combine: Float32Array | null;
  /** The filters the layer applies, [k, k, in, out]. */
  effective: Float32Array;
}

/**
 * Effective filters of an LC block: eff[·,·,i,o] = Σ_c spatial[·,·,i,c]·combine[c,o] (full), or
 * Σ_e spatial[·,·,i,e]·combine[i·E+e, o] (depthwise: channel i·E+e is input i's e-th filter).
 */
export function effectiveFilters(
  spatial: Float32Array,
  shape: [number, number, number, number],
  combine: Float32Array,
  spec: Pick<SpatialConvSpec, 'outChannels' | 'depthwise'>,
): Float32Array {
  const [k, , inC, c] = shape;
  const out = spec.outChannels;
  const eff = new Float32Array(k * k * inC * out);
  for (let p = 0; p < k * k; p++) {
    for (let i = 0; i < inC; i++) {
      const src = (p * inC + i) * c;
      const dst = (p * inC + i) * out;
      for (let e = 0; e < c; e++) {
        const w = spatial[src + e]!;
        if (w === 0) continue;
        const row = (spec.depthwise ? i * c + e : e) * out;
        for (let o = 0; o < out; o++) eff[dst + o]! += w * combine[row + o]!;
      }
    }
  }
  return eff;
}

/** Reads every spatial conv of `model` (in `convs` order, stem first) off the device. */
export async function layerWeights(model: Model, convs: SpatialConvSpec[]): Promise<LayerWeights[]> {
  const store = model.params;
  const layers: LayerWeights[] = [];
  for (const spec of convs) {
    const weight = `${spec.name}.weight`;
    const shape = spatialFilterShape(spec);
    const mode = !isFrozen(spec) ? 'learned' : spec.freeze;
    let spatial: Float32Array;
    if (store.learnable.has(weight)) spatial = (await store.learnable.get(weight)!.data()) as Float32Array;
    else if (store.frozen.has(weight)) spatial = (await store.frozen.get(weight)!.data()) as Float32Array;
    else {
      const slice = store.sharedSlices.get(weight);
      if (!slice) throw new Error(`model has no spatial filter ${weight}`);
      const t = slice();
      spatial = (await t.data()) as Float32Array;
      t.dispose();
    }
    const combineVar = isLcBlock(spec) ? store.learnable.get(`${spec.name}.combine.weight`) : undefined;
    const combine = combineVar ? ((await combineVar.data()) as Float32Array) : null;
    const effective = combine ? effectiveFilters(spatial, shape, combine, spec) : spatial;
    layers.push({ name: spec.name, mode, spec, spatial, spatialShape: shape, combine, effective });
  }
  return layers;
}
