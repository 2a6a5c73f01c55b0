/**
 * The one way lcconv draws a figure, for `report` and `analyze` alike: a vega-lite spec compiled to
 * vega, rendered headless to SVG, rasterised to PNG with resvg, in one house style sized for a paper.
 *
 * Sizes: one SVG pixel is one point (1/72 in), so the fonts below print at their size. Each figure is
 * made in two widths, `<name>` for one paper column (at most 3.5 in) and `<name>.wide` for two
 * columns (at most 7 in); the SVG states its physical size (in pt) and the PNG is drawn at 300 dpi,
 * so a 3.5 in figure is 1,050 px wide. A spec is built for a width (its panels per row and panel
 * width), rendered, measured, and rebuilt once with the panel width corrected when it overflows or
 * leaves room, so long labels or legends do not push a figure past its column.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeAtomic } from '../fs-safety.js';

export type FigureWidth = 'column' | 'wide';

/** Largest width of each variant in inches, and the file-name suffix. */
export const FIGURE_WIDTHS: Record<FigureWidth, { inches: number; suffix: string }> = {
  column: { inches: 3.5, suffix: '' },
  wide: { inches: 7, suffix: '.wide' },
};
/** The vega-lite version every figure's spec is written for. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const POINTS_PER_INCH = 72;
export const PNG_DPI = 300;
const CSS_PIXELS_PER_INCH = 96;

/** What a spec builder gets: the width in points it must fit, panels per row and the width of one panel. */
export interface Layout {
  width: FigureWidth;
  points: number;
  /** Panels per row for a faceted figure. */
  columns: number;
  /** Width of one panel (one view), in points. */
  panelWidth: number;
  /** Height of one panel, in points. */
  panelHeight: number;
  /** The narrowest a panel may be made (its header label's width). */
  minPanelWidth: number;
}

/** Separates the parts of a panel label (figure builders join k, E and config with it). */
export const PANEL_PART_SEPARATOR = ' · ';

/** Font sizes in points as printed, and the house style of every figure (legends below the plot, titles at the left). */
const FONT = { title: 9, subtitle: 7, label: 7, axisTitle: 7.5, header: 7.5 };
export const HOUSE_CONFIG = {
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  title: {
    anchor: 'start',
    frame: 'bounds',
    fontSize: FONT.title,
    subtitleFontSize: FONT.subtitle,
    subtitleColor: '#333',
    offset: 4,
  },
  axis: { labelFontSize: FONT.label, titleFontSize: FONT.axisTitle, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  // A panel label `k=3 · E=1 · train.epochs=4` is drawn one part per line, so it stays over its panel.
  header: {
    labelFontSize: FONT.header,
    titleFontSize: FONT.header,
    labelLimit: 0,
    labelPadding: 2,
    titlePadding: 2,
    labelExpr: `split(datum.label, '${PANEL_PART_SEPARATOR}')`,
  },
  legend: {
    orient: 'bottom',
    direction: 'horizontal',
    labelFontSize: FONT.label,
    titleFontSize: FONT.axisTitle,
    titleFontWeight: 'normal',
    labelLimit: 0,
    columns: 4,
    symbolSize: 40,
    offset: 6,
    padding: 0,
    rowPadding: 2,
    titlePadding: 2,
    // Several legends (freeze colour, config shape) stack below the plot instead of side by side.
    layout: { bottom: { anchor: 'start', direction: 'vertical', margin: 4 } },
  },
  facet: { spacing: 8 },
  concat: { spacing: 8 },
  view: { stroke: '#bbb' },
  text: { fontSize: 6.5 },
} as const;

/**
 * Headless vega (no canvas) estimates a text's width as 0.8 em per character, and lays the figure out
 * by that estimate; lines are wrapped by the same rule so the layout keeps to the width.
 */
const EM_PER_CHAR = 0.8;
const charsPerLine = (points: number, fontSize: number) => Math.floor(points / (EM_PER_CHAR * fontSize));

/**
 * Breaks `text` into lines of at most `max` characters, at spaces; a longer word (a run id) is broken
 * after a hyphen, or anywhere when it has none.
 */
export function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((w) => breakWord(w, max))) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A word in pieces of at most `max` characters, each ending at a hyphen where one is near. */
function breakWord(word: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  while (rest.length > max) {
    const hyphen = rest.lastIndexOf('-', max - 1);
    const cut = hyphen >= max / 3 ? hyphen + 1 : max;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return [...pieces, rest];
}

/** Points a title line keeps free of the width (vega pads the title group). */
const TITLE_SLACK = 12;

/** A title with its subtitle lines, each wrapped to the figure's width. */
export function figureTitle(layout: Layout, text: string, subtitle: string[] = []) {
  return {
    text: wrapText(text, charsPerLine(layout.points - TITLE_SLACK, FONT.title)),
    subtitle: subtitle.flatMap((s) => wrapText(s, charsPerLine(layout.points - TITLE_SLACK, FONT.subtitle))),
  };
}

/** Legend columns that fit `labels` across the figure's width (entries are laid out in a grid below the plot). */
export function legendColumns(labels: string[], layout: Layout): number {
  const longest = Math.max(1, ...labels.map((l) => l.length));
  const entry = longest * EM_PER_CHAR * FONT.label + 30; // text, symbol and gap
  return Math.max(1, Math.min(4, Math.floor((layout.points - 40) / entry)));
}

// ---- colours shared by every figure: one per freeze mode, in a fixed order

export const FREEZE_ORDER = ['learned', 'frozen', 'shared'];
export const FREEZE_COLOR: Record<string, string> = { learned: '#1f77b4', frozen: '#d62728', shared: '#2ca02c' };
/** Dash patterns for lines told apart by dash (seeds, config groups), solid first. */
export const DASHES = [
  [1, 0],
  [4, 2],
  [1, 1.5],
  [6, 2, 1, 2],
  [2, 3],
];
/** Shapes for config groups (a second channel beside the freeze colour). */
export const GROUP_SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'wedge'];

