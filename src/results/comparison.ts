/**
 * Compares every arm with standard training: an arm is the runs of one config group and freeze
 * mode (its seeds), and its standard is the `learned` arm of the same group, i.e. the same config in
 * every key but freeze and seed — so a sweep over width, init or lr never pools different configs.
 * Gives mean ± std of final validation accuracy over seeds, with n, and Δ vs standard.
 */
import { createObjectCsvStringifier } from 'csv-writer';
import { formatCount, formatMeanStd, pct, signedPp } from '../format.js';
import { writeAtomic } from '../runs/files.js';
import type { RunSummary } from '../runs/records.js';

export interface ComparisonRow {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  n: number; // seeds
  val_acc_mean: number;
  val_acc_std: number | null; // sample std over seeds; null (blank) when n = 1
  best_val_acc_mean: number;
  delta_vs_standard: number | null; // percentage points; null when no learned arm exists
  learnable_params: number;
  stored_weights: number;
  /**
   * The config group (runs whose configs differ only in freeze mode and seed, RunIdentity.group),
   * named by the keys in which it differs from the other groups (groupLabels), '' when all agree.
   */
  group: string;
}

export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

const FREEZE_ORDER = ['learned', 'frozen', 'shared'];

/** `labels` names each group hash (groupLabels); without it every group is labelled ''. */
export function compareArms(summaries: RunSummary[], labels = new Map<string, string>()): ComparisonRow[] {
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
      val_acc_std: acc.n > 1 ? acc.std : null,
      best_val_acc_mean: meanStd(runs.map((r) => r.best_val_acc)).mean,
      delta_vs_standard: standard ? 100 * (acc.mean - meanStd(standard.map((r) => r.final_val_acc)).mean) : null,
      learnable_params: first.params.learnable,
      stored_weights: first.params.stored,
      group: labels.get(groupOf(first)) ?? '',
    };
  });
  return rows.sort((a, b) => a.kernel_size - b.kernel_size || a.lc_expansion - b.lc_expansion || a.group.localeCompare(b.group) || FREEZE_ORDER.indexOf(a.freeze) - FREEZE_ORDER.indexOf(b.freeze));
}

/**
 * One unit in the file, named in the header: accuracies (fractions in memory) are written in
 * percent as `<name>_pct`, differences of accuracies (already percentage points) as `<name>_pp`.
 */
function csvColumn(name: string): { title: string; scale: number } {
  if (name.startsWith('delta')) return { title: `${name}_pp`, scale: 1 };
  if (/(^|_)acc(_|$)/.test(name)) return { title: `${name}_pct`, scale: 100 };
  return { title: name, scale: 1 };
}

/** Written whole and atomically: the file is a summary, replaced each time the experiment is reported. */
export function writeComparisonCsv(file: string, rows: ComparisonRow[]): void {
  const columns = Object.keys(rows[0] ?? {}).map((id) => ({ id, ...csvColumn(id) }));
  const csv = createObjectCsvStringifier({ header: columns.map(({ id, title }) => ({ id, title })) });
  const scaled = rows.map((r) => Object.fromEntries(columns.map(({ id, scale }) => {
    const v = (r as unknown as Record<string, unknown>)[id];
    return [id, scale !== 1 && typeof v === 'number' ? Number((v * scale).toFixed(6)) : v];
  })));
  writeAtomic(file, csv.getHeaderString() + csv.stringifyRecords(scaled));
}

/** Tables add the config column when the rows come from config groups with different labels. */
export function needsGroupColumn(rows: ComparisonRow[]): boolean {
  return new Set(rows.map((r) => r.group)).size > 1;
}

/**
 * Plain-text table for the terminal. `accuracy` names what was measured: 'test accuracy' with
 * val_split 0, 'validation accuracy' otherwise (accuracyName).
 */
export function formatComparison(rows: ComparisonRow[], accuracy = 'test accuracy'): string {
  const withGroup = needsGroupColumn(rows);
  const header = [...(withGroup ? ['config'] : []), 'freeze', 'k', 'E', `${accuracy.replace('validation', 'val').replace('accuracy', 'acc')} % (mean ± std, n)`, 'Δ vs standard (pp)', 'learnable', 'stored'];
  const body = rows.map((r) => [
    ...(withGroup ? [r.group] : []),
    r.freeze + (r.lc_depthwise ? ' (dw)' : ''),
    String(r.kernel_size),
    String(r.lc_expansion),
    `${formatMeanStd(r.val_acc_mean, r.val_acc_std)} (n=${r.n})`,
    signedPp(r.delta_vs_standard),
    formatCount(r.learnable_params),
    formatCount(r.stored_weights),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const textColumns = withGroup ? 2 : 1; // left-aligned: config group and freeze
  const line = (cells: string[]) => cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/**
 * The table in one sentence, for the last line of `lcconv run`: how far each non-standard arm is
 * from standard training, e.g. "frozen random filters (k=3, E=8; 23,322 learnable weights) reach
 * 87.34% test accuracy, 1.33 points below standard training (88.67%, 172,506 learnable weights), mean of 3 seeds."
 */
export function summarySentence(rows: ComparisonRow[], accuracy = 'test accuracy'): string {
  const parts = rows.flatMap((r) => {
    if (r.freeze === 'learned' || r.delta_vs_standard === null) return [];
    const standard = rows.find((s) => s.freeze === 'learned' && s.group === r.group && s.kernel_size === r.kernel_size && s.lc_expansion === r.lc_expansion && s.lc_depthwise === r.lc_depthwise)!;
    const d = r.delta_vs_standard;
    const how = Math.abs(d) < 0.005 ? 'the same as' : `${Math.abs(d).toFixed(2)} points ${d < 0 ? 'below' : 'above'}`;
    const what = `${r.freeze === 'shared' ? 'shared' : 'frozen'} random filters (${r.group ? `${r.group}, ` : ''}k=${r.kernel_size}, E=${r.lc_expansion}${r.lc_depthwise ? ', depthwise' : ''}; ${formatCount(r.learnable_params)} learnable weights)`;
    const seeds = r.n === 1 ? 'one seed' : `mean of ${r.n} seeds`;
    return [`${what} reach ${pct(r.val_acc_mean)}% ${accuracy}, ${how} standard training (${pct(standard.val_acc_mean)}%, ${formatCount(standard.learnable_params)} learnable weights), ${seeds}`];
  });
  if (parts.length === 0) return '';
  const text = parts.join('; ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}
