/**
 * The seeded random generator everything draws from (initialisation, shuffling, augmentation,
 * splits, synthetic data): one named stream per use, so adding a draw in one place never shifts
 * another, and a seed fixes them all.
 */
import seedrandom from 'seedrandom';

export type Rng = () => number;

export function rngFor(seed: number, stream: string): Rng {
  return seedrandom(`${seed}/${stream}`);
}
