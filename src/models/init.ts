/**
 * Weight initialisation, computed in JavaScript from a seeded stream per parameter name so that a
 * seed gives the same weights on every backend and regardless of construction order.
 * kaiming_uniform is PyTorch's Conv2d/Linear default (a = √5 → U(±1/√fan_in)), as the authors ran it.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { InitScheme } from '../config/schema.js';
import type { Rng } from '../random.js';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

/** The init as "base draw × scale": uniform schemes draw U(-1, 1), normal ones N(0, 1). */
export function initScale(
  scheme: InitScheme,
  { fanIn, fanOut }: Fans,
): { distribution: 'uniform' | 'normal'; scale: number } {
  switch (scheme) {
    case 'kaiming_uniform':
      return { distribution: 'uniform', scale: 1 / Math.sqrt(fanIn) }; // gain √(2/(1+5)) · √(3/fan_in)
    case 'kaiming_normal':
      return { distribution: 'normal', scale: Math.sqrt(2 / fanIn) }; // ReLU gain, fan_in mode
    case 'xavier_uniform':
      return { distribution: 'uniform', scale: Math.sqrt(6 / (fanIn + fanOut)) };
    case 'xavier_normal':
      return { distribution: 'normal', scale: Math.sqrt(2 / (fanIn + fanOut)) };
  }
}

/** `size` unit draws (U(-1,1) or N(0,1)) from `rng`. */
export function unitDraws(size: number, distribution: 'uniform' | 'normal', rng: Rng): Float32Array {
  const out = new Float32Array(size);
  if (distribution === 'uniform') {
    for (let i = 0; i < size; i++) out[i] = 2 * rng() - 1;
  } else {
    for (let i = 0; i < size; i += 2) {
      // Box–Muller gives two independent normals per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(1 - rng()));
      const t = 2 * Math.PI * rng();
      out[i] = r * Math.cos(t);
      if (i + 1 < size) out[i + 1] = r * Math.sin(t);
    }
  }
  return out;
}

export function initValues(size: number, scheme: InitScheme, fans: Fans, rng: Rng): Float32Array {
  const { distribution, scale } = initScale(scheme, fans);
  const out = unitDraws(size, distribution, rng);
  for (let i = 0; i < size; i++) out[i]! *= scale;
  return out;
}

/** PyTorch's default bias init for Conv2d/Linear: U(±1/√fan_in), whatever the weight scheme. */
export function biasValues(size: number, fanIn: number, rng: Rng): Float32Array {
  const out = unitDraws(size, 'uniform', rng);
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < size; i++) out[i]! *= bound;
  return out;
}

/**
 * How the k×k filters are drawn (model.spatial_init): i.i.d. per weight by a scheme, or each filter
 * (its k² positions, for every input/output channel pair) from a zero-mean Gaussian with covariance
 * Σ, normalised to mean diagonal 1 and scaled to `scheme`'s per-weight variance, so a structured
 * init differs from the default in how the weights co-vary, not in their size.
 */
export type SpatialInit =
  | { kind: 'iid'; scheme: InitScheme }
  | { kind: 'gaussian'; scheme: InitScheme; covariance: number[][] };

/** Squared-exponential covariance between the k² kernel positions: exp(-d²/2ℓ²), d in pixels. */
export function smoothCovariance(k: number, lengthScale: number): number[][] {
  const pos = Array.from({ length: k * k }, (_, p) => [Math.floor(p / k), p % k] as const);
  return pos.map(([yi, xi]) =>
    pos.map(([yj, xj]) => Math.exp(-((yi - yj) ** 2 + (xi - xj) ** 2) / (2 * lengthScale ** 2))),
  );
}

/** Σ divided by its mean diagonal (the mean per-position variance becomes 1). */
export function normaliseCovariance(covariance: number[][]): number[][] {
  const meanDiagonal = covariance.reduce((a, row, i) => a + row[i]!, 0) / covariance.length;
  if (!(meanDiagonal > 0)) throw new Error('covariance has no variance on its diagonal');
  return covariance.map((row) => row.map((v) => v / meanDiagonal));
}

/**
 * A with A·Aᵀ = Σ, from the symmetric eigendecomposition (V·√Λ): unlike Cholesky it accepts the
 * near-singular Σ of smooth kernels and estimated covariances (negative round-off eigenvalues → 0).
 */
function covarianceRoot(covariance: number[][]): Matrix {
  const eig = new EigenvalueDecomposition(new Matrix(covariance), { assumeSymmetric: true });
  const root = eig.eigenvectorMatrix.clone();
  eig.realEigenvalues.forEach((lambda, j) => {
    root.mulColumn(j, Math.sqrt(Math.max(lambda, 0)));
  });
  return root;
}

/**
 * Unit draws for a [k, k, in, out] filter tensor (row-major, as tfjs): i.i.d. U(-1,1) or N(0,1) per
 * weight, or for each (in, out) pair one k×k filter ~ N(0, Σ) with Σ of mean diagonal 1. The i.i.d.
 * case consumes `rng` exactly as initValues does, so the default init is unchanged.
 */
export function spatialUnitDraws(shape: readonly number[], init: SpatialInit, rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (init.kind === 'iid') return unitDraws(size, initScale(init.scheme, { fanIn: 1, fanOut: 1 }).distribution, rng);
  const positions = shape[0]! * shape[1]!;
  if (init.covariance.length !== positions)
    throw new Error(
      `a ${init.covariance.length}×${init.covariance.length} covariance cannot draw ${shape[0]}×${shape[1]} filters`,
    );
  const pairs = size / positions; // in · out filters, each spread over `positions` rows of `pairs`
  const normals = unitDraws(size, 'normal', rng);
  const root = covarianceRoot(normaliseCovariance(init.covariance)).to2DArray();
  const out = new Float32Array(size);
  for (let p = 0; p < positions; p++) {
    for (let q = 0; q < positions; q++) {
      const a = root[p]![q]!;
      if (a === 0) continue;
      for (let j = 0; j < pairs; j++) out[p * pairs + j]! += a * normals[q * pairs + j]!;
    }
  }
  return out;
}

/** The factor turning spatialUnitDraws into a layer's weights: the scheme's scale, or its std for a Gaussian. */
export function spatialScale(init: SpatialInit, fans: Fans): number {
  const { distribution, scale } = initScale(init.scheme, fans);
  if (init.kind === 'iid') return scale;
  return distribution === 'uniform' ? scale / Math.sqrt(3) : scale; // std of U(-s, s) is s/√3
}

/**
 * Second moments (1/N)·Σ w wᵀ over the N filters of a [k, k, in, out] tensor (row-major), a k²×k²
 * matrix: the covariance about zero. About zero, not about the filters' mean, because the random
 * init is zero-mean and a filter's sign is arbitrary (the next layer can absorb it).
 */
export function filterSecondMoments(values: ArrayLike<number>, positions: number): number[][] {
  const pairs = values.length / positions;
  const m = Array.from({ length: positions }, () => new Array<number>(positions).fill(0));
  for (let p = 0; p < positions; p++) {
    for (let q = p; q < positions; q++) {
      let s = 0;
      for (let j = 0; j < pairs; j++) s += values[p * pairs + j]! * values[q * pairs + j]!;
      m[p]![q] = m[q]![p] = s / pairs;
    }
  }
  return m;
}

/** Eigenvalues of a symmetric matrix, largest first. */
export function symmetricEigenvalues(matrix: number[][]): number[] {
  return new EigenvalueDecomposition(new Matrix(matrix), { assumeSymmetric: true }).realEigenvalues.sort(
    (a, b) => b - a,
  );
}
