/**
 * Compares every arm with standard training: an arm is the runs of one config group and freeze
 * mode (its seeds), and its standard is the `learned` arm of the same group, i.e. the same config in
 * every key but freeze and seed — so a sweep over width, init or lr never pools different configs.
 * Gives mean ± std of final validation accuracy over seeds, with n, and Δ vs standard.
 */
import { createObjectCsvStringifier } from 'csv-writer';
import { formatCount, pct, signedPp } from '../format.js';
import { writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';

export interface ComparisonRow {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  n: number; // seeds
  val_acc_mean: number;
  val_acc_std: number; // sample std over seeds; 0 when n = 1
  best_val_acc_mean: number;
  delta_vs_standard: number | null; // percentage points; null when no learned arm exists
  learnable_params: number;
  stored_weights: number;
  group: string; // runs whose configs differ only in freeze mode and seed (see RunIdentity.group)
}

export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

const FREEZE_ORDER = ['learned', 'frozen', 'shared'];

export function compareArms(summaries: RunSummary[]): ComparisonRow[] {
  const groups = new Map<string, RunSummary[]>();
  // Summaries from before groups existed have none: they group by k, E and depthwise alone.
  const groupOf = (s: RunSummary) => s.group ?? `k${s.kernel_size}-E${s.lc_expansion}${s.lc_depthwise ? '-dw' : ''}`;
  const keyOf = (s: RunSummary, freeze = s.freeze) => `${freeze}|${groupOf(s)}`;
  for (const s of summaries) groups.set(keyOf(s), [...(groups.get(keyOf(s)) ?? []), s]);
  const rows = [...groups.values()].map((runs) => {
    const first = runs[0]!;
    const acc = meanStd(runs.map((r) => r.final_val_acc));
    const standard = groups.get(keyOf(first, 'learned'));
    return {
      freeze: first.freeze,
      kernel_size: first.kernel_size,
      lc_expansion: first.lc_expansion,
      lc_depthwise: first.lc_depthwise,
      n: acc.n,
      val_acc_mean: acc.mean,
      val_acc_std: acc.std,
      best_val_acc_mean: meanStd(runs.map((r) => r.best_val_acc)).mean,
      delta_vs_standard: standard ? 100 * (acc.mean - meanStd(standard.map((r) => r.final_val_acc)).mean) : null,
      learnable_params: first.params.learnable,
      stored_weights: first.params.stored,
      group: groupOf(first),
    };
  });
  return rows.sort((a, b) => a.kernel_size - b.kernel_size || a.lc_expansion - b.lc_expansion || a.group.localeCompare(b.group) || FREEZE_ORDER.indexOf(a.freeze) - FREEZE_ORDER.indexOf(b.freeze));
}

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
  const header = [...(withGroup ? ['config'] : []), 'freeze', 'k', 'E', 'val acc % (mean ± std, n)', 'Δ vs standard (pp)', 'learnable', 'stored'];
  const body = rows.map((r) => [
    ...(withGroup ? [r.group] : []),
    r.freeze + (r.lc_depthwise ? ' (dw)' : ''),
    String(r.kernel_size),
    String(r.lc_expansion),
    `${pct(r.val_acc_mean)} ± ${pct(r.val_acc_std)} (n=${r.n})`,
    signedPp(r.delta_vs_standard),
    formatCount(r.learnable_params),
    formatCount(r.stored_weights),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const textColumns = withGroup ? 2 : 1; // left-aligned: config group and freeze
  const line = (cells: string[]) => cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
