/**
 * `lcconv report <dir>`: gathers every run directory of an experiment folder (however its trials
 * were run: one process, local workers, Slurm tasks) into report.csv, report.md and plots.
 * Numbers come from compareArms: mean ± sample std of the final validation accuracy over seeds
 * (with n), Δ in percentage points vs standard training and vs the learned arm at the same E.
 */
import { basename } from 'node:path';
import { formatCount, formatMeanStd, pct } from '../format.js';
import { ERROR_FILE, experimentPaths, readMetrics, writeAtomic } from '../runs/files.js';
import { listRuns, type SkippedRun } from '../runs/scan.js';
import type { RunSummary } from '../runs/records.js';
import {
  armLabel,
  isStandardRow,
  compareArms,
  DELTA_VS_LEARNED_TITLE,
  DELTA_VS_STANDARD_TITLE,
  deltaVsLearned,
  deltaVsStandard,
  needsGroupColumn,
  writeComparisonCsv,
  type ComparisonRow,
} from './comparison.js';
import { accuracyName, groupLabels } from './groups.js';
import type { CurvePoint, DeltaPoint, RunKeys, RunPoint } from './plots.js';

export interface Report {
  rows: ComparisonRow[];
  runs: RunSummary[];
  failed: { run: string; message: string }[];
  /** Runs whose files are damaged (summary, metrics or config.yaml), by name and cause: left out. */
  damaged: SkippedRun[];
  unfinished: string[];
  /** 'test accuracy' or 'validation accuracy' (dataset.val_split), for table headers and axes. */
  accuracy: string;
  files: string[];
}

/** Every run directory of an experiment folder, read once: what comparison.csv and report.* show. */
interface Gathered {
  runs: RunSummary[];
  /** Each finished run's directory, by run id. */
  dirs: Map<string, string>;
  /** Resolved config of each finished run (its config.yaml), by run id; absent for very old runs. */
  configs: Map<string, Record<string, unknown>>;
  failed: Report['failed'];
  damaged: SkippedRun[];
  unfinished: string[];
}

function gather(dir: string): Gathered {
  const gathered: Gathered = { runs: [], dirs: new Map(), configs: new Map(), failed: [], damaged: [], unfinished: [] };
  for (const run of listRuns(dir)) {
    if (run.damage) {
      gathered.damaged.push({ name: run.name, cause: run.damage }); // reported by name; the others go on
    } else if (run.summary) {
      gathered.runs.push(run.summary);
      gathered.dirs.set(run.summary.run_id, run.dir);
      if (run.config) gathered.configs.set(run.summary.run_id, run.config);
    } else if (run.error) {
      gathered.failed.push({ run: run.name, message: run.error.message });
    } else if (run.state !== 'pending') {
      gathered.unfinished.push(run.name);
    }
  }
  return gathered;
}

/** Arms of every finished run in the folder, groups named by their differing keys (groupLabels). */
function compareGathered(g: Gathered): { rows: ComparisonRow[]; labels: Map<string, string>; accuracy: string } {
  const groupConfigs = new Map<string, unknown>();
  for (const r of g.runs)
    if (!groupConfigs.has(r.group) || groupConfigs.get(r.group) === undefined)
      groupConfigs.set(r.group, g.configs.get(r.run_id));
  const labels = groupLabels(groupConfigs);
  const valSplits = [...g.configs.values()].map((c) =>
    Number((c.dataset as { val_split?: number } | undefined)?.val_split ?? 0),
  );
  return { rows: compareArms(g.runs, labels), labels, accuracy: accuracyName(valSplits) };
}

/**
 * comparison.csv of an experiment folder: every arm run there (this invocation's and earlier ones),
 * so the file never forgets arms run before. Returns what it wrote, for the terminal table.
 */
export function writeFolderComparison(dir: string, file: string): { rows: ComparisonRow[]; accuracy: string } {
  const { rows, accuracy } = compareGathered(gather(dir));
  writeComparisonCsv(file, rows);
  return { rows, accuracy };
}

function reportMarkdown(title: string, report: Omit<Report, 'files'>, plots: string[]): string {
  const withGroup = needsGroupColumn(report.rows);
  const acc = report.accuracy;
  const lines = [
    `# ${title}`,
    '',
    `${report.runs.length} finished runs. Accuracy: final ${acc}, mean ± sample std over seeds (n seeds; no std for one seed). ` +
      'Δ vs standard: difference of the mean from standard training (learned k×k filters, E = 1, no depthwise LC block, same architecture, width, k, data and schedule); ' +
      'Δ vs learned same E: from the learned arm of the same config (differing only in freeze mode and seed). Both in percentage points with a 95% confidence interval over seeds ' +
      '(paired t-interval on per-seed differences when both arms ran the same seeds, Welch otherwise, none with one seed); n/a where the baseline has no finished run.' +
      (withGroup
        ? " config: the settings in which this row's runs differ from the other rows' (besides freeze, k and E)."
        : ''),
    '',
    `|${withGroup ? ' config |' : ''} freeze | k | E | ${acc} % (mean ± std) | n | best ${acc} % (mean) | ${DELTA_VS_STANDARD_TITLE} | ${DELTA_VS_LEARNED_TITLE} | learnable weights | stored weights |`,
    `|${withGroup ? '---|' : ''}---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...report.rows.map(
      (r) =>
        `|${withGroup ? ` ${r.group} |` : ''} ${armLabel(r)} | ${r.kernel_size} | ${r.lc_expansion} | ${formatMeanStd(r.val_acc_mean, r.val_acc_std)} | ${r.n} | ${pct(r.best_val_acc_mean)} | ` +
        `${deltaVsStandard(r)} | ${deltaVsLearned(r)} | ${formatCount(r.learnable_params)} | ${formatCount(r.stored_weights)} |`,
    ),
  ];
  if (plots.length)
    lines.push('', '## Plots', '', ...plots.map((p) => `![${p.replace(/_/g, ' ').replace('.svg', '')}](${p})\n`));
  if (report.failed.length)
    lines.push(
      '',
      '## Failed trials',
      '',
      ...report.failed.map((f) => `- \`${f.run}\`: ${f.message} (see ${f.run}/${ERROR_FILE})`),
    );
  if (report.damaged.length)
    lines.push('', '## Damaged runs (left out)', '', ...report.damaged.map((d) => `- \`${d.name}\`: ${d.cause}`));
  if (report.unfinished.length)
    lines.push('', '## Unfinished trials', '', ...report.unfinished.map((u) => `- \`${u}\``));
  return `${lines.join('\n')}\n`;
}

