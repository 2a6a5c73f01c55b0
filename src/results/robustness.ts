import { type CsvColumn, csvText, epsilonColumns, percentCell, pointsCell } from '../csv.js';
import { evalRowKey, formatEpsilon, readEvalCsv, type EvalRow } from '../runs/eval-csv.js';
import { pct, signedPp } from '../format.js';
import { experimentPaths, writeAtomic } from '../runs/files.js';
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
  steps: number | null;
  restarts: number | null;
  /** The image selection every run of this row was evaluated on: split, image count, eval seed. */
  split: EvalRow['split'];
  images: number;
  eval_seed: number | null;
  n: number; // seeds
  accuracy_mean: number;
  accuracy_std: number | null;
  delta_vs_standard: number | null; // percentage points
  delta_vs_standard_ci95_low: number | null; // null with a single seed in either arm
  delta_vs_standard_ci95_high: number | null;
}

/** robustness.csv's columns (src/csv.ts): accuracies in percent, Δs in percentage points, ε as configured. */
const COLUMNS: CsvColumn<RobustnessRow>[] = [
  { title: 'freeze', cell: (r) => r.freeze },
  { title: 'kernel_size', cell: (r) => r.kernel_size },
  { title: 'lc_expansion', cell: (r) => r.lc_expansion },
  { title: 'lc_depthwise', cell: (r) => r.lc_depthwise },
  { title: 'group', cell: (r) => r.group },
  { title: 'metric', cell: (r) => r.metric },
  { title: 'name', cell: (r) => r.name },
  ...epsilonColumns<RobustnessRow>(),
  { title: 'severity', cell: (r) => r.severity },
  { title: 'steps', cell: (r) => r.steps },
  { title: 'restarts', cell: (r) => r.restarts },
  { title: 'split', cell: (r) => r.split },
  { title: 'images', cell: (r) => r.images },
  { title: 'eval_seed', cell: (r) => r.eval_seed },
  { title: 'seeds', cell: (r) => r.n },
  { title: 'accuracy_mean_pct', cell: (r) => percentCell(r.accuracy_mean) },
  { title: 'accuracy_std_pct', cell: (r) => percentCell(r.accuracy_std) },
  { title: 'delta_vs_standard_pp', cell: (r) => pointsCell(r.delta_vs_standard) },
  { title: 'delta_vs_standard_ci95_low_pp', cell: (r) => pointsCell(r.delta_vs_standard_ci95_low) },
  { title: 'delta_vs_standard_ci95_high_pp', cell: (r) => pointsCell(r.delta_vs_standard_ci95_high) },
];

type Evaluation = Omit<EvalRow, 'accuracy'>;
/** Runs are aggregated, and arms compared, only on the same setting and the same image selection. */
const keyOf = (e: Evaluation) => evalRowKey(e);
const evaluationOf = (r: RobustnessRow): Evaluation => ({ ...r, n: r.images, seed: r.eval_seed });
/** One arm: the same identity comparison.csv uses (config group, freeze, k, E, depthwise). */
const armOf = (r: RobustnessRow) => `${r.group}|${r.freeze}|${r.kernel_size}|${r.lc_expansion}|${r.lc_depthwise}`;

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

/**
 * Aggregates the evaluations of `runs` (finished runs with their directories). `labels` names each
 * config group as the comparison table does (groupLabels), so that two groups' arms with the same
 * freeze, k and E (e.g. frozen filters from the default and the smooth init) stay apart and named.
 */
export function robustnessRows(
  runs: { dir: string; summary: RunSummary }[],
  labels = new Map<string, string>(),
): RobustnessRow[] {
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
    compareArms(evaluated, labels).map((arm: ComparisonRow) => ({
      freeze: arm.freeze,
      kernel_size: arm.kernel_size,
      lc_expansion: arm.lc_expansion,
      lc_depthwise: arm.lc_depthwise,
      group: arm.group,
      metric: evaluation.metric,
      name: evaluation.name,
      epsilon: evaluation.epsilon,
      severity: evaluation.severity,
      steps: evaluation.steps,
      restarts: evaluation.restarts,
      split: evaluation.split,
      images: evaluation.n,
      eval_seed: evaluation.seed,
      n: arm.n,
      accuracy_mean: arm.val_acc_mean,
      accuracy_std: arm.val_acc_std,
      delta_vs_standard: arm.delta_vs_standard,
      delta_vs_standard_ci95_low: arm.delta_vs_standard_ci95_low,
      delta_vs_standard_ci95_high: arm.delta_vs_standard_ci95_high,
    })),
  );
}

