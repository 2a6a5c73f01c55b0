/**
 * Compares every arm with two baselines. An arm is the runs of one config group and freeze mode (its
 * seeds); a group is the config in every key but freeze and seed, so a sweep over width, init or lr
 * never pools different configs.
 * - **Δ vs standard**: against standard training, the paper's baseline — the learned arm with E = 1
 *   and no depthwise LC block, same architecture, width, k, data and schedule (standardOf).
 * - **Δ vs learned at the same E**: against the learned arm of the same group (same E and depthwise),
 *   which isolates freezing the filters from adding the LC block.
 * Each Δ is mean(arm) − mean(baseline) of the final validation accuracy in percentage points, with a
 * 95 % confidence interval over seeds (src/results/stats.ts: paired by seed where both arms ran the
 * same seeds, Welch otherwise, none with a single seed).
 */
import { type CsvColumn, csvText, percentCell, pointsCell } from '../csv.js';
import { formatCount, formatMeanStd, pct, signedPp } from '../format.js';
import { writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';
import { difference, meanStd, type SeedValues } from './stats.js';

export { meanStd } from './stats.js';

export interface ComparisonRow {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  spatial_init: string; // model.spatial_init of the arm's k×k filters
  n: number; // seeds
  val_acc_mean: number;
  val_acc_std: number | null; // sample std over seeds; null (blank) when n = 1
  best_val_acc_mean: number;
  /** Percentage points vs standard training (learned, E = 1, not depthwise); null when it has no run. */
  delta_vs_standard: number | null;
  delta_vs_standard_ci95_low: number | null; // null with a single seed in either arm
  delta_vs_standard_ci95_high: number | null;
  /** Percentage points vs the learned arm with the same E (and depthwise flag); null when it has no run. */
  delta_vs_learned_same_e: number | null;
  delta_vs_learned_same_e_ci95_low: number | null;
  delta_vs_learned_same_e_ci95_high: number | null;
  learnable_params: number;
  stored_weights: number;
  /**
   * The config group (runs whose configs differ only in freeze mode and seed, RunIdentity.group),
   * named by the keys in which it differs from the other groups (groupLabels), '' when all agree.
   */
  group: string;
}

const FREEZE_ORDER = ['learned', 'frozen', 'shared'];

// Summaries from before groups existed have none: they group by k, E and depthwise alone.
const groupOf = (s: RunSummary) => s.group ?? `k${s.kernel_size}-E${s.lc_expansion}${s.lc_depthwise ? '-dw' : ''}`;
/** Summaries from before standard_group existed: a run with E = 1 and no depthwise block is in its standard group. */
const standardGroupOf = (s: RunSummary) =>
  s.standard_group ?? (s.lc_expansion === 1 && !s.lc_depthwise ? groupOf(s) : null);

const percentPoints = (d: ReturnType<typeof difference> | null) => ({
  delta: d ? 100 * d.delta : null,
  low: d?.ci95 ? 100 * d.ci95[0] : null,
  high: d?.ci95 ? 100 * d.ci95[1] : null,
});

/** `labels` names each group hash (groupLabels); without it every group is labelled ''. */
export function compareArms(summaries: RunSummary[], labels = new Map<string, string>()): ComparisonRow[] {
  const arms = new Map<string, RunSummary[]>();
  const armKey = (freeze: string, group: string) => `${freeze}|${group}`;
  for (const s of summaries) {
    const key = armKey(s.freeze, groupOf(s));
    arms.set(key, [...(arms.get(key) ?? []), s]);
  }
  const accuracies = (runs: RunSummary[]): SeedValues => new Map(runs.map((r) => [r.seed, r.final_val_acc]));
  const versus = (runs: RunSummary[], baselineGroup: string | null) => {
    const baseline = baselineGroup === null ? undefined : arms.get(armKey('learned', baselineGroup));
    return percentPoints(baseline ? difference(accuracies(runs), accuracies(baseline)) : null);
  };
  const rows = [...arms.values()].map((runs): ComparisonRow => {
    const first = runs[0]!;
    const acc = meanStd(runs.map((r) => r.final_val_acc));
    const standard = versus(runs, standardGroupOf(first));
    const learned = versus(runs, groupOf(first));
    return {
      freeze: first.freeze,
      kernel_size: first.kernel_size,
      lc_expansion: first.lc_expansion,
      lc_depthwise: first.lc_depthwise,
      spatial_init: first.spatial_init ?? 'default',
      n: acc.n,
      val_acc_mean: acc.mean,
      val_acc_std: acc.n > 1 ? acc.std : null,
      best_val_acc_mean: meanStd(runs.map((r) => r.best_val_acc)).mean,
      delta_vs_standard: standard.delta,
      delta_vs_standard_ci95_low: standard.low,
      delta_vs_standard_ci95_high: standard.high,
      delta_vs_learned_same_e: learned.delta,
      delta_vs_learned_same_e_ci95_low: learned.low,
      delta_vs_learned_same_e_ci95_high: learned.high,
      learnable_params: first.params.learnable,
      stored_weights: first.params.stored,
      group: labels.get(groupOf(first)) ?? '',
    };
  });
  return rows.sort(
    (a, b) =>
      a.kernel_size - b.kernel_size ||
      a.lc_expansion - b.lc_expansion ||
      a.group.localeCompare(b.group) ||
      FREEZE_ORDER.indexOf(a.freeze) - FREEZE_ORDER.indexOf(b.freeze),
  );
}

/** A Δ as text: "+1.23 [-0.40, +2.86]" (95 % CI), "+1.23" with one seed, "n/a" without a baseline. */
export function formatDelta(delta: number | null, low: number | null, high: number | null): string {
  if (delta === null || low === null || high === null) return signedPp(delta);
  return `${signedPp(delta)} [${signedPp(low)}, ${signedPp(high)}]`;
}

export const DELTA_VS_STANDARD_TITLE = 'Δ vs standard (pp, 95% CI)';
export const DELTA_VS_LEARNED_TITLE = 'Δ vs learned same E (pp, 95% CI)';

export const deltaVsStandard = (r: ComparisonRow) =>
  formatDelta(r.delta_vs_standard, r.delta_vs_standard_ci95_low, r.delta_vs_standard_ci95_high);
export const deltaVsLearned = (r: ComparisonRow) =>
  formatDelta(r.delta_vs_learned_same_e, r.delta_vs_learned_same_e_ci95_low, r.delta_vs_learned_same_e_ci95_high);

/** comparison.csv's columns (src/csv.ts): accuracies in percent, Δs and their CIs in percentage points. */
const COMPARISON_COLUMNS: CsvColumn<ComparisonRow>[] = [
  { title: 'freeze', cell: (r) => r.freeze },
  { title: 'kernel_size', cell: (r) => r.kernel_size },
  { title: 'lc_expansion', cell: (r) => r.lc_expansion },
  { title: 'lc_depthwise', cell: (r) => r.lc_depthwise },
  { title: 'spatial_init', cell: (r) => r.spatial_init },
  { title: 'seeds', cell: (r) => r.n },
  { title: 'val_acc_mean_pct', cell: (r) => percentCell(r.val_acc_mean) },
  { title: 'val_acc_std_pct', cell: (r) => percentCell(r.val_acc_std) },
  { title: 'best_val_acc_mean_pct', cell: (r) => percentCell(r.best_val_acc_mean) },
  { title: 'delta_vs_standard_pp', cell: (r) => pointsCell(r.delta_vs_standard) },
  { title: 'delta_vs_standard_ci95_low_pp', cell: (r) => pointsCell(r.delta_vs_standard_ci95_low) },
  { title: 'delta_vs_standard_ci95_high_pp', cell: (r) => pointsCell(r.delta_vs_standard_ci95_high) },
  { title: 'delta_vs_learned_same_e_pp', cell: (r) => pointsCell(r.delta_vs_learned_same_e) },
  { title: 'delta_vs_learned_same_e_ci95_low_pp', cell: (r) => pointsCell(r.delta_vs_learned_same_e_ci95_low) },
  { title: 'delta_vs_learned_same_e_ci95_high_pp', cell: (r) => pointsCell(r.delta_vs_learned_same_e_ci95_high) },
  { title: 'learnable_params', cell: (r) => r.learnable_params },
  { title: 'stored_weights', cell: (r) => r.stored_weights },
  { title: 'group', cell: (r) => r.group },
];

/** Written whole and atomically: the file is a summary, replaced each time the experiment is reported. */
export function writeComparisonCsv(file: string, rows: ComparisonRow[]): void {
  writeAtomic(file, csvText(COMPARISON_COLUMNS, rows));
}

/**
 * Whether a row is standard training itself, the paper's baseline: learned k×k filters with their
 * default init, E = 1, no depthwise LC block (its Δ vs standard is 0 by definition).
 */
export const isStandardRow = (r: ComparisonRow) =>
  r.freeze === 'learned' && r.lc_expansion === 1 && !r.lc_depthwise && r.spatial_init === 'default';

/** Tables add the config column when the rows come from config groups with different labels. */
export function needsGroupColumn(rows: ComparisonRow[]): boolean {
  return new Set(rows.map((r) => r.group)).size > 1;
}

/** The arm as a reader names it: freeze mode, plus "(dw)" for depthwise LC and a non-default k×k init. */
export function armLabel(r: ComparisonRow): string {
  return `${r.freeze}${r.lc_depthwise ? ' (dw)' : ''}${r.spatial_init !== 'default' ? ` (${r.spatial_init} init)` : ''}`;
}

/**
 * Plain-text table for the terminal. `accuracy` names what was measured: 'test accuracy' with
 * val_split 0, 'validation accuracy' otherwise (accuracyName).
 */
export function formatComparison(rows: ComparisonRow[], accuracy = 'test accuracy'): string {
  const withGroup = needsGroupColumn(rows);
  const header = [
    ...(withGroup ? ['config'] : []),
    'freeze',
    'k',
    'E',
    `${accuracy.replace('validation', 'val').replace('accuracy', 'acc')} % (mean ± std, n)`,
    DELTA_VS_STANDARD_TITLE,
    DELTA_VS_LEARNED_TITLE,
    'learnable',
    'stored',
  ];
  const body = rows.map((r) => [
    ...(withGroup ? [r.group] : []),
    armLabel(r),
    String(r.kernel_size),
    String(r.lc_expansion),
    `${formatMeanStd(r.val_acc_mean, r.val_acc_std)} (n=${r.n})`,
    deltaVsStandard(r),
    deltaVsLearned(r),
    formatCount(r.learnable_params),
    formatCount(r.stored_weights),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const textColumns = withGroup ? 2 : 1; // left-aligned: config group and freeze
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Percentage points with their sign, as the sentence writes an interval's ends. */
const signed = (pp: number) => `${pp >= 0 ? '+' : '−'}${Math.abs(pp).toFixed(2)}`;

/**
 * The table in one sentence, for the last line of `lcconv run`: how far each non-standard arm is
 * from standard training, with the interval that says whether the gap means anything, e.g. "frozen
 * random filters (k=3, E=8; 23,322 learnable weights) reach 87.34% test accuracy, 1.33 points below
 * standard training (88.67%, 172,506 learnable weights), mean of 3 seeds (95 % CI of the difference
 * −9.80 to +8.50 points: within noise at this size)."
 */
export function summarySentence(rows: ComparisonRow[], accuracy = 'test accuracy'): string {
  const parts = rows.flatMap((r) => {
    if (r.freeze === 'learned' || r.delta_vs_standard === null) return [];
    // Standard training of the same k and settings.
    const standard = rows.find((s) => isStandardRow(s) && s.group === r.group && s.kernel_size === r.kernel_size);
    if (!standard) return [];
    const d = r.delta_vs_standard;
    const how = Math.abs(d) < 0.005 ? 'the same as' : `${Math.abs(d).toFixed(2)} points ${d < 0 ? 'below' : 'above'}`;
    const what = `${r.freeze === 'shared' ? 'shared' : 'frozen'} random filters (${r.group ? `${r.group}, ` : ''}k=${r.kernel_size}, E=${r.lc_expansion}${r.lc_depthwise ? ', depthwise' : ''}; ${formatCount(r.learnable_params)} learnable weights)`;
    // The interval says whether the gap means anything at this size; one seed has none.
    const low = r.delta_vs_standard_ci95_low;
    const high = r.delta_vs_standard_ci95_high;
    const within = low !== null && high !== null && low <= 0 && high >= 0;
    const seeds =
      low === null || high === null
        ? `${r.n === 1 ? 'one seed' : `mean of ${r.n} seeds`} (no interval: run several seeds to tell a gap from noise)`
        : `mean of ${r.n} seeds (95 % CI of the difference ${signed(low)} to ${signed(high)} points: ${within ? 'within noise at this size' : 'the interval excludes zero, a gap beyond seed noise'})`;
    return [
      `${what} reach ${pct(r.val_acc_mean)}% ${accuracy}, ${how} standard training (${pct(standard.val_acc_mean)}%, ${formatCount(standard.learnable_params)} learnable weights), ${seeds}`,
    ];
  });
  if (parts.length === 0) return '';
  const text = parts.join('; ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}
