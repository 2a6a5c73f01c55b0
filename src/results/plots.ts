import {
  DASHES,
  panelled,
  panelShape,
  type Figure,
  figureTitle,
  freezeColor,
  GROUP_SHAPES,
  type Layout,
  dodge,
  dodgedX,
  legendColumns,
  PANEL_PART_SEPARATOR,
  writeFigures,
} from './figure.js';

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

const AXIS_TITLE: Record<Axis, string> = { kernel_size: 'kernel size k', lc_expansion: 'LC expansion E' };
const AXIS_SHORT: Record<Axis, string> = { kernel_size: 'k', lc_expansion: 'E' };

const distinct = <T>(values: T[]) => [...new Set(values)];
const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * Adds `panel`: the value of the other axis (k in a plot against E, E against k) when it has more
 * than one, e.g. `k=5`; '' otherwise. Config groups are not panels: they are told apart by shape.
 */
function withPanels<T extends { kernel_size: number; lc_expansion: number }>(rows: T[], other: Axis): Panelled<T>[] {
  const multi = distinct(rows.map((r) => r[other])).length > 1;
  return rows.map((r) => ({ ...r, panel: multi ? `${AXIS_SHORT[other]}=${r[other]}` : '' }));
}

/**
 * The panels of a plot against `x` that have something to draw against it (two or more x values);
 * the others are dropped and named, so a figure is not a row of single points.
 */
function panelsWithALine<T extends Panelled<Record<Axis, number>>>(
  rows: T[],
  x: Axis,
): { kept: T[]; dropped: string[] } {
  const xs = new Map<string, Set<number>>();
  for (const r of rows) xs.set(r.panel, (xs.get(r.panel) ?? new Set()).add(r[x]));
  const single = [...xs].filter(([, v]) => v.size < 2).map(([p]) => p);
  if (single.length === xs.size) return { kept: rows, dropped: [] }; // nothing varies anywhere: keep the points
  return { kept: rows.filter((r) => !single.includes(r.panel)), dropped: single.sort(byNumber) };
}

/** Shape per config group, with the label naming what differs; null with a single group. */
function groupShape(rows: { group: string }[], layout: Layout) {
  const groups = distinct(rows.map((r) => r.group)).sort(byNumber);
  if (groups.length < 2) return null;
  return {
    field: 'group',
    type: 'nominal',
    title: 'config',
    scale: { domain: groups, range: GROUP_SHAPES.slice(0, groups.length) },
    legend: { columns: legendColumns(groups, layout) },
  };
}

