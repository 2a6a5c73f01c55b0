/**
 * `lcconv analyze`'s figures, drawn by the report's one rendering path (src/results/figure.ts: paper
 * sizes, SVG and PNG in one- and two-column widths). Per run: filter pictures, LC weight histograms,
 * covariance spectra and energy per kernel position; per folder: sparsity and spatial structure vs E
 * and k, one series per freeze mode (colour) and config group (shape).
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  type Figure,
  figureTitle,
  freezeColor,
  GROUP_SHAPES,
  type Layout,
  dodge,
  dodgedX,
  legendColumns,
  PANEL_PART_SEPARATOR,
  panelled,
  panelShape,
  VEGA_LITE_SCHEMA,
  writeFigures,
} from '../results/figure.js';
import type { RunAnalysis } from './analyze.js';

/** Layers in network order (the order analyze lists them), not alphabetical. */
const layerOrder = (rows: { layer: string }[]) => [...new Set(rows.map((r) => r.layer))];
/** A layer's panel label, its last name part on a line of its own (`stage1.block0 · conv1`), so panels stay narrow. */
const panelLabel = (layer: string) => layer.replace(/\.(?=[^.]*$)/, `.${PANEL_PART_SEPARATOR}`);
/** Rows with their panel label, and the labels in network order. */
function byLayer<T extends { layer: string }>(rows: T[]): { data: (T & { panel: string })[]; panels: string[] } {
  return { data: rows.map((r) => ({ ...r, panel: panelLabel(r.layer) })), panels: layerOrder(rows).map(panelLabel) };
}

/** Filter pictures: one panel per pictured layer (and its effective filters for an LC block). */
function filtersFigure(runId: string, analysis: RunAnalysis): Figure {
  const k = Math.max(...analysis.filterCells.map((c) => c.x)) + 1;
  const cols = Math.max(...analysis.filterCells.map((c) => c.col)) + 1;
  const rows = Math.max(...analysis.filterCells.map((c) => c.row)) + 1;
  const panels = [...new Set(analysis.filterCells.map((c) => c.panel))];
  return {
    name: 'filters',
    shape: { panels: panels.length, labels: panels, columns: { column: 2, wide: 4 }, aspect: rows / cols, margin: 60 },
    build: (layout) => filtersSpec(layout, runId, analysis, { k, cols, rows }),
  };
}

function filtersSpec(
  layout: Layout,
  runId: string,
  analysis: RunAnalysis,
  { k, cols, rows }: { k: number; cols: number; rows: number },
): TopLevelSpec {
  const cell = layout.panelWidth / (cols * (k + 1)); // points per filter weight
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: figureTitle(layout, `Filters of ${runId}`, [
      'Rows: input channels, columns: output channels; each filter scaled by its own largest |w|.',
    ]),
    data: { values: analysis.filterCells },
    transform: [
      { calculate: `datum.col * ${k + 1} + datum.x`, as: 'px' },
      { calculate: `datum.row * ${k + 1} + datum.y`, as: 'py' },
      { calculate: 'datum.px + 1', as: 'px2' },
      { calculate: 'datum.py + 1', as: 'py2' },
    ],
    facet: {
      field: 'panel',
      type: 'nominal',
      title: null,
      sort: [...new Set(analysis.filterCells.map((c) => c.panel))],
    },
    columns: layout.columns,
    spec: {
      view: { stroke: null },
      width: cols * (k + 1) * cell,
      height: rows * (k + 1) * cell,
      mark: { type: 'rect' },
      encoding: {
        x: { field: 'px', type: 'quantitative', axis: null, scale: { domain: [0, cols * (k + 1)] } },
        x2: { field: 'px2' },
        y: { field: 'py', type: 'quantitative', axis: null, scale: { domain: [0, rows * (k + 1)], reverse: true } },
        y2: { field: 'py2' },
        color: {
          field: 'value',
          type: 'quantitative',
          title: 'w / max|w|',
          scale: { scheme: 'redblue', domain: [-1, 1], reverse: true },
        },
      },
    },
  } as TopLevelSpec;
}

/**
 * LC 1×1 weights per layer as histograms (bars from 0, |w| relative to the layer's largest), one
 * panel per LC layer in network order; layers without LC weights get no panel.
 */
function lcWeightsFigure(runId: string, analysis: RunAnalysis): Figure | null {
  const totals = new Map<string, number>();
  for (const h of analysis.lcHistogram) totals.set(h.layer, (totals.get(h.layer) ?? 0) + h.count);
  const rows = analysis.lcHistogram.filter((h) => (totals.get(h.layer) ?? 0) > 0);
  if (rows.length === 0) return null;
  const { data, panels } = byLayer(rows);
  return {
    name: 'lc_weights',
    shape: { panels: panels.length, labels: panels, columns: { column: 3, wide: 5 }, aspect: 0.7 },
    build: (layout) =>
      ({
        $schema: VEGA_LITE_SCHEMA,
        title: figureTitle(layout, `LC weights of ${runId}`, [
          'Histogram of the 1×1 combination weights per LC layer: |w| relative to the layer’s largest; y axis from 0, per layer.',
        ]),
        data: { values: data },
        facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
        columns: layout.columns,
        spec: {
          width: layout.panelWidth,
          height: layout.panelHeight,
          mark: { type: 'rect', color: '#555', stroke: 'white', strokeWidth: 0.2 },
          encoding: {
            x: { field: 'bin_start', type: 'quantitative', title: '|w| / max |w|', scale: { domain: [0, 1] } },
            x2: { field: 'bin_end' },
            // y to y2 = 0: a bar from the axis (a `bar` with x and x2 is read as a horizontal range: floating dashes).
            y: { field: 'count', type: 'quantitative', title: 'weights', scale: { zero: true } },
            y2: { datum: 0 },
          },
        },
        resolve: { scale: { y: 'independent' } },
      }) as TopLevelSpec,
  };
}

