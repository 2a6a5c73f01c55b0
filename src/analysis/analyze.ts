/**
 * `lcconv analyze`: what the trained weights look like. For one run (a trained model and the same
 * model as initialised, both built from its config and seed) it computes per spatial layer the
 * energy per kernel position, the eigenvalue spectrum of the effective filters' k²×k² covariance
 * (trained vs init), and the sparsity of LC blocks' 1×1 weights, plus weight counts; for a folder of
 * runs, the same per run and one row per run to compare across E and k. Deterministic: no sampling.
 */
import type { ParamCounts } from '../models/params.js';
import type { LayerWeights } from '../models/effective-filters.js';
import { centreAndBorder, combineSparsity, covarianceSpectrum, effectiveRank, positionEnergy } from './statistics.js';

export interface LayerStats {
  layer: string;
  mode: string; // of the k×k filter: learned, frozen or shared
  kernel_size: number;
  in_channels: number;
  out_channels: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  /** Effective filters: in·out (what the layer applies; for an LC block the combined ones). */
  filters: number;
  centre_energy: number; // share of Σw² at the centre position, effective filters
  border_energy: number; // share on the outer ring
  init_centre_energy: number;
  init_border_energy: number;
  top_eigen_share: number; // largest eigenvalue of the k²×k² covariance / their sum
  effective_rank: number; // exp(entropy) of the spectrum, 1 … k²
  init_top_eigen_share: number;
  init_effective_rank: number;
  /** LC block only (null for a plain conv): sparsity of the 1×1 combination weights. */
  lc_below_1pct: number | null;
  lc_below_10pct: number | null;
  lc_hoyer: number | null;
  lc_effective_filters: number | null; // per output, mean participation ratio of its inputs
  lc_inputs: number | null; // inputs each output combines
}

export interface SpectrumRow {
  layer: string;
  rank: number;
  trained: number;
  init: number;
}
export interface EnergyRow {
  layer: string;
  y: number;
  x: number;
  trained: number;
  init: number;
}
export interface HistogramRow {
  layer: string;
  bin_start: number;
  bin_end: number;
  count: number;
}
/** One filter cell of a picture: each filter scaled by its own largest |w| to [-1, 1]. */
export interface FilterCell {
  panel: string;
  row: number;
  col: number;
  y: number;
  x: number;
  value: number;
}

export interface WeightCounts extends ParamCounts {
  /** Bytes of the run's checkpoint weights file (learnable weights, BN statistics and momentum buffers). */
  checkpoint_bytes: number | null;
  /** The stored weights as float32 (learnable + own frozen + the shared bank once). */
  stored_bytes: number;
}

export interface RunAnalysis {
  layers: LayerStats[];
  spectra: SpectrumRow[];
  energy: EnergyRow[];
  lcHistogram: HistogramRow[];
  filterCells: FilterCell[];
  counts: WeightCounts;
}

const HISTOGRAM_BINS = 20;
/** Filters shown per picture panel: up to PICTURE_ROWS input channels × PICTURE_COLS output channels. */
const PICTURE_ROWS = 4;
const PICTURE_COLS = 8;

/** The layers pictured by default: the stem and the first conv of each stage. */
export function defaultPictureLayers(names: string[]): string[] {
  return names.filter((n) => n === 'stem.conv' || /^stage\d+\.block1\.conv1$/.test(n));
}

/** |w| / max|w| of each LC layer's combination weights, in HISTOGRAM_BINS equal bins over [0, 1]. */
function combineHistogram(layer: LayerWeights): HistogramRow[] {
  const w = layer.combine!;
  let max = 0;
  for (const v of w) max = Math.max(max, Math.abs(v));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of w)
    counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((max > 0 ? Math.abs(v) / max : 0) * HISTOGRAM_BINS))]!++;
  return counts.map((count, b) => ({
    layer: layer.name,
    bin_start: b / HISTOGRAM_BINS,
    bin_end: (b + 1) / HISTOGRAM_BINS,
    count,
  }));
}

/** Up to PICTURE_ROWS × PICTURE_COLS filters (input i = row, output o = col) of a [k, k, in, out] tensor. */
function pictureCells(panel: string, values: Float32Array, shape: [number, number, number, number]): FilterCell[] {
  const [k, , inC, outC] = shape;
  const cells: FilterCell[] = [];
  for (let i = 0; i < Math.min(inC, PICTURE_ROWS); i++) {
    for (let o = 0; o < Math.min(outC, PICTURE_COLS); o++) {
      const at = (p: number) => values[(p * inC + i) * outC + o]!;
      let max = 0;
      for (let p = 0; p < k * k; p++) max = Math.max(max, Math.abs(at(p)));
      for (let p = 0; p < k * k; p++)
        cells.push({ panel, row: i, col: o, y: Math.floor(p / k), x: p % k, value: max > 0 ? at(p) / max : 0 });
    }
  }
  return cells;
}

/**
 * Statistics of one run: `trained` and `initial` are the same layers after training and at
 * initialisation; `pictured` names the layers drawn as filter pictures.
 */
