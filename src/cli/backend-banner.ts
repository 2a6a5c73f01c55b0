/**
 * What `run` and `bench` share about the backend: `--backend` as a config override, and choosing
 * it with the config's settings while telling the user which one and why better ones were skipped.
 */
import { BACKEND_CHOICES } from '../config/choices.js';
import type { Config } from '../config/schema.js';
import type { BackendChoice } from '../backends/index.js';

/** The `--backend` flag of run and bench: its choices listed in --help and checked by yargs. */
export const BACKEND_OPTION = {
  choices: BACKEND_CHOICES,
  describe: 'tfjs backend (= --set backend=NAME); auto takes the fastest that loads here (lcconv doctor shows which)',
} as const;

/** `--set` overrides plus `--backend NAME` as `backend=NAME`. */
export function configOverrides(args: { set: string[]; backend?: string }): string[] {
  return [...args.set, ...(args.backend ? [`backend=${args.backend}`] : [])];
}

/** Selects the config's backend (tfjs loads here, lazily) and prints the choice. */
export async function chooseBackendFor(config: Config, say: (line: string) => void): Promise<BackendChoice> {
  const { selectBackend } = await import('../backends/index.js');
  const backend = await selectBackend(config.backend, undefined, { threads: config.threads });
  say(`backend: ${backend.backend} — ${backend.device}`);
  for (const why of backend.skipped) say(`  skipped ${why}`);
  for (const note of backend.notes ?? []) say(`  ${note}`);
  return backend;
}
