import { basename, dirname } from 'node:path';
import { createObjectCsvStringifier } from 'csv-writer';
import type { Config } from '../config/schema.js';
import { FlagError } from '../errors.js';
import { spatialConvsOf } from '../models/index.js';
import { modelSpec } from '../models/index.js';
import type { RunSummary } from '../runs/records.js';
import {
  analysisFile,
  analysisFolder,
  checkpointFolder,
  checkpointWeightBytes,
  readFinishedSummary,
  writeAtomic,
} from '../runs/files.js';
import { initialRunModel, loadRunModel, runModelSources } from '../runs/model.js';
import { datasetShape } from '../data/index.js';
import { analyzeLayers, defaultPictureLayers, runStatistics, type RunAnalysis } from './analyze.js';
import { layerWeights } from '../models/effective-filters.js';
import { within } from '../fs-safety.js';
import { eachRun, finishedRunsUnder, type SkippedRun } from '../runs/scan.js';
import { groupLabels } from '../results/groups.js';

export interface AnalyzeOptions {
  /** Layers drawn as filter pictures (default: the stem and the first conv of each stage). */
  layers?: string[];
  plots?: boolean;
  /** Where a folder's skipped runs are named as they are met. */
  say?: (line: string) => void;
}

export interface AnalyzedRun {
  summary: RunSummary;
  config: Config;
  analysis: RunAnalysis;
  out: string;
}

/** Writes rows as CSV (header from the first row's keys), whole and atomically. */
function writeCsv(file: string, rows: object[]): void {
  if (rows.length === 0) return;
  const csv = createObjectCsvStringifier({ header: Object.keys(rows[0]!).map((id) => ({ id, title: id })) });
  writeAtomic(file, csv.getHeaderString() + csv.stringifyRecords(rows as Record<string, unknown>[]));
}

/** Loads one finished run and its initial weights, computes its statistics and writes them to `out`. */
export async function analyzeRun(dir: string, out: string, options: AnalyzeOptions = {}): Promise<AnalyzedRun> {
  const summary = readFinishedSummary(dir)!;
  const loaded = await loadRunModel(dir);
  const { config } = loaded;
  const initial = initialRunModel(dir, config);
  try {
    const convs = spatialConvsOf(
      modelSpec(config, datasetShape(config.dataset), config.seed, runModelSources(dir, config)),
    );
    const names = convs.map((c) => c.name);
    const pictured = options.layers ?? defaultPictureLayers(names);
    const unknown = pictured.filter((n) => !names.includes(n));
    if (unknown.length)
      throw new FlagError(
        `--layers ${unknown.join(',')}: no such spatial layer in ${basename(dir)} (layers: ${names.join(', ')})`,
      );
    const folder = checkpointFolder(dir);
    const checkpointBytes = folder ? checkpointWeightBytes(folder) : null;
    const analysis = analyzeLayers(
      await layerWeights(loaded.model, convs),
      await layerWeights(initial, convs),
      loaded.model.counts,
      checkpointBytes,
      pictured,
    );
    writeCsv(analysisFile(out, 'layers'), analysis.layers);
    writeCsv(analysisFile(out, 'spectrum'), analysis.spectra);
    writeCsv(analysisFile(out, 'energy'), analysis.energy);
    writeCsv(analysisFile(out, 'lcWeights'), analysis.lcHistogram);
    writeCsv(analysisFile(out, 'counts'), [analysis.counts]);
    if (options.plots !== false) {
      const { writeRunPlots } = await import('./plots.js');
      await writeRunPlots(out, summary.run_id, analysis);
    }
    return { summary, config, analysis, out };
  } finally {
    loaded.model.dispose();
    initial.dispose();
  }
}

/**
 * One row per run for comparisons across a sweep: its parameters, counts and statistics. `config`
 * names the keys in which its config group differs from the others' besides freeze, k and E
 * (results/groups.ts), so that the figures draw one series per freeze mode and config.
 */
function runRow(run: AnalyzedRun, config: string): Record<string, unknown> {
  const s = run.summary;
  return {
    run: s.run_id,
    freeze: s.freeze,
    config,
    spatial_init: run.config.model.spatial_init,
    kernel_size: s.kernel_size,
    lc_expansion: s.lc_expansion,
    lc_depthwise: s.lc_depthwise,
    seed: s.seed,
    group: s.group,
    final_val_acc: s.final_val_acc,
    learnable: run.analysis.counts.learnable,
    frozen: run.analysis.counts.frozen,
    stored: run.analysis.counts.stored,
    stored_bytes: run.analysis.counts.stored_bytes,
    checkpoint_bytes: run.analysis.counts.checkpoint_bytes,
    ...runStatistics(run.analysis),
  };
}

/**
 * Analyzes a run directory or every finished run of an experiment (or sweep) folder. Writes
 * `<experiment>/analysis/<run id>/` per run and, for a folder, `analysis/runs.csv`,
 * `analysis/layers.csv` and the plots across runs. Returns the analyzed runs and the output folder.
 */
export async function analyzePath(
  path: string,
  options: AnalyzeOptions = {},
): Promise<{ runs: AnalyzedRun[]; out: string; files: string[]; skipped: SkippedRun[] }> {
  const folder = finishedRunsUnder(path, 'to analyze');
  const { single } = folder;
  const skipped = [...folder.skipped];
  for (const s of skipped) options.say?.(`skipping ${s.name}: ${s.cause}`);
  const out = analysisFolder(single ? dirname(path) : path);
  const runs = await eachRun(
    folder,
    folder.finished,
    (dir) => analyzeRun(dir, within(out, basename(dir)), options),
    skipped,
    options.say,
  );
  const files: string[] = [];
  if (!single && runs.length > 0) {
    const labels = groupLabels(new Map(runs.map((r) => [r.summary.group, r.config])));
    const rows = runs.map((r) => runRow(r, labels.get(r.summary.group) ?? ''));
    writeCsv(analysisFile(out, 'runs'), rows);
    writeCsv(
      analysisFile(out, 'layers'),
      runs.flatMap((r) => r.analysis.layers.map((l) => ({ run: r.summary.run_id, ...l }))),
    );
    files.push(analysisFile(out, 'runs'), analysisFile(out, 'layers'));
    if (options.plots !== false) {
      const { writeSweepPlots } = await import('./plots.js');
      files.push(...(await writeSweepPlots(out, rows)));
    }
  }
  return { runs, out, files, skipped };
}