/** Colour by freeze mode; only the modes present are in the scale (and so in the legend). */
export function freezeColor(rows: { freeze: string }[], title: string | null = 'freeze') {
  const present = FREEZE_ORDER.filter((f) => rows.some((r) => r.freeze === f));
  const other = [...new Set(rows.map((r) => r.freeze))].filter((f) => !FREEZE_ORDER.includes(f));
  const domain = [...present, ...other];
  return {
    field: 'freeze',
    type: 'nominal' as const,
    title,
    scale: { domain, range: domain.map((f) => FREEZE_COLOR[f] ?? '#7f7f7f') },
  };
}

// ---- rendering

/** Renders a vega-lite spec headless to an SVG string whose size is stated in points. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return inPoints(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** The root's width and height in points (vega writes bare numbers, which readers take as CSS pixels). */
function inPoints(svg: string): string {
  return svg.replace(/^<svg([^>]*?) width="([\d.]+)" height="([\d.]+)"/, '<svg$1 width="$2pt" height="$3pt"');
}

/** The natural width and height of a rendered SVG, in points. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*? width="([\d.]+)(?:pt)?" height="([\d.]+)(?:pt)?"/.exec(svg);
  if (!m) throw new Error('not an SVG with a width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

export async function toPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = (await import('@resvg/resvg-js')).default;
  return new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: PNG_DPI / CSS_PIXELS_PER_INCH }, // resvg reads pt as 96/72 px
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}

/**
 * How a figure is laid out in each width: panels per row (`columns`: the column and the wide
 * variant) and the height/width ratio of a panel. `panels` is the number of panels (1 = not faceted).
 */
export interface FigureShape {
  panels: number;
  columns?: { column: number; wide: number };
  aspect?: number;
  /** Points beside the panels per row (y axis, its title): the first guess, corrected after a render. */
  margin?: number;
  /** The panels' header labels: a panel is at least as wide as its longest label line, so rows hold fewer panels. */
  labels?: string[];
}

/** Panels lower than this leave no room for axis ticks and push the y title past the panel. */
const MIN_PANEL_HEIGHT = 70;
const MIN_PANEL_WIDTH = 50;

function firstLayout(width: FigureWidth, shape: FigureShape): Layout {
  const points = FIGURE_WIDTHS[width].inches * POINTS_PER_INCH;
  const defaults = { column: 2, wide: 4 };
  const margin = shape.margin ?? 45;
  const longest = Math.max(
    0,
    ...(shape.labels ?? []).flatMap((l) => l.split(PANEL_PART_SEPARATOR).map((p) => p.length)),
  );
  const labelWidth = longest * EM_PER_CHAR * FONT.header;
  const fit = Math.floor((points - margin + HOUSE_CONFIG.facet.spacing) / (labelWidth + HOUSE_CONFIG.facet.spacing));
  const columns = Math.max(1, Math.min(shape.panels, (shape.columns ?? defaults)[width], fit));
  const panelWidth = Math.max(40, (points - margin - (columns - 1) * HOUSE_CONFIG.facet.spacing) / columns);
  return {
    width,
    points,
    columns,
    panelWidth: Math.max(panelWidth, labelWidth),
    panelHeight: Math.max(MIN_PANEL_HEIGHT, panelWidth * (shape.aspect ?? 0.75)),
    minPanelWidth: Math.max(MIN_PANEL_WIDTH, labelWidth),
  };
}

/**
 * Builds, renders and fits one variant: a render wider than the width (or narrower by more than 5 %)
 * is rebuilt once with each panel narrowed (or widened) by its share of the difference.
 */
