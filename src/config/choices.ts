/**
 * Config values the command-line help shows (flag choices, defaults). They live apart from the
 * schema so that `--help` and other non-computing commands never load zod (about 200 modules).
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'cpu-native', 'webgpu', 'wasm', 'cpu'] as const;

/** The largest sweep grid accepted unless `sweep.max_trials` / `--max-trials` raises it. */
export const DEFAULT_MAX_TRIALS = 10_000;
