/**
 * eval.csv, the robustness evaluation of one run: its rows and how they are written and read. Free of
 * tfjs, so `lcconv report` reads evaluations without loading it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createObjectCsvStringifier } from 'csv-writer';
import { EVAL_FILE, writeAtomic } from '../runs/files.js';

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

export const EVAL_COLUMNS = [
  'metric',
  'name',
  'epsilon',
  'severity',
  'steps',
  'restarts',
  'accuracy',
  'n',
  'split',
  'seed',
] as const satisfies readonly (keyof EvalRow)[];

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
  const csv = createObjectCsvStringifier({ header: EVAL_COLUMNS.map((id) => ({ id, title: id })) });
  writeAtomic(file, csv.getHeaderString()! + csv.stringifyRecords(rows));
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
  const file = join(dir, EVAL_FILE);
  if (!existsSync(file)) return null;
  return parseEvalCsv(readFileSync(file, 'utf8'));
}

/** eval.csv has only numbers and plain names (no quoting needed): split on commas. */
export function parseEvalCsv(text: string): EvalRow[] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const columns = header!.split(',');
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return lines.map((line) => {
    const cells = Object.fromEntries(line.split(',').map((v, i) => [columns[i], v]));
    return {
      metric: cells.metric as EvalRow['metric'],
      name: cells.name!,
      epsilon: num(cells.epsilon),
      severity: num(cells.severity),
      steps: num(cells.steps),
      restarts: num(cells.restarts),
      accuracy: Number(cells.accuracy),
      n: Number(cells.n),
      split: cells.split as EvalRow['split'],
      seed: num(cells.seed),
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