/**
 * The Δ plots' points: the table's own rows (every arm with a standard-training baseline, including
 * an arm whose config group has no learned run, such as a non-default k×k init), with the table's Δ
 * and 95 % CI; arms without a baseline are named instead.
 */
export function deltaPlotPoints(
  rows: ComparisonRow[],
  runs: RunSummary[],
  labels: Map<string, string>,
): { points: DeltaPoint[]; missing: string[] } {
  const chanceOf = new Map(runs.map((r) => [labels.get(r.group) ?? '', r.classes ? 100 / r.classes : null]));
  const points = rows
    .filter((r) => r.delta_vs_standard !== null && !isStandardRow(r))
    .map((r): DeltaPoint => {
      const chance = chanceOf.get(r.group) ?? null;
      const standardMean = 100 * r.val_acc_mean - r.delta_vs_standard!;
      return {
        arm: armLabel(r),
        freeze: r.freeze,
        kernel_size: r.kernel_size,
        lc_expansion: r.lc_expansion,
        group: r.group,
        n: r.n,
        delta: r.delta_vs_standard!,
        low: r.delta_vs_standard_ci95_low,
        high: r.delta_vs_standard_ci95_high,
        chance_delta: chance === null ? null : chance - standardMean,
      };
    });
  const missing = rows
    .filter((r) => r.delta_vs_standard === null)
    .map((r) => `${armLabel(r)} k${r.kernel_size} E${r.lc_expansion}${r.group ? ` (${r.group})` : ''}`);
  return { points, missing };
}

/** Reads every run directory under `dir` and writes report.csv, report.md and the plots there. */
export async function writeReport(dir: string, options: { plots?: boolean } = {}): Promise<Report> {
  const g = gather(dir);
  const { failed, damaged, unfinished, runs } = g;
  if (runs.length === 0) return { rows: [], runs, failed, damaged, unfinished, accuracy: 'test accuracy', files: [] };
  const { rows, labels, accuracy } = compareGathered(g);
  const runDirs = runs.map((summary) => ({ dir: g.dirs.get(summary.run_id)!, summary })); // for the robustness section
  const paths = experimentPaths(dir);
  const files = [paths.reportCsv, paths.reportMd];
  writeComparisonCsv(files[0]!, rows);
  let plots: string[] = [];
  if (options.plots !== false) {
    const { writePlots } = await import('./plots.js');
    const keys = (r: (typeof runs)[number]): RunKeys => ({
      run: r.run_id,
      freeze: r.freeze,
      kernel_size: r.kernel_size,
      lc_expansion: r.lc_expansion,
      group: labels.get(r.group) ?? '',
    });
    const points: RunPoint[] = runs.map((r) => ({
      ...keys(r),
      seed: r.seed,
      val_acc: 100 * r.final_val_acc,
      chance: r.classes ? 100 / r.classes : null,
    }));
    const curves: CurvePoint[] = runs.flatMap((r) =>
      readMetrics(g.dirs.get(r.run_id)!).flatMap((p) =>
        p.val_acc === null
          ? []
          : [
              {
                // epochs without evaluation have no point
                ...keys(r),
                epoch: p.epoch,
                val_acc: 100 * p.val_acc,
                train_acc: 100 * p.train_acc,
              },
            ],
      ),
    );
    const deltas = deltaPlotPoints(rows, runs, labels);
    plots = await writePlots(dir, points, curves, accuracy, deltas);
    files.push(...plots);
  }
  const { writeRobustness } = await import('./robustness.js');
  const robustness = await writeRobustness(dir, runDirs, { ...options, labels });
  files.push(...(robustness?.files ?? []));
  const title = `Report: ${basename(dir)}`;
  writeAtomic(
    files[1]!,
    reportMarkdown(
      title,
      { rows, runs, failed, damaged, unfinished, accuracy },
      plots.map((p) => basename(p)),
    ) + (robustness ? `\n${robustness.markdown}\n` : ''),
  );
  return { rows, runs, failed, damaged, unfinished, accuracy, files };
}
