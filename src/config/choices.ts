/**
 * Config values the command-line help shows as flag choices (the defaults and descriptions of
 * config-key flags are in src/config/flag-table.ts, generated from the schema). They live apart from the
 * schema so that `--help` and other non-computing commands never load zod (about 200 modules).
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'cpu-native', 'webgpu', 'wasm', 'cpu'] as const;
