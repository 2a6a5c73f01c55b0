/**
 * The report's plots, as vega-lite specs compiled to vega and rendered headless (a vega View with
 * renderer 'none' → SVG string), then rasterised to PNG with resvg. The accuracy plots aggregate
 * by freeze, k and E only: runs of a sweep over another key (width, lr, …) are pooled there, while
 * report.csv keeps them apart by config group; the training curves draw every run on its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

/** One finished run's final accuracy (a point of the accuracy plots). */
export interface RunPoint {
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  seed: number;
  val_acc: number; // percent
}

/** One evaluated epoch of one run (a point of the training curves). */
export interface CurvePoint {
  run: string;
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  epoch: number;
  val_acc: number; // percent
  train_acc: number; // percent
}

const FREEZE_COLORS = { domain: ['learned', 'frozen', 'shared'], range: ['#1f77b4', '#d62728', '#2ca02c'] };

/** Mean over seeds as a line with points, ± one sample std as error bars, one colour per freeze mode. */
function accuracySpec(title: string, rows: RunPoint[], x: 'kernel_size' | 'lc_expansion', xTitle: string, facet: 'kernel_size' | 'lc_expansion', facetTitle: string): TopLevelSpec {
  const enc = {
    x: { field: x, type: 'ordinal' as const, title: xTitle, axis: { labelAngle: 0 } },
    color: { field: 'freeze', type: 'nominal' as const, title: 'freeze', scale: FREEZE_COLORS },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows },
    facet: { column: { field: facet, type: 'ordinal', title: facetTitle } },
    spec: {
      width: 220,
      height: 200,
      encoding: enc,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { y: { aggregate: 'mean', field: 'val_acc', type: 'quantitative', title: 'final val accuracy (%)', scale: { zero: false } } } },
        { mark: { type: 'errorbar', thickness: 1.5, extent: 'stdev' }, encoding: { y: { field: 'val_acc', type: 'quantitative', title: 'final val accuracy (%)' } } },
      ],
    },
    resolve: { scale: { y: 'shared' } },
  } as TopLevelSpec;
}

function curvesSpec(rows: CurvePoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Validation accuracy during training (one line per run)',
    data: { values: rows },
    facet: { column: { field: 'kernel_size', type: 'ordinal', title: 'kernel size k' }, row: { field: 'lc_expansion', type: 'ordinal', title: 'LC expansion E' } },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'val_acc', type: 'quantitative', title: 'val accuracy (%)' },
        color: { field: 'freeze', type: 'nominal', title: 'freeze', scale: FREEZE_COLORS },
        detail: { field: 'run', type: 'nominal' },
      },
    },
  } as TopLevelSpec;
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
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}

/** Writes the three plots as `<name>.svg` and `<name>.png` into `dir`; returns the SVG paths. */
export async function writePlots(dir: string, runs: RunPoint[], curves: CurvePoint[]): Promise<string[]> {
  const plots: [string, TopLevelSpec][] = [
    ['accuracy_vs_kernel_size', accuracySpec('Final accuracy vs kernel size (mean ± std over seeds)', runs, 'kernel_size', 'kernel size k', 'lc_expansion', 'LC expansion E')],
    ['accuracy_vs_lc_expansion', accuracySpec('Final accuracy vs LC expansion (mean ± std over seeds)', runs, 'lc_expansion', 'LC expansion E', 'kernel_size', 'kernel size k')],
    ['training_curves', curvesSpec(curves)],
  ];
  const written: string[] = [];
  for (const [name, spec] of plots) {
    const svg = await renderSvg(spec);
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.png`), await toPng(svg));
    written.push(join(dir, `${name}.svg`));
  }
  return written;
}