/**
 * Eigenvalue spectra of each layer's k²×k² filter covariance: trained (solid, red, on top) against
 * the initialisation (dashed, grey, beneath), on a log y axis with a sparse grid.
 */
function spectrumFigure(runId: string, analysis: RunAnalysis): Figure {
  const { data, panels } = byLayer(analysis.spectra);
  return {
    name: 'spectrum',
    shape: { panels: panels.length, labels: panels, columns: { column: 3, wide: 5 } },
    build: (layout) =>
      ({
        $schema: VEGA_LITE_SCHEMA,
        title: figureTitle(layout, `Filter covariance spectrum of ${runId}`, [
          'Eigenvalues of the k²×k² covariance of the effective filters, as a share of the total (log axis): trained (solid) vs initialisation (dashed).',
        ]),
        data: { values: data },
        // A log scale cannot show zero shares (rank-deficient filter sets): those points are left out.
        transform: [{ fold: ['init', 'trained'], as: ['weights', 'share'] }, { filter: 'datum.share > 0' }],
        facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
        columns: layout.columns,
        spec: {
          width: layout.panelWidth,
          height: layout.panelHeight,
          mark: { type: 'line', point: { size: 8, filled: true }, strokeWidth: 1 },
          encoding: {
            x: { field: 'rank', type: 'quantitative', title: 'rank', axis: { tickMinStep: 1, format: 'd' } },
            y: {
              field: 'share',
              type: 'quantitative',
              title: 'share',
              scale: { type: 'log' },
              axis: { tickCount: 3, grid: false, format: '.0e' },
            },
            color: {
              field: 'weights',
              type: 'nominal',
              title: null,
              scale: { domain: ['trained', 'init'], range: ['#d62728', '#888888'] },
            },
            strokeDash: {
              field: 'weights',
              type: 'nominal',
              legend: null,
              scale: {
                domain: ['trained', 'init'],
                range: [
                  [1, 0],
                  [3, 2],
                ],
              },
            },
            order: { field: 'weights', type: 'nominal', sort: 'descending' }, // init drawn first, trained over it
          },
        },
      }) as TopLevelSpec,
  };
}

/** Energy per kernel position: per layer, the trained filters (left) beside the initial ones (right). */
function energyFigure(runId: string, analysis: RunAnalysis): Figure {
  const { data, panels } = byLayer(analysis.energy);
  const k = Math.max(...analysis.energy.map((e) => e.x)) + 1;
  return {
    name: 'energy',
    shape: {
      panels: panels.length,
      labels: panels,
      columns: { column: 3, wide: 6 },
      aspect: k / (2 * k + 1),
      margin: 50,
    },
    build: (layout) =>
      ({
        $schema: VEGA_LITE_SCHEMA,
        title: figureTitle(layout, `Energy per kernel position of ${runId}`, [
          'Share of the effective filters’ energy Σw² at each position: left trained, right initialisation.',
        ]),
        data: { values: data },
        transform: [
          { fold: ['trained', 'init'], as: ['weights', 'share'] },
          { calculate: `datum.x + (datum.weights === 'init' ? ${k + 1} : 0)`, as: 'px' },
        ],
        facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
        columns: layout.columns,
        spec: {
          width: layout.panelWidth,
          height: (layout.panelWidth * k) / (2 * k + 1),
          view: { stroke: null },
          mark: 'rect',
          encoding: {
            x: { field: 'px', type: 'ordinal', axis: null, scale: { domain: [...Array(2 * k + 1).keys()] } },
            y: { field: 'y', type: 'ordinal', axis: null },
            color: {
              field: 'share',
              type: 'quantitative',
              title: 'energy share',
              scale: { scheme: 'viridis', zero: true },
            },
          },
        },
      }) as TopLevelSpec,
  };
}

/**
 * One point per run: a statistic vs E or k, one panel per value of the other axis. Each freeze mode
 * (colour) and config group (shape: the keys in which groups differ, `config` in runs.csv) is its own
 * series with its mean line; series at one x are dodged side by side, so no mode hides another.
 */
