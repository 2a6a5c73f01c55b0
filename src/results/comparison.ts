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
import { createObjectCsvStringifier } from 'csv-writer';
import { formatCount, pct, signedPp } from '../format.js';
import { writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';
import { difference, meanStd, type SeedValues } from './stats.js';

export { meanStd } from './stats.js';

export interface ComparisonRow {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  n: number; // seeds
  val_acc_mean: number;
  val_acc_std: number; // sample std over seeds; 0 when n = 1
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
  group: string; // runs whose configs differ only in freeze mode and seed (see RunIdentity.group)
}

const FREEZE_ORDER = ['learned', 'frozen', 'shared'];

// Summaries from before groups existed have none: they group by k, E and depthwise alone.
const groupOf = (s: RunSummary) => s.group ?? `k${s.kernel_size}-E${s.lc_expansion}${s.lc_depthwise ? '-dw' : ''}`;
/** Summaries from before standard_group existed: a run with E = 1 and no depthwise block is in its standard group. */
const standardGroupOf = (s: RunSummary) => s.standard_group ?? (s.lc_expansion === 1 && !s.lc_depthwise ? groupOf(s) : null);

const percentPoints = (d: ReturnType<typeof difference> | null) => ({
  delta: d ? 100 * d.delta : null,
  low: d?.ci95 ? 100 * d.ci95[0] : null,
  high: d?.ci95 ? 100 * d.ci95[1] : null,
});

export function compareArms(summaries: RunSummary[]): ComparisonRow[] {
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
      n: acc.n,
      val_acc_mean: acc.mean,
      val_acc_std: acc.std,
      best_val_acc_mean: meanStd(runs.map((r) => r.best_val_acc)).mean,
      delta_vs_standard: standard.delta,
      delta_vs_standard_ci95_low: standard.low,
      delta_vs_standard_ci95_high: standard.high,
      delta_vs_learned_same_e: learned.delta,
      delta_vs_learned_same_e_ci95_low: learned.low,
      delta_vs_learned_same_e_ci95_high: learned.high,
      learnable_params: first.params.learnable,
      stored_weights: first.params.stored,
      group: groupOf(first),
    };
  });
  return rows.sort((a, b) => a.kernel_size - b.kernel_size || a.lc_expansion - b.lc_expansion || a.group.localeCompare(b.group) || FREEZE_ORDER.indexOf(a.freeze) - FREEZE_ORDER.indexOf(b.freeze));
}

/** A Δ as text: "+1.23 [-0.40, +2.86]" (95 % CI), "+1.23" with one seed, "n/a" without a baseline. */
export function formatDelta(delta: number | null, low: number | null, high: number | null): string {
  if (delta === null || low === null || high === null) return signedPp(delta);
  return `${signedPp(delta)} [${signedPp(low)}, ${signedPp(high)}]`;
}

export const DELTA_VS_STANDARD_TITLE = 'Δ vs standard (pp, 95% CI)';
export const DELTA_VS_LEARNED_TITLE = 'Δ vs learned same E (pp, 95% CI)';

export const deltaVsStandard = (r: ComparisonRow) => formatDelta(r.delta_vs_standard, r.delta_vs_standard_ci95_low, r.delta_vs_standard_ci95_high);
export const deltaVsLearned = (r: ComparisonRow) => formatDelta(r.delta_vs_learned_same_e, r.delta_vs_learned_same_e_ci95_low, r.delta_vs_learned_same_e_ci95_high);

/** Written whole and atomically: the file is a summary, replaced each time the experiment is reported. */
export function writeComparisonCsv(file: string, rows: ComparisonRow[]): void {
  const columns = Object.keys(rows[0] ?? {}) as (keyof ComparisonRow)[];
  const csv = createObjectCsvStringifier({ header: columns.map((id) => ({ id, title: id })) });
  writeAtomic(file, csv.getHeaderString() + csv.stringifyRecords(rows));
}


/**
 * Whether freeze, k, E and depthwise leave two rows looking alike (configs that differ in another
 * key, e.g. a sweep over width): then tables add the config group column.
 */
export function needsGroupColumn(rows: ComparisonRow[]): boolean {
  const seen = new Set(rows.map((r) => `${r.freeze}|${r.kernel_size}|${r.lc_expansion}|${r.lc_depthwise}`));
  return seen.size < rows.length;
}

/** Plain-text table for the terminal. */
export function formatComparison(rows: ComparisonRow[]): string {
  const withGroup = needsGroupColumn(rows);
  const header = [...(withGroup ? ['config'] : []), 'freeze', 'k', 'E', 'val acc % (mean ± std, n)', DELTA_VS_STANDARD_TITLE, DELTA_VS_LEARNED_TITLE, 'learnable', 'stored'];
  const body = rows.map((r) => [
    ...(withGroup ? [r.group] : []),
    r.freeze + (r.lc_depthwise ? ' (dw)' : ''),
    String(r.kernel_size),
    String(r.lc_expansion),
    `${pct(r.val_acc_mean)} ± ${pct(r.val_acc_std)} (n=${r.n})`,
    deltaVsStandard(r),
    deltaVsLearned(r),
    formatCount(r.learnable_params),
    formatCount(r.stored_weights),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const textColumns = withGroup ? 2 : 1; // left-aligned: config group and freeze
  const line = (cells: string[]) => cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
