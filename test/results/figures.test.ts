/**
 * The figures of `report` and `analyze`, read back as a reader of a paper draft would check them:
 * each spec says what it should (the table's CI, every arm, equal points side by side, groups told
 * apart and named, a mean line per freeze mode and config, histograms from 0 in network order, only
 * present arms in a legend), and each file is sized for a paper column (3.5 in) or two (7 in), SVG in
 * points beside a 300 dpi PNG.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFigures, sweepFigures } from '../../src/analysis/plots.js';
import type { RunAnalysis } from '../../src/analysis/analyze.js';
import {
  dodge,
  type Figure,
  fitFigure,
  type Layout,
  svgSize,
  wrapText,
  writeFigures,
} from '../../src/results/figure.js';
import { type DeltaPoint, reportFigures, type RunPoint } from '../../src/results/plots.js';
import { robustnessFigures } from '../../src/results/robustness-plots.js';
import type { RobustnessRow } from '../../src/results/robustness.js';
import { tempDir } from '../fixtures.js';
import { assertPaperSized } from './paper-size.js';

const LAYOUT: Layout = {
  width: 'column',
  points: 252,
  columns: 2,
  panelWidth: 100,
  panelHeight: 75,
  minPanelWidth: 50,
};

/** Every layer of a spec, depth first (layered, faceted and unit specs). */
function layersOf(spec: Record<string, unknown>): Record<string, unknown>[] {
  const inner = (spec.spec as Record<string, unknown> | undefined) ?? spec;
  const layer = inner.layer as Record<string, unknown>[] | undefined;
  return layer ? layer.flatMap(layersOf) : [inner];
}
const enc = (layer: Record<string, unknown>) => layer.encoding as Record<string, Record<string, unknown>>;
const built = (f: Figure | null) => {
  assert.ok(f, 'a figure');
  return f.build(LAYOUT) as unknown as Record<string, unknown>;
};
/** Title and subtitle as one text (lines are wrapped to the width, so phrases may span lines). */
const titleText = (spec: Record<string, unknown>) => {
  const t = spec.title as { text: string[]; subtitle: string[] };
  return [...t.text, ...t.subtitle].join(' ');
};
const byName = (figures: (Figure | null)[], name: string) => figures.find((f) => f?.name === name) ?? null;

/** Robustness rows of `points` under one attack at ε = 1/255, 40 % accuracy each. */
const attacked = (points: RunPoint[], name: string): RobustnessRow[] =>
  points.map(
    (p) => ({ ...p, lc_depthwise: false, metric: 'adversarial', name, epsilon: 1 / 255, accuracy_mean: 0.4 }) as never,
  );

const run = (freeze: string, k: number, E: number, seed: number, acc: number, group = ''): RunPoint => ({
  run: `${freeze}-k${k}-E${E}-seed${seed}`,
  freeze,
  kernel_size: k,
  lc_expansion: E,
  group,
  seed,
  val_acc: acc,
  chance: 10,
});