export async function fitFigure(
  width: FigureWidth,
  shape: FigureShape,
  build: (layout: Layout) => TopLevelSpec,
): Promise<{ svg: string; layout: Layout }> {
  let layout = firstLayout(width, shape);
  let svg = await renderSvg({ ...build(layout), config: HOUSE_CONFIG } as unknown as TopLevelSpec);
  for (let attempt = 0; attempt < 5; attempt++) {
    const excess = svgSize(svg).width - layout.points;
    if (excess <= 0 && excess > -0.05 * layout.points) break;
    let panelWidth = layout.panelWidth - (excess + (excess > 0 ? 2 : 0)) / layout.columns;
    let { columns } = layout;
    if (panelWidth < layout.minPanelWidth) {
      if (columns === 1) break; // one panel at its narrowest: the test names what overflows
      // Fewer panels per row: each gets the row's share of what is left beside the panels.
      const beside = svgSize(svg).width - columns * layout.panelWidth;
      columns -= 1;
      panelWidth = Math.max(layout.minPanelWidth, (layout.points - beside * (columns / (columns + 1))) / columns);
    }
    if (Math.abs(panelWidth - layout.panelWidth) < 0.5 && columns === layout.columns) break;
    const scale = panelWidth / layout.panelWidth;
    layout = {
      ...layout,
      columns,
      panelWidth,
      panelHeight: Math.max(MIN_PANEL_HEIGHT, layout.panelHeight * Math.min(1, scale)),
    };
    svg = await renderSvg({ ...build(layout), config: HOUSE_CONFIG } as unknown as TopLevelSpec);
  }
  return { svg, layout };
}

/** A figure to write: its file name (no extension), its shape, and its spec for a layout; null: nothing to show. */
export interface Figure {
  name: string;
  shape: FigureShape;
  build: (layout: Layout) => TopLevelSpec;
}

/**
 * Writes each figure in both widths, SVG and PNG: `<name>.svg/.png` (one column) and
 * `<name>.wide.svg/.png` (two columns). Returns the one-column SVG paths.
 */
export async function writeFigures(dir: string, figures: (Figure | null)[]): Promise<string[]> {
  const written: string[] = [];
  for (const figure of figures) {
    if (!figure) continue;
    for (const width of ['column', 'wide'] as const) {
      const { svg } = await fitFigure(width, figure.shape, figure.build);
      const base = join(dir, `${figure.name}${FIGURE_WIDTHS[width].suffix}`);
      writeAtomic(`${base}.svg`, svg);
      writeAtomic(`${base}.png`, await toPng(svg));
      if (width === 'column') written.push(`${base}.svg`);
    }
  }
  return written;
}

// ---- dodging: series side by side at each x, so equal values never hide each other

/**
 * Places each row at `x_pos`: the index of its x value plus a small offset per series, so the series
 * at one x sit side by side (lines and points alike; vega-lite's xOffset moves points but not lines).
 * `dodgedX` is the matching x encoding, labelled with the x values themselves.
 */
export function dodge<T extends object>(
  rows: T[],
  x: keyof T & string,
  series: (row: T) => string,
): { rows: (T & { x_pos: number })[]; xValues: number[] } {
  const xValues = [...new Set(rows.map((r) => Number(r[x])))].sort((a, b) => a - b);
  const names = [...new Set(rows.map(series))].sort();
  const width = Math.min(0.5, 0.12 * names.length); // the spread of one x's series, in units of the x spacing
  const offset = (name: string) =>
    names.length < 2 ? 0 : -width / 2 + (width * names.indexOf(name)) / (names.length - 1);
  return {
    rows: rows.map((r) => ({ ...r, x_pos: xValues.indexOf(Number(r[x])) + offset(series(r)) })),
    xValues,
  };
}

export function dodgedX(xValues: number[], title: string) {
  return {
    field: 'x_pos',
    type: 'quantitative',
    title,
    scale: { domain: [-0.5, xValues.length - 0.5], nice: false, zero: false },
    axis: {
      values: xValues.map((_, i) => i),
      labelExpr: `${JSON.stringify(xValues.map(String))}[datum.value]`,
      grid: false,
    },
  };
}

// ---- panels: one view, or a facet per distinct `panel` value

const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The figure shape of rows with a `panel` label: how many panels, and their labels (a panel is as wide as its label). */
export function panelShape(rows: { panel: string }[]): { panels: number; labels: string[] } {
  const labels = [...new Set(rows.map((r) => r.panel))];
  return { panels: Math.max(1, labels.length), labels };
}

/**
 * A single view of `inner` (layers and encodings) at the layout's panel size, or one such panel per
 * distinct `panel` value of `rows` (sorted numerically, `layout.columns` per row).
 */
export function panelled(
  layout: Layout,
  title: ReturnType<typeof figureTitle>,
  rows: { panel: string }[],
  inner: Record<string, unknown>,
): TopLevelSpec {
  const panels = [...new Set(rows.map((r) => r.panel))].sort(byNumber);
  const base = { $schema: VEGA_LITE_SCHEMA, title, data: { values: rows } };
  const view = { width: layout.panelWidth, height: layout.panelHeight, ...inner };
  if (panels.length <= 1) return { ...base, ...view } as TopLevelSpec;
  return {
    ...base,
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    columns: layout.columns,
    spec: view,
  } as unknown as TopLevelSpec;
}