/** `2` when every arm has 2 seeds, else the range, e.g. `1–3`. */
function seedCounts(rows: RunKeys[]): string {
  const n = new Map<string, number>();
  for (const r of rows) {
    const key = [r.freeze, r.kernel_size, r.lc_expansion, r.group].join('|');
    n.set(key, (n.get(key) ?? 0) + 1);
  }
  const counts = [...n.values()];
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

/**
 * Final accuracy against k or E: the mean over seeds per freeze mode (colour) and config group
 * (shape), ± one sample std. The y axis starts at chance level when every run is above it (a dashed
 * rule; the subtitle says so), else at 0.
 */
function accuracyFigure(points: RunPoint[], x: Axis, accuracy: string): Figure | null {
  const other: Axis = x === 'kernel_size' ? 'lc_expansion' : 'kernel_size';
  const { kept, dropped } = panelsWithALine(withPanels(points, other), x);
  if (kept.length === 0) return null;
  // Freeze modes and config groups side by side at each x: equal accuracies never hide each other.
  const { rows, xValues } = dodge(kept, x, (r) => `${r.freeze}|${r.group}`);
  const chances = distinct(rows.map((r) => r.chance));
  const chance = chances.length === 1 ? chances[0]! : null;
  const fromChance = chance !== null && rows.every((r) => r.val_acc >= chance);
  const xEnc = dodgedX(xValues, AXIS_TITLE[x]);
  const yTitle = `final ${accuracy} (%)`;
  const y = { field: 'val_acc', type: 'quantitative', title: yTitle, scale: { domainMin: fromChance ? chance : 0 } };
  const color = freezeColor(rows);
  const series = { color, detail: { field: 'group' } };
  const shapeOf = (layout: Layout) => {
    const shape = groupShape(rows, layout);
    return shape ? { shape } : {};
  };
  return {
    name: `accuracy_vs_${x}`,
    shape: panelShape(rows),
    build: (layout) =>
      panelled(
        layout,
        figureTitle(layout, `Final ${accuracy} vs ${AXIS_TITLE[x]}`, [
          `Mean ± std over seeds (n = ${seedCounts(rows)}); y axis from ${fromChance ? `chance level (${chance} %, dashed)` : '0'}.`,
          ...(dropped.length ? [`Not drawn (a single ${AXIS_SHORT[x]}): ${dropped.join(', ')}.`] : []),
        ]),
        rows,
        {
          layer: [
            {
              mark: { type: 'line', strokeWidth: 1.2 },
              encoding: { x: xEnc, y: { ...y, aggregate: 'mean' }, ...series },
            },
            {
              mark: { type: 'point', filled: true, size: 30, opacity: 1 },
              encoding: { x: xEnc, y: { ...y, aggregate: 'mean' }, ...series, ...shapeOf(layout) },
            },
            { mark: { type: 'errorbar', extent: 'stdev', thickness: 1 }, encoding: { x: xEnc, y, ...series } },
            ...(fromChance
              ? [
                  {
                    mark: { type: 'rule', strokeDash: [3, 3], color: '#777', strokeWidth: 1 },
                    encoding: { y: { datum: chance, type: 'quantitative' } },
                  },
                ]
              : []),
          ],
        },
      ),
  };
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
 * the table (every arm with a standard-training baseline, also one whose own config group has no
 * learned run, e.g. a non-default k×k init), with the table's 95 % CI as error bars. Arms at the same
 * x are dodged side by side, so equal values never hide each other; n seeds per arm is in its legend
 * label. Arms without a baseline are named in the subtitle; the solid line is standard training
 * (Δ = 0); a dashed line marks chance level (an untrained net's Δ) where it is in view.
 */
function deltaFigure(deltas: DeltaPoint[], missing: string[], x: Axis, accuracy: string): Figure | null {
  if (deltas.length === 0) return null;
  const other: Axis = x === 'kernel_size' ? 'lc_expansion' : 'kernel_size';
  const rows = withPanels(
    deltas.map((d) => ({ ...d, series: `${d.arm}${LINE_BREAK}${d.group}`, n_label: `n=${d.n}` })),
    other,
  );
  const ns = distinct(rows.map((r) => r.n));
  const perPointN = ns.length > 1; // one n for all is said once, in the subtitle
  const series = distinct(rows.map((r) => r.series));
  const arms = distinct(rows.map((r) => r.arm));
  const xEnc = { field: x, type: 'ordinal', title: AXIS_TITLE[x], axis: { labelAngle: 0 } };
  const xOffset = { field: 'series', type: 'nominal', scale: { domain: series, paddingOuter: 0.3 } };
  const color = (layout: Layout) => ({
    field: 'arm',
    type: 'nominal',
    title: null,
    scale: { domain: arms, range: arms.map((_, i) => ARM_PALETTE[i % ARM_PALETTE.length]) },
    legend: { columns: legendColumns(arms, layout) },
  });
  const shapeOf = (layout: Layout) => {
    const shape = groupShape(rows, layout);
    return shape ? { shape } : {};
  };
  const yTitle = 'Δ vs standard (pp)';
  const y = { field: 'delta', type: 'quantitative', title: yTitle };
  // Chance level only where it does not squash the plot (it is far below every arm once trained).
  const lowest = Math.min(...rows.map((r) => r.low ?? r.delta), 0);
  const chanceInView = rows.filter((r) => r.chance_delta !== null && r.chance_delta >= lowest - 10);
  return {
    name: `delta_vs_${x}`,
    shape: panelShape(rows),
    build: (layout) =>
      panelled(
        layout,
        figureTitle(layout, `Δ ${accuracy} vs standard training, by ${AXIS_TITLE[x]}`, [
          `Percentage points vs learned filters at E = 1 (solid line); bars: 95 % CI over ${perPointN ? 'n seeds' : `n = ${ns[0]} seeds`}, as in the table; arms side by side.`,
          ...(chanceInView.length ? ['Dashed: chance level.'] : []),
          ...(missing.length ? [`No standard-training run, so not drawn: ${missing.join(', ')}.`] : []),
        ]),
        rows,
        {
          layer: [
            {
              mark: { type: 'rule', color: 'black', strokeWidth: 0.8 },
              encoding: { y: { datum: 0, type: 'quantitative' } },
            },
            {
              transform: [{ filter: 'datum.low != null' }],
              mark: { type: 'rule', strokeWidth: 1.2 },
              encoding: {
                x: xEnc,
                xOffset,
                color: color(layout),
                y: { field: 'low', type: 'quantitative', title: yTitle },
                y2: { field: 'high' },
              },
            },
            {
              mark: { type: 'point', filled: true, size: 28, opacity: 1 },
              encoding: { x: xEnc, xOffset, color: color(layout), y, ...shapeOf(layout) },
            },
            ...(perPointN
              ? [
                  {
                    mark: { type: 'text', dy: -7, fontSize: 6 },
                    encoding: {
                      x: xEnc,
                      xOffset,
                      color: color(layout),
                      y: { field: 'high', type: 'quantitative' },
                      text: { field: 'n_label' },
                    },
                  },
                ]
              : []),
            ...(chanceInView.length
              ? [
                  {
                    transform: [{ filter: `datum.chance_delta != null && datum.chance_delta >= ${lowest - 10}` }],
                    mark: { type: 'rule', color: '#777', strokeDash: [2, 2], strokeWidth: 1 },
                    encoding: {
                      x: { ...xEnc, bandPosition: 0.05 },
                      x2: { field: x, bandPosition: 0.95 },
                      y: { field: 'chance_delta', aggregate: 'mean', type: 'quantitative' },
                    },
                  },
                ]
              : []),
          ],
        },
      ),
  };
}

/** Joins arm and config group into one series name (never shown). */
const LINE_BREAK = ' | ';

/** Colours of the arms in the Δ plots (more than the three freeze modes: depthwise, inits, groups). */
const ARM_PALETTE = [
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#1f77b4',
  '#7f7f7f',
];

/**
 * Accuracy per evaluated epoch: one line per run, coloured by freeze mode, dashed by seed (so the
 * seeds of one arm are told apart), one panel per k, E and config group that varies.
 */
function curvesFigure(curves: CurvePoint[], accuracy: string): Figure {
  const vary = (f: keyof RunKeys) => distinct(curves.map((c) => c[f])).length > 1;
  const rows = curves.map((c) => ({
    ...c,
    seed: c.run.match(/seed(\d+)/)?.[1] ?? c.run,
    panel: [
      ...(vary('kernel_size') ? [`k=${c.kernel_size}`] : []),
      ...(vary('lc_expansion') ? [`E=${c.lc_expansion}`] : []),
      ...(vary('group') ? [c.group] : []),
    ].join(PANEL_PART_SEPARATOR),
  }));
  const seeds = distinct(rows.map((r) => r.seed)).sort(byNumber);
  return {
    name: 'training_curves',
    shape: { ...panelShape(rows), columns: { column: 2, wide: 4 }, aspect: 0.5 },
    build: (layout) =>
      panelled(
        layout,
        figureTitle(layout, `${accuracy[0]!.toUpperCase()}${accuracy.slice(1)} during training`, [
          'One line per run: colour = freeze mode, dash = seed; y axis from 0.',
        ]),
        rows,
        {
          mark: { type: 'line', point: { size: 10, filled: true }, strokeWidth: 1 },
          encoding: {
            x: {
              field: 'epoch',
              type: 'quantitative',
              title: 'epoch',
              axis: { tickMinStep: 1, format: 'd' },
              scale: { nice: false },
            },
            y: { field: 'val_acc', type: 'quantitative', title: `${accuracy} (%)`, scale: { zero: true } },
            color: freezeColor(curves),
            strokeDash: {
              field: 'seed',
              type: 'nominal',
              title: 'seed',
              scale: { domain: seeds, range: seeds.map((_, i) => DASHES[i % DASHES.length]) },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 1.2, symbolSize: 150 },
            },
            detail: { field: 'run', type: 'nominal' },
          },
        },
      ),
  };
}

/**
 * The figures that have something to show: accuracy and Δ vs k (when k varies) and vs E (when E
 * varies; Δ vs k also when neither does), and the training curves. Writes each in both widths, SVG
 * and PNG (figure.ts); returns the one-column SVG paths.
 */
export async function writePlots(
  dir: string,
  runs: RunPoint[],
  curves: CurvePoint[],
  accuracy = 'test accuracy',
  deltas: { points: DeltaPoint[]; missing: string[] } = { points: [], missing: [] },
): Promise<string[]> {
  return writeFigures(dir, reportFigures(runs, curves, accuracy, deltas));
}

/** The report's figures for these runs (null where there is nothing to show); writePlots draws them. */
export function reportFigures(
  runs: RunPoint[],
  curves: CurvePoint[],
  accuracy: string,
  deltas: { points: DeltaPoint[]; missing: string[] },
): (Figure | null)[] {
  const varies = (a: Axis) => distinct(runs.map((r) => r[a])).length > 1;
  return [
    varies('kernel_size') ? accuracyFigure(runs, 'kernel_size', accuracy) : null,
    varies('lc_expansion') ? accuracyFigure(runs, 'lc_expansion', accuracy) : null,
    varies('kernel_size') || !varies('lc_expansion')
      ? deltaFigure(deltas.points, deltas.missing, 'kernel_size', accuracy)
      : null,
    varies('lc_expansion') ? deltaFigure(deltas.points, deltas.missing, 'lc_expansion', accuracy) : null,
    curves.length ? curvesFigure(curves, accuracy) : null,
  ];
}
