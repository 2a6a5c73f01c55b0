/**
 * `lcconv report <dir>`: gathers every run directory of an experiment folder (however its trials
 * were run: one process, local workers, Slurm tasks) into report.csv, report.md and plots.
 * Numbers come from compareArms: mean ± sample std of the final validation accuracy over seeds
 * (with n), Δ in percentage points vs standard training and vs the learned arm at the same E.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatCount, pct } from '../format.js';
import { ERROR_FILE, hasStarted, readMetrics, writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';
import { runState } from '../runs/state.js';
import { compareArms, DELTA_VS_LEARNED_TITLE, DELTA_VS_STANDARD_TITLE, deltaVsLearned, deltaVsStandard, needsGroupColumn, writeComparisonCsv, type ComparisonRow } from './comparison.js';
import type { CurvePoint, RunPoint } from './plots.js';

export interface Report {
  rows: ComparisonRow[];
  runs: RunSummary[];
  failed: { run: string; message: string }[];
  unfinished: string[];
  files: string[];
}

function reportMarkdown(title: string, report: Omit<Report, 'files'>, plots: string[]): string {
  const withGroup = needsGroupColumn(report.rows);
  const lines = [
    `# ${title}`,
    '',
    `${report.runs.length} finished runs. Accuracy: final validation accuracy, mean ± sample std over seeds (n seeds). ` +
      'Δ vs standard: difference of the mean from standard training (learned k×k filters, E = 1, no depthwise LC block, same architecture, width, k, data and schedule); ' +
      'Δ vs learned same E: from the learned arm of the same config (differing only in freeze mode and seed). Both in percentage points with a 95% confidence interval over seeds ' +
      '(paired t-interval on per-seed differences when both arms ran the same seeds, Welch otherwise, none with one seed); n/a where the baseline has no finished run.' +
        (withGroup ? ' config: the hash of the settings other than freeze and seed, shown because some rows share freeze, k and E.' : ''),
    '',
    `|${withGroup ? ' config |' : ''} freeze | k | E | val acc % (mean ± std) | n | best val acc % (mean) | ${DELTA_VS_STANDARD_TITLE} | ${DELTA_VS_LEARNED_TITLE} | learnable weights | stored weights |`,
    `|${withGroup ? '---|' : ''}---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...report.rows.map((r) =>
      `|${withGroup ? ` ${r.group} |` : ''} ${r.freeze}${r.lc_depthwise ? ' (dw)' : ''} | ${r.kernel_size} | ${r.lc_expansion} | ${pct(r.val_acc_mean)} ± ${pct(r.val_acc_std)} | ${r.n} | ${pct(r.best_val_acc_mean)} | ` +
        `${deltaVsStandard(r)} | ${deltaVsLearned(r)} | ${formatCount(r.learnable_params)} | ${formatCount(r.stored_weights)} |`,
    ),
  ];
  if (plots.length) lines.push('', '## Plots', '', ...plots.map((p) => `![${p.replace(/_/g, ' ').replace('.svg', '')}](${p})\n`));
  if (report.failed.length) lines.push('', '## Failed trials', '', ...report.failed.map((f) => `- \`${f.run}\`: ${f.message} (see ${f.run}/${ERROR_FILE})`));
  if (report.unfinished.length) lines.push('', '## Unfinished trials', '', ...report.unfinished.map((u) => `- \`${u}\``));
  return `${lines.join('\n')}\n`;
}

/** Reads every run directory under `dir` and writes report.csv, report.md and the plots there. */
export async function writeReport(dir: string, options: { plots?: boolean } = {}): Promise<Report> {
  const runs: RunSummary[] = [];
  const failed: Report['failed'] = [];
  const unfinished: string[] = [];
  const curves: CurvePoint[] = [];
  const entries = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'sweep').map((e) => e.name).sort() : [];
  for (const name of entries) {
    const runDir = join(dir, name);
    const { summary, error, damage } = runState(runDir);
    if (damage) {
      failed.push({ run: name, message: `damaged: ${damage}` }); // reported by name; the others go on
    } else if (summary) {
      runs.push(summary);
      for (const p of readMetrics(runDir)) {
        if (p.val_acc === null) continue; // an epoch without evaluation
        curves.push({ run: summary.run_id, freeze: summary.freeze, kernel_size: summary.kernel_size, lc_expansion: summary.lc_expansion, epoch: p.epoch, val_acc: 100 * p.val_acc, train_acc: 100 * p.train_acc });
      }
    } else if (error) {
      failed.push({ run: name, message: error.message });
    } else if (hasStarted(runDir)) {
      unfinished.push(name);
    }
  }
  if (runs.length === 0) return { rows: [], runs, failed, unfinished, files: [] };
  const rows = compareArms(runs);
  const files = [join(dir, 'report.csv'), join(dir, 'report.md')];
  writeComparisonCsv(files[0]!, rows);
  let plots: string[] = [];
  if (options.plots !== false) {
    const { writePlots } = await import('./plots.js');
    const points: RunPoint[] = runs.map((r) => ({ freeze: r.freeze, kernel_size: r.kernel_size, lc_expansion: r.lc_expansion, seed: r.seed, val_acc: 100 * r.final_val_acc }));
    plots = await writePlots(dir, points, curves);
    files.push(...plots);
  }
  const title = `Report: ${basename(dir)}`;
  writeAtomic(files[1]!, reportMarkdown(title, { rows, runs, failed, unfinished }, plots.map((p) => basename(p))));
  return { rows, runs, failed, unfinished, files };
}