/**
 * The markdown section: per arm, clean, each attack at each ε and the corruption means, with Δ vs
 * standard. Only evaluations every arm has are columns (the same setting and image selection);
 * the others are named as left out, with the arms that have them.
 */
function robustnessMarkdown(rows: RobustnessRow[], plots: string[]): string {
  const arms = [...new Map(rows.map((r) => [armOf(r), r])).values()];
  const candidates = [
    ...new Map(
      rows
        .filter((r) => r.metric === 'clean' || r.metric === 'adversarial' || r.name === 'mean')
        .map((r) => [keyOf(evaluationOf(r)), r]),
    ).values(),
  ];
  const armsWith = (column: RobustnessRow) =>
    new Set(rows.filter((x) => keyOf(evaluationOf(x)) === keyOf(evaluationOf(column))).map(armOf));
  const columns = candidates.filter((c) => armsWith(c).size === arms.length);
  const leftOut = candidates.filter((c) => armsWith(c).size < arms.length);
  const selections = new Set(columns.map((c) => `${c.split}|${c.images}|${c.eval_seed}`));
  const selection = (r: RobustnessRow) => `${r.images} ${r.split} images, eval seed ${r.eval_seed ?? '?'}`;
  const title = (r: RobustnessRow) =>
    (r.metric === 'clean'
      ? 'clean'
      : r.metric === 'adversarial'
        ? `${r.name} ${formatEpsilon(r)}`
        : r.metric === 'cifar-c'
          ? 'CIFAR-C mean'
          : 'corruptions mean') + (selections.size > 1 ? ` (${selection(r)})` : '');
  const label = (a: RobustnessRow) =>
    `${a.freeze}${a.lc_depthwise ? ' (dw)' : ''} k${a.kernel_size} E${a.lc_expansion}`;
  const cell = (arm: RobustnessRow, column: RobustnessRow) => {
    const r = rows.find((x) => armOf(x) === armOf(arm) && keyOf(evaluationOf(x)) === keyOf(evaluationOf(column)));
    return r ? `${pct(r.accuracy_mean)} (${signedPp(r.delta_vs_standard)})` : '';
  };
  const withGroup = new Set(arms.map((a) => a.group)).size > 1;
  return [
    '## Robustness',
    '',
    `Accuracy % on the evaluated images (lcconv eval; docs/eval-export.md in the lcconv repository), mean over seeds, with Δ vs standard training in percentage points; arms are compared only on evaluations with the same setting and image selection${selections.size === 1 && columns[0] ? ` (here ${selection(columns[0])})` : ''}. Per-severity and per-corruption numbers: robustness.csv.`,
    '',
    `|${withGroup ? ' config |' : ''} freeze | k | E | n | ${columns.map(title).join(' | ')} |`,
    `|${withGroup ? '---|' : ''}---|---:|---:|---:|${columns.map(() => '---:').join('|')}|`,
    ...arms.map(
      (a) =>
        `|${withGroup ? ` ${a.group} |` : ''} ${a.freeze}${a.lc_depthwise ? ' (dw)' : ''} | ${a.kernel_size} | ${a.lc_expansion} | ${a.n} | ${columns.map((c) => cell(a, c)).join(' | ')} |`,
    ),
    ...(leftOut.length
      ? [
          '',
          'Left out of the table (not evaluated on every arm with this setting and image selection, so not comparable): ' +
            leftOut
              .map(
                (c) =>
                  `${title(c)}${selections.size > 1 ? '' : ` (${selection(c)})`} — only ${rows
                    .filter((x) => keyOf(evaluationOf(x)) === keyOf(evaluationOf(c)))
                    .map(label)
                    .join(', ')}`,
              )
              .join('; '),
        ]
      : []),
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
  options: { plots?: boolean; labels?: Map<string, string> } = {},
): Promise<{ markdown: string; files: string[] } | null> {
  const rows = robustnessRows(runs, options.labels);
  if (rows.length === 0) return null;
  const csvFile = experimentPaths(dir).robustness;
  writeAtomic(csvFile, csvText(COLUMNS, rows));
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
