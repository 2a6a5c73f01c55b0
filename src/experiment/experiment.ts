/**
 * An experiment = the configured arm for every seed, plus (with compare_to_standard) the learned
 * arm of the same config. Finished runs are reused, not retrained. Returns the run summaries and
 * the comparison with standard training; the caller prints.
 */
import { existsSync } from 'node:fs';
import { armsOf, seedsOf } from '../config/grid.js';
import type { Config } from '../config/schema.js';
import { changedSplits } from '../data/image-folder.js';
import { loadDataset, type Dataset } from '../data/index.js';
import { gitCommit, versions } from '../provenance.js';
import type { ComparisonRow } from '../results/comparison.js';
import { writeFolderComparison } from '../results/report.js';
import { experimentPaths, runPaths } from '../runs/files.js';
import { experimentDir } from '../runs/identity.js';
import { checkUnfinished, isFinishedRun, withRun } from '../runs/lifecycle.js';
import { checkSpatialInitSource, plannedModelSources, resolveSpatialInit, resolveUserModel } from '../runs/model.js';
import type { RunIdentity, RunSink, RunSummary } from '../runs/records.js';
import type { Trial } from '../sweep/trials.js';
import { checkTrainable, RunInterrupted, trainRun } from '../train/trainer.js';

export interface ExperimentOptions {
  backend: { backend: string; device: string; skipped?: string[] };
  /** Extra sinks per run (console progress, …). */
  sinksFor?: (identity: RunIdentity) => RunSink[];
  log?: (line: string) => void;
  configFile?: string;
  /** Retrain runs that already finished. */
  force?: boolean;
  /** Continue unfinished runs from their last checkpoint instead of restarting them. */
  resume?: boolean;
  /** Stops training at the next step (Ctrl-C); see trainRun. */
  signal?: AbortSignal;
  /**
   * Runs a dataset load, which is synchronous and writes nothing (src/cli/interrupt.ts: `atOnce`,
   * so that a Ctrl-C during a long load ends the command at once instead of after it).
   */
  loading?: <T>(load: () => T) => Promise<T>;
}

/** The dataset of `config` for `seed`, loaded under the caller's interrupt policy for loads. */
function load(config: Config, seed: number, options: ExperimentOptions): Promise<Dataset> {
  const read = () => loadDataset(config.dataset, seed);
  return options.loading ? options.loading(read) : Promise.resolve(read());
}

export interface ExperimentResult {
  runs: RunSummary[];
  comparison: ComparisonRow[];
  comparisonFile: string;
  /** 'test accuracy' or 'validation accuracy', for the table header. */
  accuracy: string;
}

/**
 * Reuses a finished run (unless --force), else trains it (resuming its checkpoint with --resume),
 * holding the run's lock; then runs `eval.after_training` where configured.
 */
function trainOrReuse(
  arm: Config,
  seed: number,
  data: () => Promise<Dataset>,
  commit: string | null,
  options: ExperimentOptions,
  trial = false,
): Promise<RunSummary> {
  const policy = {
    force: options.force,
    resume: options.resume,
    configFile: options.configFile,
    gitCommit: commit,
    log: options.log,
    trial,
    isInterruption: (err: unknown) => err instanceof RunInterrupted,
  };
  return withRun(arm, seed, policy, async (run) => {
    const { identity } = run;
    if (run.finished) {
      options.log?.(`${identity.run_id}: already finished (${identity.dir}), reusing its results; --force retrains`);
      if (arm.dataset.name === 'image_folder') {
        const changed = changedSplits(arm.dataset, run.finished.dataset_source);
        if (changed.length)
          options.log?.(
            `${identity.run_id}: its class-folder data changed since it trained (${changed.join(', ')}); these results are of the earlier images: --force retrains on the current tree`,
          );
      }
      if (arm.eval.after_training && !existsSync(runPaths(identity.dir).eval))
        await evaluateFinished(identity.dir, await data(), options);
      return run.finished;
    }
    const summary = await trainRun({
      config: arm,
      data: await data(),
      sources: {
        spatialCovariance: await resolveSpatialInit(arm, identity.dir),
        userModel: resolveUserModel(arm, identity.dir, options.log),
      },
      identity,
      sinks: [run.recorder, run.tensorboard, ...(options.sinksFor?.(identity) ?? [])],
      checkpoints: run.recorder,
      backend: options.backend,
      versions: versions(),
      gitCommit: commit,
      signal: options.signal,
    })
      .catch((err: unknown) => {
        // An interrupted run resumes later: its TensorBoard session stays open, not failed.
        if (!(err instanceof RunInterrupted)) run.tensorboard.failed();
        throw err;
      })
      .finally(() => run.tensorboard.close());
    if (arm.eval.after_training) await evaluateFinished(identity.dir, await data(), options);
    return summary;
  });
}

/** `eval.after_training`: the robustness evaluation of `lcconv eval`, on the run just finished. */
async function evaluateFinished(dir: string, data: Dataset, options: ExperimentOptions): Promise<void> {
  const { evaluateRun, formatEvaluation } = await import('../eval/run-eval.js');
  const { readFinishedRun } = await import('../eval/load-run.js');
  options.log?.(`${dir}: evaluating (eval.after_training)`);
  options.log?.(formatEvaluation(await evaluateRun(readFinishedRun(dir), { data })));
}

/**
 * One trial of a sweep, as `lcconv run <config> --trial <id>` runs it (locally or as a Slurm task).
 * Like any run it holds its directory's lock and leaves `error.json` on failure, so the sweep's
 * status and report can tell.
 */
export function runTrial(trial: Trial, options: ExperimentOptions): Promise<RunSummary> {
  // Unlike `lcconv run`, a trial that cannot train is refused inside its run directory: its
  // error.json is how the sweep's status and report name the cause.
  const { config } = trial;
  return trainOrReuse(config, config.seed, () => load(config, config.seed, options), gitCommit(), options, true);
}

export async function runExperiment(config: Config, options: ExperimentOptions): Promise<ExperimentResult> {
  const commit = gitCommit();
  const runs: RunSummary[] = [];
  // Real datasets do not depend on the seed: load once. The synthetic set is generated per seed.
  const cache = new Map<string, Dataset>();
  const dataFor = async (seed: number) => {
    const key = config.dataset.name === 'synthetic' ? `synthetic/${seed}` : config.dataset.name;
    if (!cache.has(key)) cache.set(key, await load(config, seed, options));
    return cache.get(key)!;
  };

  // Every check that can refuse runs before the first run directory is made, so a refusal writes
  // nothing: a run that would restart over its own checkpoint, missing data, a config that cannot
  // train on it, a from_run source that cannot serve. Finished runs that are reused need none.
  for (const seed of seedsOf(config))
    for (const arm of armsOf(config)) {
      checkUnfinished(arm, seed, options);
      if (!options.force && isFinishedRun(arm, seed)) continue;
      checkTrainable(arm, await dataFor(seed), plannedModelSources(arm, seed));
      checkSpatialInitSource(arm);
    }
  for (const seed of seedsOf(config)) {
    for (const arm of armsOf(config)) runs.push(await trainOrReuse(arm, seed, () => dataFor(seed), commit, options));
  }

  // Every arm in the experiment folder, not only this invocation's: earlier runs stay in the file.
  const comparisonFile = experimentPaths(experimentDir(config)).comparison;
  const { rows: comparison, accuracy } = writeFolderComparison(experimentDir(config), comparisonFile);
  return { runs, comparison, comparisonFile, accuracy };
}
