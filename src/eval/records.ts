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
  n: number;
  /** 'test', or 'val' when the run held out val_split of its training images and used that instead. */
  split: 'test' | 'val';
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
] as const satisfies readonly (keyof EvalRow)[];

export function writeEvalCsv(file: string, rows: EvalRow[]): void {
  const csv = createObjectCsvStringifier({ header: EVAL_COLUMNS.map((id) => ({ id, title: id })) });
  writeAtomic(file, csv.getHeaderString()! + csv.stringifyRecords(rows));
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