export function analyzeLayers(
  trained: LayerWeights[],
  initial: LayerWeights[],
  counts: ParamCounts,
  checkpointBytes: number | null,
  pictured: string[],
): RunAnalysis {
  const analysis: RunAnalysis = {
    layers: [],
    spectra: [],
    energy: [],
    lcHistogram: [],
    filterCells: [],
    counts: { ...counts, checkpoint_bytes: checkpointBytes, stored_bytes: 4 * counts.stored },
  };
  trained.forEach((layer, index) => {
    const init = initial[index]!;
    const { spec } = layer;
    const k = spec.kernelSize;
    const energy = positionEnergy(layer.effective, k);
    const initEnergy = positionEnergy(init.effective, k);
    const spectrum = covarianceSpectrum(layer.effective, k);
    const initSpectrum = covarianceSpectrum(init.effective, k);
    const sparsity = layer.combine ? combinationSparsity(layer.combine, spec) : null;
    const cb = centreAndBorder(energy, k);
    const initCb = centreAndBorder(initEnergy, k);
    analysis.layers.push({
      layer: layer.name,
      mode: layer.mode,
      kernel_size: k,
      in_channels: spec.inChannels,
      out_channels: spec.outChannels,
      lc_expansion: spec.lcExpansion,
      lc_depthwise: spec.depthwise,
      filters: layer.effective.length / (k * k), // in × out, or C for a depthwise conv of the architecture
      centre_energy: cb.centre,
      border_energy: cb.border,
      init_centre_energy: initCb.centre,
      init_border_energy: initCb.border,
      top_eigen_share: spectrum[0]!,
      effective_rank: effectiveRank(spectrum),
      init_top_eigen_share: initSpectrum[0]!,
      init_effective_rank: effectiveRank(initSpectrum),
      lc_below_1pct: sparsity?.below1pct ?? null,
      lc_below_10pct: sparsity?.below10pct ?? null,
      lc_hoyer: sparsity?.hoyer ?? null,
      lc_effective_filters: sparsity?.effectiveInputs ?? null,
      lc_inputs: sparsity?.inputs ?? null,
    });
    analysis.spectra.push(
      ...spectrum.map((v, r) => ({ layer: layer.name, rank: r + 1, trained: v, init: initSpectrum[r]! })),
    );
    analysis.energy.push(
      ...energy.map((v, p) => ({
        layer: layer.name,
        y: Math.floor(p / k),
        x: p % k,
        trained: v,
        init: initEnergy[p]!,
      })),
    );
    if (layer.combine) analysis.lcHistogram.push(...combineHistogram(layer));
    if (pictured.includes(layer.name)) {
      analysis.filterCells.push(
        ...pictureCells(`${layer.name} · ${layer.mode} k×k filters`, layer.spatial, layer.spatialShape),
      );
      if (layer.combine) {
        const what = spec.perChannel
          ? `per channel, E=${spec.lcExpansion}`
          : spec.depthwise
            ? `depthwise, E=${spec.lcExpansion}`
            : `E=${spec.lcExpansion}`;
        analysis.filterCells.push(
          ...pictureCells(`${layer.name} · effective (LC ${what} of ${layer.mode})`, layer.effective, [
            k,
            k,
            spec.inChannels,
            layer.effective.length / (k * k * spec.inChannels),
          ]),
        );
      }
    }
  });
  return analysis;
}

/** One number per run for comparisons across a sweep: layer means (LC means over LC layers only). */
export function runStatistics(analysis: RunAnalysis): Record<string, number | null> {
  const mean = (pick: (l: LayerStats) => number | null) => {
    const values = analysis.layers.map(pick).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  return {
    lc_below_1pct: mean((l) => l.lc_below_1pct),
    lc_below_10pct: mean((l) => l.lc_below_10pct),
    lc_hoyer: mean((l) => l.lc_hoyer),
    lc_effective_filters: mean((l) => l.lc_effective_filters),
    centre_energy: mean((l) => l.centre_energy),
    border_energy: mean((l) => l.border_energy),
    init_centre_energy: mean((l) => l.init_centre_energy),
    effective_rank: mean((l) => l.effective_rank),
    init_effective_rank: mean((l) => l.init_effective_rank),
    top_eigen_share: mean((l) => l.top_eigen_share),
    init_top_eigen_share: mean((l) => l.init_top_eigen_share),
  };
}

/**
 * Sparsity of an LC block's combination: per output channel over its inputs. A dense 1×1 is stored
 * [inputs, out]; a per-channel one [C, E] (channel c's E inputs), read here as [E, C].
 */
function combinationSparsity(combine: Float32Array, spec: LayerWeights['spec']) {
  if (!spec.perChannel) return combineSparsity(combine, combine.length / spec.outChannels, spec.outChannels);
  const [channels, perChannel] = [spec.outChannels, combine.length / spec.outChannels];
  const inputsByOutput = new Float32Array(combine.length);
  for (let c = 0; c < channels; c++)
    for (let e = 0; e < perChannel; e++) inputsByOutput[e * channels + c] = combine[c * perChannel + e]!;
  return combineSparsity(inputsByOutput, perChannel, channels);
}
