/**
 * `lcconv analyze`'s pictures, as vega-lite specs rendered by the report's one rendering path
 * (src/results/plots.ts: headless vega to SVG, resvg to PNG). Per run: filter pictures, LC weight
 * histograms, covariance spectra and energy per kernel position; per folder: sparsity and spatial
 * structure vs E and k.
 */
import { writeAtomic } from '../fs-safety.js';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, toPng } from '../results/plots.js';
import type { RunAnalysis } from './analyze.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FREEZE_COLORS = { domain: ['learned', 'frozen', 'shared'], range: ['#1f77b4', '#d62728', '#2ca02c'] };
const CELL = 7; // pixels per filter weight

/** Filter pictures: one panel per pictured layer (and its effective filters for an LC block). */
function filtersSpec(title: string, analysis: RunAnalysis): TopLevelSpec {
  const k = Math.max(...analysis.filterCells.map((c) => c.x)) + 1;
  const cols = Math.max(...analysis.filterCells.map((c) => c.col)) + 1;
  const rows = Math.max(...analysis.filterCells.map((c) => c.row)) + 1;
  return {
    $schema: SCHEMA,
    title: {
      text: title,
      subtitle: 'rows: input channels, columns: output channels; each filter scaled by its own largest |w|',
    },
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
      header: { labelFontSize: 11, labelLimit: 0 },
    },
    columns: 2,
    config: { view: { stroke: null } },
    spec: {
      width: cols * (k + 1) * CELL,
      height: rows * (k + 1) * CELL,
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

function lcHistogramSpec(title: string, analysis: RunAnalysis): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: 'LC 1×1 combination weights per layer: |w| relative to the layer’s largest' },
    data: { values: analysis.lcHistogram },
    facet: { field: 'layer', type: 'nominal', title: null },
    columns: 4,
    spec: {
      width: 160,
      height: 100,
      mark: { type: 'bar', color: '#555' },
      encoding: {
        x: { field: 'bin_start', type: 'quantitative', title: '|w| / max |w|', scale: { domain: [0, 1] } },
        x2: { field: 'bin_end' },
        y: { field: 'count', type: 'quantitative', title: 'weights' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

function spectrumSpec(title: string, analysis: RunAnalysis): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: {
      text: title,
      subtitle:
        'eigenvalues of the k²×k² covariance of the effective filters (share of the total), trained vs initialisation',
    },
    data: { values: analysis.spectra },
    // A log scale cannot show zero shares (rank-deficient filter sets): those points are left out.
    transform: [{ fold: ['trained', 'init'], as: ['weights', 'share'] }, { filter: 'datum.share > 0' }],
    facet: { field: 'layer', type: 'nominal', title: null },
    columns: 5,
    spec: {
      width: 130,
      height: 90,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'rank', type: 'quantitative', title: 'eigenvalue rank' },
        y: { field: 'share', type: 'quantitative', title: 'share', scale: { type: 'log' } },
        color: {
          field: 'weights',
          type: 'nominal',
          title: null,
          scale: { domain: ['trained', 'init'], range: ['#d62728', '#999999'] },
        },
      },
    },
  } as TopLevelSpec;
}

function energySpec(title: string, analysis: RunAnalysis): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: {
      text: title,
      subtitle: 'share of the effective filters’ energy Σw² at each kernel position (top: trained, bottom: init)',
    },
    data: { values: analysis.energy },
    transform: [{ fold: ['trained', 'init'], as: ['weights', 'share'] }],
    facet: {
      column: { field: 'layer', type: 'nominal', title: null, header: { labelAngle: -45, labelAlign: 'right' } },
      row: { field: 'weights', type: 'nominal', title: null, sort: ['trained', 'init'] },
    },
    spec: {
      width: 60,
      height: 60,
      mark: 'rect',
      encoding: {
        x: { field: 'x', type: 'ordinal', axis: null },
        y: { field: 'y', type: 'ordinal', axis: null },
        color: { field: 'share', type: 'quantitative', title: 'energy share', scale: { scheme: 'viridis' } },
      },
    },
  } as TopLevelSpec;
}