function sweepFigure(
  name: string,
  title: string,
  origin: string,
  rows: Record<string, unknown>[],
  y: string,
  yTitle: string,
  x: 'lc_expansion' | 'kernel_size',
): Figure | null {
  const other = x === 'lc_expansion' ? 'kernel_size' : 'lc_expansion';
  const names = { lc_expansion: 'E', kernel_size: 'k' };
  const drawn = rows.filter((r) => r[y] !== null && r[y] !== undefined);
  if (drawn.length === 0) return null;
  const multi = new Set(drawn.map((r) => r[other])).size > 1;
  const configs = [...new Set(drawn.map((r) => String(r.config ?? '')))].sort();
  const { rows: data, xValues } = dodge(
    drawn.map((r) => ({
      ...r,
      freeze: String(r.freeze),
      config: String(r.config ?? ''),
      series: `${r.freeze}${r.config ? ` · ${r.config}` : ''}`,
      panel: multi ? `${names[other]}=${r[other]}` : '',
      [x]: Number(r[x]),
    })) as (Record<string, unknown> & { freeze: string; config: string; series: string; panel: string })[],
    x,
    (r) => r.series,
  );
  const shape =
    configs.length > 1
      ? {
          field: 'config',
          type: 'nominal',
          title: 'config',
          scale: { domain: configs, range: GROUP_SHAPES.slice(0, configs.length) },
        }
      : null;
  return {
    name,
    shape: panelShape(data),
    build: (layout) => {
      const xEnc = dodgedX(xValues, x === 'lc_expansion' ? 'LC expansion E' : 'kernel size k');
      const color = freezeColor(data);
      const yEnc = { field: y, type: 'quantitative', title: yTitle, scale: { zero: origin === '0' } };
      const view = {
        layer: [
          {
            mark: { type: 'line', strokeWidth: 1 },
            encoding: { x: xEnc, color, detail: { field: 'series' }, y: { ...yEnc, aggregate: 'mean' } },
          },
          {
            mark: { type: 'point', filled: true, size: 14, opacity: 0.75 },
            encoding: {
              x: xEnc,
              color,
              y: yEnc,
              ...(shape ? { shape: { ...shape, legend: { columns: legendColumns(configs, layout) } } } : {}),
            },
          },
        ],
      };
      const subtitle = `One point per run, line through the means of each freeze mode and config; y axis from ${origin}.`;
      return panelled(layout, figureTitle(layout, title, [subtitle]), data, view);
    },
  };
}

/** A run's pictures into `dir`, both widths; returns the one-column SVG paths (PNG beside each). */
export async function writeRunPlots(dir: string, runId: string, analysis: RunAnalysis): Promise<string[]> {
  return writeFigures(dir, runFigures(runId, analysis));
}

/** The figures of one run: filters (when pictured), LC weights (LC blocks), spectrum, energy. */
export function runFigures(runId: string, analysis: RunAnalysis): (Figure | null)[] {
  return [
    analysis.filterCells.length ? filtersFigure(runId, analysis) : null,
    lcWeightsFigure(runId, analysis),
    spectrumFigure(runId, analysis),
    energyFigure(runId, analysis),
  ];
}

/** The statistics compared across runs: runs.csv column, file-name stem, title, y-axis title. */
const SWEEP_STATISTICS = [
  {
    field: 'lc_hoyer',
    stem: 'sparsity',
    title: 'Hoyer sparsity of the LC weights',
    y: 'Hoyer sparsity (mean over LC layers)',
  },
  {
    field: 'lc_effective_filters',
    stem: 'effective_filters',
    title: 'Random filters each LC output effectively uses',
    y: 'effective filters per output',
  },
  {
    field: 'effective_rank',
    stem: 'spectrum',
    title: 'Effective rank of the filter covariance (k² = i.i.d.)',
    y: 'effective rank (1 … k²)',
  },
  {
    field: 'centre_energy',
    stem: 'centre_energy',
    title: 'Energy share at the kernel centre (1/k² = uniform)',
    y: 'centre energy share',
  },
] as const;

/**
 * The figures across a folder's runs (rows of runs.csv): each statistic against each of E and k that
 * varies among the runs that have it (against E at its one value when neither does, so the freeze
 * modes are still compared); a statistic no run has is left out.
 */
export function sweepFigures(rows: Record<string, unknown>[]): (Figure | null)[] {
  const axes = [
    { x: 'lc_expansion', name: 'E' },
    { x: 'kernel_size', name: 'k' },
  ] as const;
  return SWEEP_STATISTICS.flatMap((stat) => {
    const has = rows.filter((r) => r[stat.field] !== null && r[stat.field] !== undefined);
    if (has.length === 0) return [];
    const varying = axes.filter((a) => new Set(has.map((r) => r[a.x])).size > 1);
    return (varying.length ? varying : [axes[0]]).map((a) =>
      sweepFigure(`${stat.stem}_vs_${a.x}`, `${stat.title} vs ${a.name}`, '0', has, stat.field, stat.y, a.x),
    );
  });
}

/** A folder's comparison figures across runs, both widths; returns the one-column SVG paths. */
export async function writeSweepPlots(dir: string, rows: Record<string, unknown>[]): Promise<string[]> {
  return writeFigures(dir, sweepFigures(rows));
}
