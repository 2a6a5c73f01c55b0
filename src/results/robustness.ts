/**
 * The report's robustness part: every run's eval.csv (lcconv eval) aggregated per arm exactly as
 * clean accuracy is (compareArms: mean ± std over seeds, Δ vs the learned arm of the same config),
 * one evaluation at a time — robustness.csv, a markdown table and two plots (accuracy vs ε per
 * attack, mean corruption accuracy). Runs without eval.csv are left out of it.
 */
import { createObjectCsvStringifier } from 'csv-writer';
import { join } from 'node:path';
import { readEvalCsv, formatEpsilon, type EvalRow } from '../eval/records.js';
import { pct, signedPp } from '../format.js';
import { writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';
import { compareArms, type ComparisonRow } from './comparison.js';

/** One evaluation of one arm. */
export interface RobustnessRow {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  group: string;
  metric: EvalRow['metric'];
  name: string;
  epsilon: number | null;
  severity: number | null;
  n: number; // seeds
  accuracy_mean: number;
  accuracy_std: number | null;
  delta_vs_standard: number | null; // percentage points
}

const COLUMNS: (keyof RobustnessRow)[] = [
  'freeze',
  'kernel_size',
  'lc_expansion',
  'lc_depthwise',
  'group',
  'metric',
  'name',
  'epsilon',
  'severity',
  'n',
  'accuracy_mean',
  'accuracy_std',
  'delta_vs_standard',
];

type Evaluation = Pick<EvalRow, 'metric' | 'name' | 'epsilon' | 'severity'>;
const keyOf = (e: Evaluation) => `${e.metric}|${e.name}|${e.epsilon ?? ''}|${e.severity ?? ''}`;

/** A run's rows plus, per kind of corruption rows, their mean (the usual summary of CIFAR-C). */
function withMeans(rows: EvalRow[]): EvalRow[] {
  const out = [...rows];
  for (const metric of ['corruption', 'cifar-c'] as const) {
    const c = rows.filter((r) => r.metric === metric);
    if (c.length)
      out.push({ ...c[0]!, name: 'mean', severity: null, accuracy: c.reduce((s, r) => s + r.accuracy, 0) / c.length });
  }
  return out;
}

/** Aggregates the evaluations of `runs` (finished runs with their directories). */
export function robustnessRows(runs: { dir: string; summary: RunSummary }[]): RobustnessRow[] {
  const byEvaluation = new Map<string, { evaluation: Evaluation; runs: RunSummary[] }>();
  for (const { dir, summary } of runs) {
    for (const row of withMeans(readEvalCsv(dir) ?? [])) {
      const entry = byEvaluation.get(keyOf(row)) ?? { evaluation: row, runs: [] };
      // compareArms aggregates final_val_acc: hand it this evaluation's accuracy in its place.
      entry.runs.push({ ...summary, final_val_acc: row.accuracy, best_val_acc: row.accuracy });
      byEvaluation.set(keyOf(row), entry);
    }
  }
  return [...byEvaluation.values()].flatMap(({ evaluation, runs: evaluated }) =>
    compareArms(evaluated).map((arm: ComparisonRow) => ({
      freeze: arm.freeze,
      kernel_size: arm.kernel_size,
      lc_expansion: arm.lc_expansion,
      lc_depthwise: arm.lc_depthwise,
      group: arm.group,
      metric: evaluation.metric,
      name: evaluation.name,
      epsilon: evaluation.epsilon,
      severity: evaluation.severity,
      n: arm.n,
      accuracy_mean: arm.val_acc_mean,
      accuracy_std: arm.val_acc_std,
      delta_vs_standard: arm.delta_vs_standard,
    })),
  );
}

/** The markdown section: per arm, clean, each attack at each ε and the corruption means, with Δ vs standard. */
function robustnessMarkdown(rows: RobustnessRow[], plots: string[]): string {
  const columns = [
    ...new Map(
      rows
        .filter((r) => r.metric === 'clean' || r.metric === 'adversarial' || r.name === 'mean')
        .map((r) => [keyOf(r), r]),
    ).values(),
  ];
  const title = (r: RobustnessRow) =>
    r.metric === 'clean'
      ? 'clean'
      : r.metric === 'adversarial'
        ? `${r.name} ${formatEpsilon(r)}`
        : r.metric === 'cifar-c'
          ? 'CIFAR-C mean'
          : 'corruptions mean';
  const arms = [...new Map(rows.map((r) => [`${r.group}|${r.freeze}`, r])).values()];
  const cell = (arm: RobustnessRow, column: RobustnessRow) => {
    const r = rows.find((x) => x.group === arm.group && x.freeze === arm.freeze && keyOf(x) === keyOf(column));
    return r ? `${pct(r.accuracy_mean)} (${signedPp(r.delta_vs_standard)})` : '';
  };
  return [
    '## Robustness',
    '',
    'Accuracy % on the evaluated split (lcconv eval; README "Evaluating robustness"), mean over seeds, with Δ vs standard training in percentage points. Per-severity and per-corruption numbers: robustness.csv.',
    '',
    `| freeze | k | E | n | ${columns.map(title).join(' | ')} |`,
    `|---|---:|---:|---:|${columns.map(() => '---:').join('|')}|`,
    ...arms.map(
      (a) =>
        `| ${a.freeze}${a.lc_depthwise ? ' (dw)' : ''} | ${a.kernel_size} | ${a.lc_expansion} | ${a.n} | ${columns.map((c) => cell(a, c)).join(' | ')} |`,
    ),
    ...(plots.length ? ['', ...plots.map((p) => `![${p.replace(/_/g, ' ').replace('.svg', '')}](${p})\n`)] : []),
  ].join('\n');
}

/**
 * Writes robustness.csv (and with `plots` the robustness plots) into `dir`; returns the markdown
 * section for report.md and the files written, or null when no run has an eval.csv.
 */
export async function writeRobustness(
  dir: string,
  runs: { dir: string; summary: RunSummary }[],
  options: { plots?: boolean } = {},
): Promise<{ markdown: string; files: string[] } | null> {
  const rows = robustnessRows(runs);
  if (rows.length === 0) return null;
  const csvFile = join(dir, 'robustness.csv');
  const csv = createObjectCsvStringifier({ header: COLUMNS.map((id) => ({ id, title: id })) });
  writeAtomic(csvFile, csv.getHeaderString()! + csv.stringifyRecords(rows));
  let plots: string[] = [];
  if (options.plots !== false) {
    const { writeRobustnessPlots } = await import('./robustness-plots.js');
    plots = await writeRobustnessPlots(dir, rows);
  }
  return {
    markdown: robustnessMarkdown(
      rows,
      plots.map((p) => p.slice(dir.length + 1)),
    ),
    files: [csvFile, ...plots],
  };
}