test('wrapText breaks at spaces within the limit; dodge spreads the series at one x and keeps x order', () => {
  assert.deepEqual(wrapText('aa bb cc dd', 5), ['aa bb', 'cc dd']);
  assert.deepEqual(wrapText('frozen-k3-E4-seed0-ab12 x', 12), ['frozen-k3-', 'E4-seed0-', 'ab12 x']);
  assert.deepEqual(wrapText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  const { rows, xValues } = dodge(
    [
      { k: 5, s: 'b' },
      { k: 3, s: 'a' },
      { k: 3, s: 'b' },
    ],
    'k',
    (r) => r.s,
  );
  assert.deepEqual(xValues, [3, 5]);
  assert.ok(rows[1]!.x_pos < rows[2]!.x_pos && Math.abs(rows[1]!.x_pos - rows[2]!.x_pos) < 0.5, 'side by side');
  assert.ok(Math.round(rows[0]!.x_pos) === 1 && Math.round(rows[1]!.x_pos) === 0, 'at their x');
});

test('accuracy figures: equal means side by side, config groups by shape with a legend naming the key, chance as origin', () => {
  const points = [3, 5].flatMap((k) =>
    [0, 1].flatMap((seed) => [
      run('learned', k, 1, seed, 80),
      run('frozen', k, 1, seed, 80), // the same accuracy: must not hide under learned
      run('frozen', k, 1, seed, 82, 'model.spatial_init=smooth'),
    ]),
  );
  const spec = built(
    byName(reportFigures(points, [], 'test accuracy', { points: [], missing: [] }), 'accuracy_vs_kernel_size'),
  );
  const values = (spec.data as { values: { freeze: string; group: string; kernel_size: number; x_pos: number }[] })
    .values;
  const at3 = values.filter((v) => v.kernel_size === 3);
  assert.equal(new Set(at3.map((v) => `${v.freeze}|${v.group}`)).size, 3);
  assert.equal(new Set(at3.map((v) => v.x_pos)).size, 3, 'each freeze mode and group at its own x offset');
  const pointLayer = layersOf(spec).find((l) => (l.mark as { type: string }).type === 'point')!;
  assert.equal(enc(pointLayer).shape?.field, 'group');
  assert.equal(enc(pointLayer).shape?.title, 'config');
  assert.deepEqual(
    (enc(pointLayer).color!.scale as { domain: string[] }).domain,
    ['learned', 'frozen'],
    'present modes only',
  );
  assert.equal((enc(pointLayer).y!.scale as { domainMin: number }).domainMin, 10, 'y from chance level, as stated');
  assert.match(titleText(spec), /y axis from chance level \(10 %/);
});

test('accuracy vs E: a panel with a single E is not drawn, and the subtitle names it', () => {
  const points = [0, 1].flatMap((seed) => [
    run('frozen', 3, 1, seed, 50),
    run('frozen', 3, 4, seed, 60),
    run('frozen', 5, 1, seed, 55), // k = 5 only at E = 1: a panel of one point
  ]);
  const spec = built(
    byName(reportFigures(points, [], 'test accuracy', { points: [], missing: [] }), 'accuracy_vs_lc_expansion'),
  );
  const values = (spec.data as { values: { kernel_size: number }[] }).values;
  assert.ok(values.every((v) => v.kernel_size === 3));
  assert.match(titleText(spec), /Not drawn \(a single E\): k=5/);
});

test("Δ figures: the table's CI as bars, every arm, equal Δs side by side, n said once", () => {
  const delta = (arm: string, freeze: string, k: number, d: number, group = ''): DeltaPoint => ({
    arm,
    freeze,
    kernel_size: k,
    lc_expansion: 4,
    group,
    n: 3,
    delta: d,
    low: d - 1,
    high: d + 1,
    chance_delta: -60,
  });
  const points = [3, 5].flatMap((k) => [
    delta('learned', 'learned', k, 1.5),
    delta('frozen', 'frozen', k, 1.5), // equal to learned E = 4
    delta('frozen (smooth init)', 'frozen', k, 3.5, 'model.spatial_init=smooth'),
  ]);
  const figures = reportFigures([run('frozen', 3, 4, 0, 50), run('frozen', 5, 4, 0, 50)], [], 'test accuracy', {
    points,
    missing: ['shared'],
  });
  const spec = built(byName(figures, 'delta_vs_kernel_size'));
  const layers = layersOf(spec);
  const bars = layers.find((l) => enc(l).y2)!;
  assert.deepEqual([enc(bars).y?.field, enc(bars).y2?.field], ['low', 'high'], 'bars from the CI columns');
  const dots = layers.find((l) => (l.mark as { type: string }).type === 'point')!;
  assert.equal(enc(dots).xOffset?.field, 'series', 'arms dodged at each k');
  assert.equal(enc(dots).shape?.field, 'group', 'groups by shape');
  const values = (spec.data as { values: { arm: string }[] }).values;
  assert.deepEqual([...new Set(values.map((v) => v.arm))], ['learned', 'frozen', 'frozen (smooth init)']);
  const title = titleText(spec);
  assert.match(title, /CI over n = 3 seeds/);
  assert.match(title, /not drawn: shared/);
  assert.ok(!layers.some((l) => enc(l).text), 'no per-point n labels when n is the same everywhere');
  assert.ok(!layers.some((l) => enc(l).y?.field === 'chance_delta'), 'a chance level far below is not drawn');
});

test('training curves: one line per run, seeds told apart by dash', () => {
  const curves = [0, 1].flatMap((seed) =>
    [1, 2].map((epoch) => ({ ...run('frozen', 3, 1, seed, 0), epoch, val_acc: 40 + epoch, train_acc: 50 })),
  );
  const spec = built(
    byName(
      reportFigures([run('frozen', 3, 1, 0, 50)], curves, 'test accuracy', { points: [], missing: [] }),
      'training_curves',
    ),
  );
  const layer = layersOf(spec)[0]!;
  assert.equal(enc(layer).strokeDash?.field, 'seed');
  assert.equal(enc(layer).detail?.field, 'run');
});

const ANALYSIS: RunAnalysis = {
  layers: [],
  spectra: ['stem.conv', 'stage1.block1.conv1'].flatMap((layer) =>
    [1, 2, 3].map((rank) => ({ layer, rank, trained: 0.5 / rank, init: 0.4 / rank }) as never),
  ),
  energy: ['stem.conv', 'stage1.block1.conv1'].flatMap((layer) =>
    [0, 1, 2].flatMap((x) => [0, 1, 2].map((y) => ({ layer, x, y, trained: 1 / 9, init: 1 / 9 }) as never)),
  ),
  // Network order: the stem first (alphabetically it would come last); one layer without LC weights.
  lcHistogram: [
    ...['stem.conv', 'stage1.block1.conv1'].flatMap((layer) =>
      [0, 1].map((b) => ({ layer, bin_start: b / 2, bin_end: (b + 1) / 2, count: 3 + b }) as never),
    ),
    { layer: 'stage2.block1.conv1', bin_start: 0, bin_end: 1, count: 0 } as never,
  ],
  filterCells: [],
  counts: {} as never,
};

test('analyze per-run figures: histograms are bars from 0 in network order without empty panels; spectrum trained over init', () => {
  const figures = runFigures('r', ANALYSIS);
  const lc = built(byName(figures, 'lc_weights'));
  assert.deepEqual((lc.facet as { sort: string[] }).sort, ['stem. · conv', 'stage1.block1. · conv1']);
  const bars = layersOf(lc)[0]!;
  assert.deepEqual([enc(bars).y?.field, enc(bars).y2?.datum], ['count', 0], 'each bar from 0 up to its count');
  const spectrum = layersOf(built(byName(figures, 'spectrum')))[0]!;
  assert.equal(enc(spectrum).strokeDash?.field, 'weights', 'init dashed, trained solid');
  assert.deepEqual((enc(spectrum).y!.axis as { grid: boolean }).grid, false, 'no grid bands on the log axis');
});

test('analyze across runs: a mean line per freeze mode and config, points dodged; groups by shape', () => {
  const rows = [3, 5].flatMap((k) =>
    [0, 1].flatMap((seed) => [
      { freeze: 'learned', config: '', kernel_size: k, lc_expansion: 4, seed, effective_rank: 8 },
      { freeze: 'frozen', config: '', kernel_size: k, lc_expansion: 4, seed, effective_rank: 8 },
      {
        freeze: 'frozen',
        config: 'model.spatial_init=smooth',
        kernel_size: k,
        lc_expansion: 4,
        seed,
        effective_rank: 3,
      },
    ]),
  );
  const figures = sweepFigures(rows).filter(Boolean);
  assert.deepEqual(
    figures.map((f) => f!.name),
    ['spectrum_vs_kernel_size'],
    'only the statistic the runs have, against the axis that varies',
  );
  const spec = built(figures[0]!);
  const [line, dots] = layersOf(spec);
  assert.equal(enc(line!).detail?.field, 'series');
  const values = (spec.data as { values: { series: string; x_pos: number; kernel_size: number }[] }).values;
  assert.equal(new Set(values.map((v) => v.series)).size, 3, 'one series per freeze mode and config');
  assert.equal(new Set(values.filter((v) => v.kernel_size === 3).map((v) => v.x_pos)).size, 3, 'dodged');
  assert.equal(enc(dots!).shape?.field, 'config');
});

test('robustness legend lists only the freeze modes that were evaluated', () => {
  const row = (freeze: string, metric: string, name: string, epsilon: number | null): RobustnessRow =>
    ({
      freeze,
      kernel_size: 3,
      lc_expansion: 1,
      lc_depthwise: false,
      group: '',
      metric,
      name,
      epsilon,
      accuracy_mean: 0.5,
    }) as never;
  const figures = robustnessFigures([
    row('learned', 'clean', 'clean', null),
    row('frozen', 'clean', 'clean', null),
    row('learned', 'adversarial', 'fgsm', 1 / 255),
    row('frozen', 'adversarial', 'fgsm', 1 / 255),
  ]);
  const spec = built(figures[0]!);
  assert.deepEqual((enc(layersOf(spec)[0]!).color!.scale as { domain: string[] }).domain, ['learned', 'frozen']);
  // A second config group is its own line (dashed, named in a legend), never one line with the first.
  const smooth = { ...row('frozen', 'adversarial', 'fgsm', 1 / 255), group: 'model.spatial_init=smooth' };
  const grouped = built(robustnessFigures([row('frozen', 'adversarial', 'fgsm', 1 / 255), smooth])[0]!);
  const line = enc(layersOf(grouped)[0]!);
  assert.equal(line.detail?.field, 'group');
  assert.equal(line.strokeDash?.title, 'config');
});

test('every figure fits its width: a too-wide first layout is narrowed, both widths written as SVG in pt and 300 dpi PNG', async () => {
  const dir = tempDir('figures');
  const points = [3, 5, 7, 9].flatMap((k) =>
    [1, 2, 4, 8].flatMap((E) =>
      [0, 1].flatMap((seed) => [run('learned', k, E, seed, 70 + k), run('frozen', k, E, seed, 68 + E)]),
    ),
  );
  const written = await writeFigures(dir, [
    ...reportFigures(points, [], 'test accuracy', { points: [], missing: [] }),
    ...runFigures('a-run-with-a-long-name-seed0-0123abcd', ANALYSIS),
    ...sweepFigures(
      points.map((p) => ({
        ...p,
        config: p.kernel_size > 5 ? 'train.epochs=10' : '',
        lc_hoyer: p.val_acc / 100,
        effective_rank: 4,
      })),
    ),
    ...robustnessFigures(attacked(points, 'pgd')),
  ]);
  assert.ok(written.length >= 10, `wrote ${written.length}`);
  for (const file of written) assertPaperSized(file);
  // The fit loop: a figure built twice as wide as a column comes back within it.
  const { svg } = await fitFigure(
    'column',
    { panels: 4, columns: { column: 4, wide: 4 } },
    (layout) =>
      ({
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        data: { values: [1, 2, 3, 4].map((p) => ({ p, v: p })) },
        facet: { field: 'p', type: 'nominal' },
        columns: layout.columns,
        spec: {
          width: layout.panelWidth,
          height: 60,
          mark: 'point',
          encoding: { y: { field: 'v', type: 'quantitative' } },
        },
      }) as never,
  );
  assert.ok(svgSize(svg).width <= 253, `${svgSize(svg).width} pt`);
});

test('every figure states where its y axis starts (or that it is a log axis), and energy shows trained beside init', () => {
  const points = [3, 5].flatMap((k) => [0, 1].map((seed) => run('frozen', k, 1, seed, 50 + k)));
  const curves = points.map((p) => ({ ...p, epoch: 1, train_acc: 50 }));
  const delta: DeltaPoint = {
    arm: 'frozen',
    freeze: 'frozen',
    kernel_size: 3,
    lc_expansion: 1,
    group: '',
    n: 2,
    delta: 1,
    low: 0,
    high: 2,
    chance_delta: null,
  };
  const figures = [
    ...reportFigures(points, curves, 'test accuracy', { points: [delta, { ...delta, kernel_size: 5 }], missing: [] }),
    ...runFigures('r', ANALYSIS),
    ...sweepFigures(points.map((p) => ({ ...p, config: '', effective_rank: 3 }))),
    ...robustnessFigures(attacked(points, 'fgsm')),
  ].filter((f): f is Figure => f !== null);
  assert.ok(figures.length >= 8, `${figures.length} figures`);
  for (const f of figures) {
    const spec = built(f);
    if (f.name.startsWith('delta_')) continue; // Δ: the solid line at 0 is standard training, named in the subtitle
    assert.match(titleText(spec), /y axis from|log axis|each filter scaled|position/, `${f.name} states its y origin`);
  }
  const energy = built(byName(figures, 'energy'));
  const calc = JSON.stringify(energy.transform);
  assert.match(calc, /datum\.weights === 'init' \? 4 : 0/, 'init placed right of trained (k = 3, one column apart)');
});
