/**
 * The report's plots, as vega-lite specs compiled to vega and rendered headless (a vega View with
 * renderer 'none' → SVG string), then rasterised to PNG with resvg.
 *
 * Runs of different config groups are never pooled: every plot gets one panel per combination of
 * the variables that have more than one value (config group, and k or E where they are not the x
 * axis), labelled by the keys the group differs in. A variable with one value gets no panel, a
 * freeze mode without runs no legend entry.
 */
import { writeAtomic } from '../fs-safety.js';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

/** One finished run's final accuracy (a point of the accuracy and Δ plots). */
/** What identifies a run's points in a plot: the run, its arm and its config group. */
export interface RunKeys {
  run: string;
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  /** The group's label (groupLabels): '' when every run shares one config. */
  group: string;
}

export interface RunPoint extends RunKeys {
  seed: number;
  val_acc: number; // percent
  chance: number | null; // percent, 100 / classes; null when unknown
}

/** One evaluated epoch of one run (a point of the training curves). */
export interface CurvePoint extends RunKeys {
  epoch: number;
  val_acc: number; // percent
  train_acc: number; // percent
}

type Axis = 'kernel_size' | 'lc_expansion';
type Panelled<T> = T & { panel: string };

const FREEZE_ORDER = ['learned', 'frozen', 'shared'];
const FREEZE_COLOR: Record<string, string> = { learned: '#1f77b4', frozen: '#d62728', shared: '#2ca02c' };
const AXIS_TITLE: Record<Axis, string> = { kernel_size: 'kernel size k', lc_expansion: 'LC expansion E' };
const AXIS_SHORT: Record<Axis, string> = { kernel_size: 'k', lc_expansion: 'E' };
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const distinct = <T>(values: T[]) => [...new Set(values)];

/** Colour by freeze mode, with only the modes that have runs in the legend (fixed order and colours). */
function freezeColor(rows: { freeze: string }[], title = 'freeze') {
  const present = FREEZE_ORDER.filter((f) => rows.some((r) => r.freeze === f));
  const other = distinct(rows.map((r) => r.freeze)).filter((f) => !FREEZE_ORDER.includes(f));
  const domain = [...present, ...other];
  return {
    field: 'freeze',
    type: 'nominal' as const,
    title,
    scale: { domain, range: domain.map((f) => FREEZE_COLOR[f] ?? '#7f7f7f') },
  };
}

/**
 * Adds `panel`: the values of the multi-valued variables among `vars` (k, E, config group), e.g.
 * `E=4 · train.epochs=1`; '' when all of them are single-valued (then the plot has no panels).
 */
function withPanels<T extends { kernel_size: number; lc_expansion: number; group: string }>(
  rows: T[],
  vars: (Axis | 'group')[],
): Panelled<T>[] {
  const multi = vars.filter((v) => distinct(rows.map((r) => r[v])).length > 1);
  return rows.map((r) => ({
    ...r,
    panel: multi.map((v) => (v === 'group' ? r.group : `${AXIS_SHORT[v]}=${r[v]}`)).join(' · '),
  }));
}

/** A single chart, or one panel per distinct `panel` value (wrapped, three per row). */
function panelled(
  title: string | { text: string; subtitle: string[] },
  rows: Panelled<object>[],
  inner: Record<string, unknown>,
): TopLevelSpec {
  const panels = distinct(rows.map((r) => r.panel)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const base = { $schema: SCHEMA, title, data: { values: rows }, config: { title: { anchor: 'start' } } };
  if (panels.length <= 1) return { ...base, ...inner } as TopLevelSpec;
  return {
    ...base,
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelLimit: 0, labelFontSize: 11 } },
    columns: Math.min(panels.length, 3),
    spec: inner,
  } as unknown as TopLevelSpec;
}

