/**
 * Seed statistics of the comparison: mean ± sample std, and the difference of two arms' mean
 * accuracies with a 95 % confidence interval. Paired by seed (t-interval on the per-seed differences)
 * when both arms ran exactly the same seeds, as a seed fixes the data order and augmentation both
 * arms see; Welch's unequal-variance interval otherwise; no interval when either arm has one seed.
 */
import jstat from 'jstat';

export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** One arm's per-seed values (seed → value). */
export type SeedValues = Map<number, number>;

export interface Difference {
  /** mean(a) − mean(b). */
  delta: number;
  /** 95 % interval of the difference; null when either arm has a single seed. */
  ci95: [number, number] | null;
  method: 'paired' | 'welch' | null;
}

/** Two-sided 97.5 % quantile of Student's t. */
const t975 = (dof: number) => jstat.studentt.inv(0.975, dof);

const sameSeeds = (a: SeedValues, b: SeedValues) => a.size === b.size && [...a.keys()].every((s) => b.has(s));

/** mean(a) − mean(b) with its 95 % confidence interval (see the module comment for the method). */
export function difference(a: SeedValues, b: SeedValues): Difference {
  const sa = meanStd([...a.values()]);
  const sb = meanStd([...b.values()]);
  const delta = sa.mean - sb.mean;
  if (sa.n < 2 || sb.n < 2) return { delta, ci95: null, method: null };
  if (sameSeeds(a, b)) {
    const d = meanStd([...a.keys()].map((s) => a.get(s)! - b.get(s)!));
    const half = (t975(d.n - 1) * d.std) / Math.sqrt(d.n);
    return { delta, ci95: [delta - half, delta + half], method: 'paired' };
  }
  const va = sa.std ** 2 / sa.n;
  const vb = sb.std ** 2 / sb.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { delta, ci95: [delta, delta], method: 'welch' };
  const dof = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1)); // Welch–Satterthwaite
  const half = t975(dof) * se;
  return { delta, ci95: [delta - half, delta + half], method: 'welch' };
}