/** One point per run: a statistic vs E or k, mean line per freeze mode, one line per config group. */
function sweepSpec(
  title: string,
  rows: Record<string, unknown>[],
  y: string,
  yTitle: string,
  x: 'lc_expansion' | 'kernel_size',
  facet: 'lc_expansion' | 'kernel_size',
): TopLevelSpec {
  const names = { lc_expansion: 'LC expansion E', kernel_size: 'kernel size k' };
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows.filter((r) => r[y] !== null && r[y] !== undefined) },
    facet: { column: { field: facet, type: 'ordinal', title: names[facet] } },
    spec: {
      width: 200,
      height: 160,
      encoding: {
        x: { field: x, type: 'ordinal', title: names[x], axis: { labelAngle: 0 } },
        color: { field: 'freeze', type: 'nominal', scale: FREEZE_COLORS },
        detail: { field: 'group', type: 'nominal' },
      },
      layer: [
        {
          mark: { type: 'line' },
          encoding: { y: { aggregate: 'mean', field: y, type: 'quantitative', title: yTitle } },
        },
        { mark: { type: 'point', opacity: 0.6 }, encoding: { y: { field: y, type: 'quantitative', title: yTitle } } },
      ],
    },
  } as TopLevelSpec;
}

async function writeSpec(dir: string, name: string, spec: TopLevelSpec): Promise<string> {
  const svg = await renderSvg(spec);
  writeAtomic(join(dir, `${name}.svg`), svg);
  writeAtomic(join(dir, `${name}.png`), await toPng(svg));
  return join(dir, `${name}.svg`);
}

/** A run's pictures into `dir`; returns the SVG paths (PNG beside each). */
export async function writeRunPlots(dir: string, runId: string, analysis: RunAnalysis): Promise<string[]> {
  const written: string[] = [];
  if (analysis.filterCells.length)
    written.push(await writeSpec(dir, 'filters', filtersSpec(`Filters of ${runId}`, analysis)));
  if (analysis.lcHistogram.length)
    written.push(await writeSpec(dir, 'lc_weights', lcHistogramSpec(`LC weights of ${runId}`, analysis)));
  written.push(await writeSpec(dir, 'spectrum', spectrumSpec(`Filter covariance spectrum of ${runId}`, analysis)));
  written.push(await writeSpec(dir, 'energy', energySpec(`Energy per kernel position of ${runId}`, analysis)));
  return written;
}

/** A folder's comparison plots across runs (rows of runs.csv); skips a plot with nothing to draw. */
export async function writeSweepPlots(dir: string, rows: Record<string, unknown>[]): Promise<string[]> {
  const plots: [string, TopLevelSpec, string][] = [
    [
      'sparsity_vs_lc_expansion',
      sweepSpec(
        'Hoyer sparsity of the LC weights vs E (mean over LC layers)',
        rows,
        'lc_hoyer',
        'Hoyer sparsity',
        'lc_expansion',
        'kernel_size',
      ),
      'lc_hoyer',
    ],
    [
      'sparsity_vs_kernel_size',
      sweepSpec(
        'Hoyer sparsity of the LC weights vs k (mean over LC layers)',
        rows,
        'lc_hoyer',
        'Hoyer sparsity',
        'kernel_size',
        'lc_expansion',
      ),
      'lc_hoyer',
    ],
    [
      'effective_filters_vs_lc_expansion',
      sweepSpec(
        'Random filters each LC output effectively uses vs E',
        rows,
        'lc_effective_filters',
        'effective filters per output',
        'lc_expansion',
        'kernel_size',
      ),
      'lc_effective_filters',
    ],
    [
      'spectrum_vs_kernel_size',
      sweepSpec(
        'Effective rank of the filter covariance vs k (k² = i.i.d.)',
        rows,
        'effective_rank',
        'effective rank (1 … k²)',
        'kernel_size',
        'lc_expansion',
      ),
      'effective_rank',
    ],
    [
      'centre_energy_vs_kernel_size',
      sweepSpec(
        'Energy share at the kernel centre vs k (1/k² = uniform)',
        rows,
        'centre_energy',
        'centre energy share',
        'kernel_size',
        'lc_expansion',
      ),
      'centre_energy',
    ],
  ];
  const written: string[] = [];
  for (const [name, spec, field] of plots) {
    if (rows.some((r) => r[field] !== null && r[field] !== undefined)) written.push(await writeSpec(dir, name, spec));
  }
  return written;
}
