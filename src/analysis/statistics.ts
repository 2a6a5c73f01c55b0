/**
 * Statistics of trained weights, on plain arrays (no tfjs): where a k×k filter's energy sits, the
 * eigenvalue spectrum of the filters' k²×k² covariance, and how sparse the LC blocks' 1×1
 * combination weights are. Filters are [k, k, in, out] row-major (tfjs layout), so position p of
 * every filter is the contiguous run values[p·N .. (p+1)·N) over the N = in·out filters.
 */
import { filterSecondMoments, symmetricEigenvalues } from '../models/init.js';

/** Share of the filters' total energy Σw² at each of the k² positions (row-major; sums to 1). */
export function positionEnergy(filters: ArrayLike<number>, k: number): number[] {
  const positions = k * k;
  const n = filters.length / positions;
  const energy = Array.from({ length: positions }, (_, p) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += filters[p * n + j]! ** 2;
    return s;
  });
  const total = energy.reduce((a, b) => a + b, 0);
  return energy.map((e) => (total > 0 ? e / total : 0));
}

/** Energy share of the centre position and of the outer ring (the border positions together). */
export function centreAndBorder(energy: number[], k: number): { centre: number; border: number } {
  const c = Math.floor(k / 2);
  let border = 0;
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) if (y === 0 || x === 0 || y === k - 1 || x === k - 1) border += energy[y * k + x]!;
  return { centre: energy[c * k + c]!, border: k === 1 ? 0 : border };
}

/**
 * Eigenvalues of the filters' k²×k² second-moment matrix, largest first, as shares of their sum:
 * flat (1/k² each) for i.i.d. filters, concentrated in a few for structured (e.g. smooth) ones.
 */
export function covarianceSpectrum(filters: ArrayLike<number>, k: number): number[] {
  const raw = symmetricEigenvalues(filterSecondMoments(filters, k * k));
  // Fewer filters than k² positions leave a rank-deficient matrix: its zero eigenvalues come out as
  // round-off (±1e-17 of the largest), which would read as real directions; they are zero.
  const eigenvalues = raw.map((v) => (v > 1e-10 * raw[0]! ? v : 0));
  const total = eigenvalues.reduce((a, b) => a + b, 0);
  return eigenvalues.map((v) => (total > 0 ? v / total : 0));
}

/** exp(entropy) of a spectrum of shares: k² for a flat one, 1 when one direction holds everything. */
export function effectiveRank(shares: number[]): number {
  return Math.exp(-shares.reduce((h, p) => (p > 0 ? h + p * Math.log(p) : h), 0));
}

export interface CombineSparsity {
  /** Fraction of weights with |w| below 1 % of the layer's largest |w|. */
  below1pct: number;
  /** … below 10 %. */
  below10pct: number;
  /** Hoyer's sparsity of the whole layer, (√n − ‖w‖₁/‖w‖₂)/(√n − 1): 0 all equal, 1 one non-zero. */
  hoyer: number;
  /** Per output, the participation ratio (Σw²)²/Σw⁴ of its input weights (the number of filters it effectively uses), averaged. */
  effectiveInputs: number;
  /** Inputs each output combines (E·out, or in·E for depthwise). */
  inputs: number;
}

/** Sparsity of a 1×1 combination weight [inputs, outputs] (row-major, as the conv's [1, 1, in, out]). */
export function combineSparsity(weights: ArrayLike<number>, inputs: number, outputs: number): CombineSparsity {
  const n = weights.length;
  let max = 0,
    l1 = 0,
    l2 = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(weights[i]!);
    max = Math.max(max, a);
    l1 += a;
    l2 += a * a;
  }
  let below1 = 0,
    below10 = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(weights[i]!);
    if (a < 0.01 * max) below1++;
    if (a < 0.1 * max) below10++;
  }
  let effective = 0;
  for (let o = 0; o < outputs; o++) {
    let s2 = 0,
      s4 = 0;
    for (let c = 0; c < inputs; c++) {
      const w2 = weights[c * outputs + o]! ** 2;
      s2 += w2;
      s4 += w2 * w2;
    }
    effective += s4 > 0 ? (s2 * s2) / s4 : 0;
  }
  const rootN = Math.sqrt(n);
  return {
    below1pct: below1 / n,
    below10pct: below10 / n,
    hoyer: l2 > 0 && n > 1 ? (rootN - l1 / Math.sqrt(l2)) / (rootN - 1) : 0,
    effectiveInputs: effective / outputs,
    inputs,
  };
}