/** Mean line with points, ± one sample std as error bars, `n=` at each mean. */
function meanWithSpread(
  x: Record<string, unknown>,
  field: string,
  yTitle: string,
  color: Record<string, unknown>,
  groupby: string[],
): Record<string, unknown>[] {
  const y = { field, type: 'quantitative', title: yTitle, scale: { zero: false } };
  return [
    { mark: { type: 'line', point: true }, encoding: { x, color, y: { ...y, aggregate: 'mean' } } },
    { mark: { type: 'errorbar', thickness: 1.5, extent: 'stdev' }, encoding: { x, color, y } },
    {
      transform: [
        {
          aggregate: [
            { op: 'mean', field, as: 'mean' },
            { op: 'count', as: 'n' },
          ],
          groupby,
        },
        { calculate: "'n=' + datum.n", as: 'n_label' },
      ],
      mark: { type: 'text', dx: 14, dy: -8, fontSize: 9 },
      encoding: { x, color, y: { field: 'mean', type: 'quantitative' }, text: { field: 'n_label' } },
    },
  ];
}

/** Final accuracy against k or E: one line per freeze mode, chance level dashed. */
function accuracySpec(points: RunPoint[], x: Axis, accuracy: string): TopLevelSpec {
  const other: Axis = x === 'kernel_size' ? 'lc_expansion' : 'kernel_size';
  const rows = withPanels(points, [other, 'group']);
  const xEnc = { field: x, type: 'ordinal', title: AXIS_TITLE[x], axis: { labelAngle: 0 } };
  return panelled(
    {
      text: `Final ${accuracy} vs ${AXIS_TITLE[x]}`,
      subtitle: ['mean ± std over seeds, n seeds per point', 'dashed: chance level'],
    },
    rows,
    {
      width: 220,
      height: 200,
      layer: [
        ...meanWithSpread(xEnc, 'val_acc', `final ${accuracy} (%)`, freezeColor(points), [x, 'freeze', 'panel']),
        {
          transform: [{ filter: 'datum.chance != null' }],
          mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
          encoding: { y: { field: 'chance', aggregate: 'mean', type: 'quantitative' } },
        },
      ],
    },
  );
}

/**
 * One arm of the comparison table as the Δ plots draw it: its Δ vs standard training and the 95 %
 * CI, exactly as the table has them (comparison.ts), so the plot and the table never disagree.
 */
export interface DeltaPoint {
  arm: string; // the table's label: freeze mode, plus depthwise or a non-default k×k init
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  group: string;
  n: number; // seeds
  delta: number; // percentage points vs standard training
  low: number | null; // 95 % CI; null with a single seed
  high: number | null;
  chance_delta: number | null; // chance level minus standard training's mean, pp
}

/**
 * Δ accuracy vs standard training (the paper's main quantity) against k or E, one point per arm of
 * the table (every arm that has a standard-training baseline, including those whose own config
 * group has no learned run, e.g. a non-default k×k init), with the table's 95 % CI as error bars and
 * n. Arms without a baseline are named in the subtitle. The solid line is standard training (Δ = 0);
 * ticks mark chance level (an untrained net's Δ).
 */
function deltaSpec(deltas: DeltaPoint[], missing: string[], x: Axis, accuracy: string): TopLevelSpec | null {
  if (deltas.length === 0) return null;
  const other: Axis = x === 'kernel_size' ? 'lc_expansion' : 'kernel_size';
  const rows = withPanels(
    deltas.map((d) => ({ ...d, n_label: `n=${d.n}` })),
    [other, 'group'],
  );
  const xEnc = { field: x, type: 'ordinal', title: AXIS_TITLE[x], axis: { labelAngle: 0 } };
  const arms = distinct(deltas.map((d) => d.arm));
  const color = { field: 'arm', type: 'nominal', title: 'arm', scale: { domain: arms }, legend: { labelLimit: 0 } };
  const y = { field: 'delta', type: 'quantitative', title: `Δ ${accuracy} vs standard (pp)`, scale: { zero: false } };
  return panelled(
    {
      text: `Δ ${accuracy} vs standard training, by ${AXIS_TITLE[x]}`,
      subtitle: [
        'percentage points vs learned filters with E = 1; bars: 95 % CI over seeds (as in the table), n seeds per point',
        'solid line: standard training; ticks: chance level',
        ...(missing.length ? [`no standard-training run, so not drawn: ${missing.join(', ')}`] : []),
      ],
    },
    rows,
    {
      width: 220,
      height: 200,
      layer: [
        { mark: { type: 'rule', color: 'black', strokeWidth: 1 }, encoding: { y: { datum: 0, type: 'quantitative' } } },
        { mark: { type: 'line', point: true }, encoding: { x: xEnc, color, y, detail: { field: 'arm' } } },
        {
          transform: [{ filter: 'datum.low != null' }],
          mark: { type: 'errorbar', thickness: 1.5, ticks: true },
          encoding: {
            x: xEnc,
            color,
            y: { field: 'low', type: 'quantitative', title: y.title },
            y2: { field: 'high' },
          },
        },
        {
          mark: { type: 'text', dx: 14, dy: -8, fontSize: 9 },
          encoding: { x: xEnc, color, y, text: { field: 'n_label' } },
        },
        {
          transform: [{ filter: 'datum.chance_delta != null' }],
          mark: { type: 'tick', color: 'gray', thickness: 1.5, size: 40 },
          encoding: { x: xEnc, y: { field: 'chance_delta', aggregate: 'mean', type: 'quantitative' } },
        },
      ],
    },
  );
}

