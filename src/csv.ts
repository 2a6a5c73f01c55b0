/**
 * The CSV files people open and plot (eval.csv, comparison.csv, robustness.csv): each column names
 * its unit, and numbers carry the precision that was measured instead of float noise
 * (`0.00392156862745098`, `-2.0299999999999985`).
 * - accuracies are written in percent, `<name>_pct`, with 2 decimals (4 decimals of the fraction:
 *   exact for up to 10,000 images);
 * - differences of accuracies are percentage points, `<name>_pp`, with 2 decimals;
 * - an L∞ radius is written as configured, in 255ths of the pixel range (`epsilon_linf_255ths`: 4
 *   means 4/255), an L2 radius in pixel units of a 0–1 image (`epsilon_l2_0to1`).
 */
import { createArrayCsvStringifier } from 'csv-writer';

export type Cell = string | number | boolean | null;

export interface CsvColumn<Row> {
  title: string;
  cell: (row: Row) => Cell;
}

/** A fraction as a percent cell, 2 decimals; blank for null. */
export const percentCell = (fraction: number | null): number | null =>
  fraction === null ? null : Number((100 * fraction).toFixed(2));

/** Percentage points, 2 decimals; blank for null. */
export const pointsCell = (points: number | null): number | null =>
  points === null ? null : Number(points.toFixed(2));

/** A setting (not a measurement) shown without float noise but not rounded: 12 significant digits. */
export const settingCell = (value: number | null): number | null =>
  value === null ? null : Number(value.toPrecision(12));

/** The two radius columns of an attack row: L∞ in 255ths of the pixel range, L2 in 0–1 pixel units. */
export const EPSILON_LINF_COLUMN = 'epsilon_linf_255ths';
export const EPSILON_L2_COLUMN = 'epsilon_l2_0to1';

/** The radius columns of a row whose `epsilon` is in 0–1 pixel units (as attacks use it). */
export function epsilonColumns<Row extends { name: string; epsilon: number | null }>(): CsvColumn<Row>[] {
  const l2 = (r: Row) => r.name === 'pgd_l2';
  return [
    { title: EPSILON_LINF_COLUMN, cell: (r) => (r.epsilon === null || l2(r) ? null : settingCell(r.epsilon * 255)) },
    { title: EPSILON_L2_COLUMN, cell: (r) => (r.epsilon === null || !l2(r) ? null : settingCell(r.epsilon)) },
  ];
}

/** The whole file: header and one line per row. */
export function csvText<Row>(columns: CsvColumn<Row>[], rows: Row[]): string {
  const csv = createArrayCsvStringifier({ header: columns.map((c) => c.title) });
  return csv.getHeaderString()! + csv.stringifyRecords(rows.map((r) => columns.map((c) => c.cell(r))));
}
