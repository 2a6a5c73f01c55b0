/**
 * eval.csv, the robustness evaluation of one run (src/eval/ measures it): its rows and how they are
 * written and read, here with the run directory's other files. Free of tfjs, so `lcconv report` reads
 * evaluations without loading it.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  type CsvColumn,
  csvText,
  EPSILON_L2_COLUMN,
  EPSILON_LINF_COLUMN,
  epsilonColumns,
  percentCell,
} from '../csv.js';
import { runPaths, writeAtomic } from './files.js';

export type EvalMetric = 'clean' | 'adversarial' | 'corruption' | 'cifar-c';

/** One line of eval.csv. */
export interface EvalRow {
  metric: EvalMetric;
  /** 'clean', the attack or the corruption name. */
  name: string;
  /** Attack radius in [0,1] pixel units (L∞ or L2); null for clean and corruptions. */
  epsilon: number | null;
  severity: number | null;
  /** PGD iterations and restarts; null where not an iterative attack. */
  steps: number | null;
  restarts: number | null;
  accuracy: number;
  /** Images evaluated: the whole split, or `eval.images` of it chosen from `seed`. */
  n: number;
  /** 'test', or 'val' when the run held out val_split of its training images and used that instead. */
  split: 'test' | 'val';
  /** eval.seed: chose the images (when fewer than the split), the corruption noise and the attacks' random starts; null in rows written before it was recorded. */
  seed: number | null;
}

/**
 * eval.csv's columns (src/csv.ts: units in the names, accuracy in percent with 2 decimals). Files
 * written before units were named (`epsilon` as a 0–1 fraction, `accuracy` as a fraction, `n`,
 * `seed`) are still read.
 */
export const EVAL_COLUMNS: CsvColumn<EvalRow>[] = [
  { title: 'metric', cell: (r) => r.metric },
  { title: 'name', cell: (r) => r.name },
  ...epsilonColumns<EvalRow>(),
  { title: 'severity', cell: (r) => r.severity },
  { title: 'steps', cell: (r) => r.steps },
  { title: 'restarts', cell: (r) => r.restarts },
  { title: 'accuracy_pct', cell: (r) => percentCell(r.accuracy) },
  { title: 'images', cell: (r) => r.n },
  { title: 'split', cell: (r) => r.split },
  { title: 'eval_seed', cell: (r) => r.seed },
];

/**
 * What makes two rows the same evaluation: the setting (metric, name, ε, severity, PGD steps and
 * restarts) and the image selection (split, count, seed). A new evaluation replaces only the rows
 * with its own keys; the report compares arms only on rows with equal keys.
 */
export function evalRowKey(row: Omit<EvalRow, 'accuracy'>): string {
  return [row.metric, row.name, row.epsilon, row.severity, row.steps, row.restarts, row.split, row.n, row.seed]
    .map((v) => (v === null ? '' : String(v)))
    .join('|');
}

export function writeEvalCsv(file: string, rows: EvalRow[]): void {
  writeAtomic(file, csvText(EVAL_COLUMNS, rows));
}

/**
 * Adds `rows` to the run's eval.csv: rows of the same evaluation (evalRowKey) are replaced, every
 * other row is kept, so an FGSM evaluation and a later PGD one both stay.
 */
export function accumulateEvalCsv(file: string, rows: EvalRow[]): EvalRow[] {
  const earlier = existsSync(file) ? parseEvalCsv(readFileSync(file, 'utf8')) : [];
  const replaced = new Set(rows.map(evalRowKey));
  const all = [...earlier.filter((r) => !replaced.has(evalRowKey(r))), ...rows];
  writeEvalCsv(file, all);
  return all;
}

/** Reads a run's eval.csv (for report), or null when it has none. */
export function readEvalCsv(dir: string): EvalRow[] | null {
  const file = runPaths(dir).eval;
  if (!existsSync(file)) return null;
  return parseEvalCsv(readFileSync(file, 'utf8'));
}

/**
 * eval.csv has only numbers and plain names (no quoting needed): split on commas. Reads today's
 * columns and those of files written before units were named.
 */
export function parseEvalCsv(text: string): EvalRow[] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const columns = header!.split(',');
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return lines.map((line) => {
    const cells = Object.fromEntries(line.split(',').map((v, i) => [columns[i], v]));
    const linf = num(cells[EPSILON_LINF_COLUMN]);
    const l2 = num(cells[EPSILON_L2_COLUMN]);
    return {
      metric: cells.metric as EvalRow['metric'],
      name: cells.name!,
      // The attacks take ε in 0–1 pixel units; k/255 is what evaluate computes from linf_epsilons.
      epsilon: linf !== null ? linf / 255 : l2 !== null ? l2 : num(cells.epsilon),
      severity: num(cells.severity),
      steps: num(cells.steps),
      restarts: num(cells.restarts),
      accuracy: cells.accuracy_pct !== undefined ? Number(cells.accuracy_pct) / 100 : Number(cells.accuracy),
      n: Number(cells.images ?? cells.n),
      split: cells.split as EvalRow['split'],
      seed: num(cells.eval_seed ?? cells.seed),
    };
  });
}

/** ε as people write it: k/255 for L∞, the plain number for L2. */
export function formatEpsilon(row: Pick<EvalRow, 'name' | 'epsilon'>): string {
  if (row.epsilon === null) return '';
  if (row.name === 'pgd_l2') return `${row.epsilon}`;
  return `${Number((row.epsilon * 255).toFixed(4))}/255`;
}

/** Mean accuracy over every corruption row (all names and severities), or null without any. */
export function meanCorruptionAccuracy(rows: EvalRow[]): number | null {
  const c = rows.filter((r) => r.metric === 'corruption');
  return c.length ? c.reduce((s, r) => s + r.accuracy, 0) / c.length : null;
}