/** Accuracy per evaluated epoch, one line (with points, so a one-epoch run shows) per run. */
function curvesSpec(curves: CurvePoint[], accuracy: string): TopLevelSpec {
  const rows = withPanels(curves, ['kernel_size', 'lc_expansion', 'group']);
  return panelled(`${accuracy[0]!.toUpperCase()}${accuracy.slice(1)} during training (one line per run)`, rows, {
    width: 260,
    height: 180,
    mark: { type: 'line', point: { size: 20 }, strokeWidth: 1.5, opacity: 0.8 },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        axis: { tickMinStep: 1, format: 'd' },
        scale: { nice: false },
      },
      y: { field: 'val_acc', type: 'quantitative', title: `${accuracy} (%)`, scale: { zero: false } },
      color: freezeColor(curves),
      detail: { field: 'run', type: 'nominal' },
    },
  });
}

/** Renders a vega-lite spec headless to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function toPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = (await import('@resvg/resvg-js')).default;
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } })
    .render()
    .asPng();
}

/**
 * The plots that have something to show: accuracy and Δ vs k (when k varies) and vs E (when E
 * varies; Δ vs k also when neither does), and the training curves. Writes `<name>.svg` and
 * `<name>.png` into `dir`; returns the SVG paths.
 */
export async function writePlots(
  dir: string,
  runs: RunPoint[],
  curves: CurvePoint[],
  accuracy = 'test accuracy',
  deltas: { points: DeltaPoint[]; missing: string[] } = { points: [], missing: [] },
): Promise<string[]> {
  const varies = (a: Axis) => distinct(runs.map((r) => r[a])).length > 1;
  const plots: [string, TopLevelSpec | null][] = [];
  if (varies('kernel_size')) plots.push(['accuracy_vs_kernel_size', accuracySpec(runs, 'kernel_size', accuracy)]);
  if (varies('lc_expansion')) plots.push(['accuracy_vs_lc_expansion', accuracySpec(runs, 'lc_expansion', accuracy)]);
  if (varies('kernel_size') || !varies('lc_expansion'))
    plots.push(['delta_vs_kernel_size', deltaSpec(deltas.points, deltas.missing, 'kernel_size', accuracy)]);
  if (varies('lc_expansion'))
    plots.push(['delta_vs_lc_expansion', deltaSpec(deltas.points, deltas.missing, 'lc_expansion', accuracy)]);
  if (curves.length) plots.push(['training_curves', curvesSpec(curves, accuracy)]);
  return writeSpecs(dir, plots);
}

/** Renders each named spec (null: nothing to show) to `<name>.svg` and `<name>.png` in `dir`; returns the SVG paths. */
export async function writeSpecs(dir: string, plots: [string, TopLevelSpec | null][]): Promise<string[]> {
  const written: string[] = [];
  for (const [name, spec] of plots) {
    if (!spec) continue;
    const svg = await renderSvg(spec);
    writeAtomic(join(dir, `${name}.svg`), svg);
    writeAtomic(join(dir, `${name}.png`), await toPng(svg));
    written.push(join(dir, `${name}.svg`));
  }
  return written;
}
