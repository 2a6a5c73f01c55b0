/**
 * A finished run for `lcconv eval` and `lcconv export`: its summary and config (with `eval.*`
 * overrides from the command line) and, through src/runs/ (the run directory's owner), its trained
 * model. Every problem — not finished, no or corrupt checkpoint, frozen-filter digest mismatch — is
 * one InputError naming the run directory, raised before anything is written.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Model } from '../models/index.js';
import { CONFIG_FILE, DamagedFile, readFinishedSummary, runPaths } from '../runs/files.js';
import { readRunConfig } from '../runs/config.js';
import { loadRunModel } from '../runs/model.js';
import type { RunSummary } from '../runs/records.js';

export interface FinishedRun {
  dir: string;
  config: Config;
  summary: RunSummary;
}

/** The config and summary of a finished run; `overrides` are `--set` style (e.g. eval.steps=20). */
export function readFinishedRun(dir: string, overrides: string[] = []): FinishedRun {
  if (!existsSync(runPaths(dir).config)) throw new InputError(`${dir}: not a run directory (no ${CONFIG_FILE})`);
  let summary: RunSummary | null;
  try {
    summary = readFinishedSummary(dir);
  } catch (err) {
    // Says what is wrong: not JSON, or which fields are missing ("damaged (no valid seed, …)").
    if (err instanceof DamagedFile) throw new InputError(err.message);
    throw err;
  }
  if (!summary)
    throw new InputError(
      `${dir}: the run has not finished (no finished summary.json); finish it with lcconv run --resume`,
    );
  return { dir, config: readRunConfig(dir, overrides), summary };
}

/** The run's trained model at its final epoch; the caller disposes it. */
export async function loadFinishedModel(run: FinishedRun): Promise<Model> {
  let loaded: Awaited<ReturnType<typeof loadRunModel>>;
  try {
    loaded = await loadRunModel(run.dir);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${run.dir}: cannot load the checkpoint: ${(err as Error).message.split('\n')[0]}`);
  }
  if (loaded.state.epoch !== run.summary.epochs) {
    loaded.model.dispose();
    throw new InputError(
      `${run.dir}: the checkpoint is of epoch ${loaded.state.epoch}, the run finished at epoch ${run.summary.epochs}`,
    );
  }
  // eval, export and analyze rebuild the network from the run's copy of its model script; when the
  // file model.arch names has changed since, the user should know that the copy is what they get.
  if (loaded.modelScriptNote) process.stderr.write(`lcconv: ${loaded.modelScriptNote}\n`);
  return loaded.model;
}
