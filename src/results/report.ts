/**
 * `lcconv report <dir>`: gathers every run directory of an experiment folder (however its trials
 * were run: one process, local workers, Slurm tasks) into report.csv, report.md and plots.
 * Numbers come from compareArms: mean ± sample std of the final validation accuracy over seeds
 * (with n), Δ in percentage points vs standard training and vs the learned arm at the same E.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compareArms, DELTA_VS_LEARNED_TITLE, DELTA_VS_STANDARD_TITLE, deltaVsLearned, deltaVsStandard, needsGroupColumn, writeComparisonCsv, type ComparisonRow } from './comparison.js';
import type { CurvePoint, RunPoint } from './plots.js';
import type { RunSummary } from './records.js';
import { CONFIG_FILE, ERROR_FILE, METRICS_FILE, readFinishedSummary, readTrialError, writeAtomic } from './run-dir.js';

export interface Report {
  rows: ComparisonRow[];
  runs: RunSummary[];
  failed: { run: string; message: string }[];
  unfinished: string[];
  files: string[];
}

/** The evaluated epochs of a metrics.csv (rows with an empty val_acc are skipped). */
function readCurve(dir: string): { epoch: number; val_acc: number; train_acc: number }[] {
  const file = join(dir, METRICS_FILE);
  if (!existsSync(file)) return [];
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const at = (cells: string[], name: string) => cells[cols.indexOf(name)] ?? '';
  return lines
    .map((l) => l.split(','))
    .filter((c) => at(c, 'val_acc') !== '')
    .map((c) => ({ epoch: Number(at(c, 'epoch')), val_acc: Number(at(c, 'val_acc')), train_acc: Number(at(c, 'train_acc')) }));
}

const pct = (v: number) => (100 * v).toFixed(2);

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
        `${deltaVsStandard(r)} | ${deltaVsLearned(r)} | ${r.learnable_params.toLocaleString('en-US')} | ${r.stored_weights.toLocaleString('en-US')} |`,
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
    const summary = readFinishedSummary(runDir);
    const error = summary ? null : readTrialError(runDir);
    if (summary) {
      runs.push(summary);
      for (const p of readCurve(runDir)) {
        curves.push({ run: summary.runId, freeze: summary.freeze, kernel_size: summary.kernelSize, lc_expansion: summary.lcExpansion, epoch: p.epoch, val_acc: 100 * p.val_acc, train_acc: 100 * p.train_acc });
      }
    } else if (error) {
      failed.push({ run: name, message: error.message });
    } else if (existsSync(join(runDir, METRICS_FILE)) || existsSync(join(runDir, CONFIG_FILE))) {
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
    const points: RunPoint[] = runs.map((r) => ({ freeze: r.freeze, kernel_size: r.kernelSize, lc_expansion: r.lcExpansion, seed: r.seed, val_acc: 100 * r.final_val_acc }));
    plots = await writePlots(dir, points, curves);
    files.push(...plots);
  }
  const title = `Report: ${basename(dir)}`;
  writeAtomic(files[1]!, reportMarkdown(title, { rows, runs, failed, unfinished }, plots.map((p) => basename(p))));
  return { rows, runs, failed, unfinished, files };
}
