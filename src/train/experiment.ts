/**
 * An experiment = the configured arm for every seed, plus (with compare_to_standard) the learned
 * arm of the same config. Finished runs are reused, not retrained. Returns the run summaries and
 * the comparison with standard training; the caller prints.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { loadDataset, type Dataset } from '../data/index.js';
import { gitCommit, versions } from '../provenance.js';
import { compareArms, writeComparisonCsv, type ComparisonRow } from '../results/comparison.js';
import type { RunIdentity, RunSink, RunSummary } from '../results/records.js';
import { RunRecorder } from '../results/recorder.js';
import { experimentDir, readFinishedSummary, runIdentity } from '../results/run-dir.js';
import { trainRun } from './trainer.js';

export interface ExperimentOptions {
  backend: { backend: string; device: string; skipped?: string[] };
  /** Extra sinks per run (console progress, …). */
  sinksFor?: (identity: RunIdentity) => RunSink[];
  log?: (line: string) => void;
  configFile?: string;
  /** Retrain runs that already finished. */
  force?: boolean;
}

export interface ExperimentResult {
  runs: RunSummary[];
  comparison: ComparisonRow[];
  comparisonFile: string;
}

/** The arms an experiment trains: its own freeze mode, then standard training if asked for. */
export function armsOf(config: Config): Config[] {
  const arms = [config];
  if (config.compare_to_standard && config.freeze !== 'learned') arms.push({ ...config, freeze: 'learned' });
  return arms;
}

export function seedsOf(config: Config): number[] {
  return config.seeds ?? [config.seed];
}

export async function runExperiment(config: Config, options: ExperimentOptions): Promise<ExperimentResult> {
  const log = options.log ?? (() => {});
  const commit = gitCommit();
  const runs: RunSummary[] = [];
  // Real datasets do not depend on the seed: load once. The synthetic set is generated per seed.
  const cache = new Map<string, Dataset>();
  const dataFor = (seed: number) => {
    const key = config.dataset.name === 'synthetic' ? `synthetic/${seed}` : config.dataset.name;
    if (!cache.has(key)) cache.set(key, loadDataset(config.dataset, seed));
    return cache.get(key)!;
  };

  for (const seed of seedsOf(config)) {
    for (const arm of armsOf(config)) {
      const identity = runIdentity(arm, seed);
      const finished = options.force ? null : readFinishedSummary(identity.dir);
      if (finished) {
        log(`${identity.runId}: already finished (${identity.dir}), reusing its results; --force retrains`);
        runs.push(finished);
        continue;
      }
      const data = dataFor(seed);
      const sinks = [new RunRecorder(arm, { configFile: options.configFile, gitCommit: commit }), ...(options.sinksFor?.(identity) ?? [])];
      runs.push(await trainRun({ config: arm, data, identity, sinks, backend: options.backend, versions: versions(), gitCommit: commit }));
    }
  }

  const comparison = compareArms(runs);
  const comparisonFile = join(experimentDir(config), 'comparison.csv');
  writeComparisonCsv(comparisonFile, comparison);
  return { runs, comparison, comparisonFile };
}
