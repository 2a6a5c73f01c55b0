/**
 * A sweep's trials: the grid points (src/config/grid.ts) plus, with compare_to_standard, every
 * point's baselines (armsOf: the learned arm at the same E, and standard training: learned, E = 1,
 * not depthwise) — unless the grid already has that arm, in which case the grid's trial serves.
 * Each trial is one run directory; its id is its index in this list or its run id, both stable for a
 * given config. Also: where a sweep keeps its files (a trial's state is its run directory's, src/runs/state.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { armsOf, expandGrid } from '../config/grid.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { PACKAGE_ROOT } from '../provenance.js';
import { sweepFolder, writeAtomic } from '../runs/files.js';
import { experimentDir, runIdentity } from '../runs/identity.js';
import type { RunIdentity } from '../runs/records.js';

export interface Trial {
  index: number;
  /** Swept values (plus `freeze: learned` for an added comparison arm). */
  params: Record<string, unknown>;
  /** True for a learned arm added for the comparison, not a point of the grid. */
  baseline: boolean;
  config: Config;
  identity: RunIdentity;
}

export function sweepTrials(config: Config): Trial[] {
  const trials: Trial[] = [];
  const seen = new Set<string>();
  const add = (params: Record<string, unknown>, cfg: Config, baseline: boolean) => {
    const identity = runIdentity(cfg, cfg.seed);
    if (seen.has(identity.run_id)) return;
    seen.add(identity.run_id);
    trials.push({ index: trials.length, params, baseline, config: cfg, identity });
  };
  const points = expandGrid(config);
  for (const p of points) add(p.params, p.config, false);
  for (const p of points) {
    for (const arm of armsOf(p.config).slice(1)) add({ ...p.params, ...baselineParams(p.config, arm) }, arm, true); // the baselines of Δ
  }
  return trials;
}

/** The keys in which a baseline arm differs from its grid point, for the trial list. */
function baselineParams(point: Config, arm: Config): Record<string, unknown> {
  const params: Record<string, unknown> = { freeze: arm.freeze };
  for (const key of Object.keys(arm.model) as (keyof Config['model'])[]) {
    if (JSON.stringify(arm.model[key]) !== JSON.stringify(point.model[key])) params[`model.${key}`] = arm.model[key];
  }
  return params;
}

const LCCONV_BIN = join(PACKAGE_ROOT, 'bin', 'lcconv.js');

/**
 * The one command that runs a trial, for local workers and Slurm tasks alike (after `node`):
 * the config copy, the trial's index, and --resume so a restarted trial continues its checkpoint.
 */
export function trialArgs(configCopy: string, index: string): string[] {
  return [LCCONV_BIN, 'run', configCopy, '--trial', index, '--resume'];
}

/** `--trial` accepts the index in the trial list or the run id. */
export function findTrial(trials: Trial[], id: string): Trial {
  const found = /^\d+$/.test(id) ? trials[Number(id)] : trials.find((t) => t.identity.run_id === id);
  if (!found) {
    const range = trials.length === 1 ? '0' : `0..${trials.length - 1}`;
    throw new InputError(
      `--trial ${id}: no such trial (give an index ${range} or a run id; lcconv sweep <config> --dry-run lists them)`,
    );
  }
  return found;
}

/** The sweep's own folder inside the experiment folder: config copies, Slurm scripts and logs. */
export function sweepDir(config: Config): string {
  return sweepFolder(resolve(experimentDir(config)));
}

/**
 * Writes the resolved config (results_dir made absolute) to `sweep/config-<hash>.yaml` and returns
 * its path: child processes and Slurm tasks read this copy, so editing the source config later does
 * not change a sweep that is running. The hash names the content, so the copy is never rewritten.
 */
export function writeConfigCopy(config: Config, source: string | undefined): string {
  const resolved = { ...config, results_dir: resolve(config.results_dir) };
  const body = stringify(resolved);
  const file = join(sweepDir(config), `config-${createHash('sha256').update(body).digest('hex').slice(0, 8)}.yaml`);
  if (!existsSync(file))
    writeAtomic(
      file,
      `# lcconv sweep: resolved copy of ${source ?? '(built-in default)'}; trials read this file\n${body}`,
    );
  return file;
}

/** One line per trial with its state, for --dry-run and --status. */
export function formatTrials(trials: Trial[], states: Map<number, string>): string {
  const rows = trials.map((t) => [
    String(t.index),
    t.identity.run_id,
    Object.entries(t.params)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ') + (t.baseline ? ' (baseline for Δ)' : ''),
    states.get(t.index) ?? '',
  ]);
  const header = ['#', 'run id', 'parameters', 'state'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
