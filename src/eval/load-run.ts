/**
 * Reloads a finished run from its directory: the resolved config (config.yaml), the model rebuilt
 * from it and the run seed (frozen and shared filters regenerated), the final checkpoint's weights
 * and BatchNorm running statistics, the frozen-filter digest checked. Every problem is an InputError
 * naming the run directory, raised before anything is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { buildModel, type Model } from '../models/index.js';
import type { RunSummary } from '../results/records.js';
import { CONFIG_FILE, readFinishedSummary } from '../results/run-dir.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { Sgd } from '../train/sgd.js';

export interface FinishedRun {
  dir: string;
  config: Config;
  summary: RunSummary;
}

/** The config and summary of a finished run; `overrides` are `--set` style (e.g. eval.steps=20). */
export function readFinishedRun(dir: string, overrides: string[] = []): FinishedRun {
  const configFile = join(dir, CONFIG_FILE);
  if (!existsSync(configFile)) throw new InputError(`${dir}: not a run directory (no ${CONFIG_FILE})`);
  let summary: RunSummary | null;
  try {
    summary = readFinishedSummary(dir);
  } catch {
    throw new InputError(`${dir}: summary.json is not valid JSON`);
  }
  if (!summary) throw new InputError(`${dir}: the run has not finished (no finished summary.json); finish it with lcconv run --resume`);
  return { dir, config: loadConfigFile(configFile, overrides).config, summary };
}

/** Builds the run's model and loads its final weights; the caller disposes it. */
export async function loadRunModel(run: FinishedRun, data: { channels: number; classes: number }): Promise<Model> {
  const model = buildModel(run.config, data, run.config.seed);
  const optimizer = new Sgd({ momentum: 0, nesterov: false, weightDecay: 0 });
  try {
    const state = loadCheckpoint(run.dir, model, optimizer);
    if (!state) throw new InputError(`${run.dir}: no checkpoint (checkpoint/checkpoint.json and weights.bin) to load the trained weights from`);
    if (state.epoch !== run.summary.epochs) throw new InputError(`${run.dir}: checkpoint is of epoch ${state.epoch}, the run finished at epoch ${run.summary.epochs}`);
    return model;
  } catch (err) {
    model.dispose();
    if (err instanceof InputError) throw err;
    throw new InputError(`${run.dir}: cannot load the checkpoint: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    optimizer.dispose();
  }
}
