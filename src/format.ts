/** How numbers are shown to people, in one place (tables, reports, console lines, messages). */

/** A fraction as a percentage with two decimals, no sign: 0.8123 → "81.23". */
export const pct = (fraction: number) => (100 * fraction).toFixed(2);

/** A difference in percentage points with its sign: 1.5 → "+1.50", n/a when there is none. */
export const signedPp = (delta: number | null) =>
  delta === null ? 'n/a' : `${delta >= 0 ? '+' : ''}${delta.toFixed(2)}`;

/** A count with thousands separators: 1234567 → "1,234,567". */
export const formatCount = (n: number) => n.toLocaleString('en-US');

/** Mean ± sample std of fractions in percent, `81.00 ± 1.41`; the mean alone when there is no std (one seed). */
export const formatMeanStd = (mean: number, std: number | null) =>
  std === null ? pct(mean) : `${pct(mean)} ± ${pct(std)}`;
