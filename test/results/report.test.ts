import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigText } from '../../src/config/load.js';
import { armLabel } from '../../src/results/comparison.js';
import { deltaPlotPoints, writeReport } from '../../src/results/report.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { runTrial } from '../../src/experiment/experiment.js';
import { fixtureRun, lcconv, tempDir, tinyYaml } from '../fixtures.js';

/** Minimal XML well-formedness check: one <svg> root, every tag closed in order. */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg.trimStart(), /^<svg[\s>]/);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'every tag closed');
}

test('report: mean ± std over seeds with n, Δ vs standard and vs learned at the same E with CIs, weights; CSV, Markdown and plots', async () => {
  const dir = tempDir('report');
  fixtureRun(dir, 'learned', 3, 0, 0.8, 900);
  fixtureRun(dir, 'learned', 3, 1, 0.7, 900);
  fixtureRun(dir, 'frozen', 3, 0, 0.6, 300);
  fixtureRun(dir, 'frozen', 3, 1, 0.64, 300);
  fixtureRun(dir, 'frozen', 3, 2, 0.68, 300);
  fixtureRun(dir, 'frozen', 5, 0, 0.5, 400); // no learned k=5 arm: Δ n/a
  mkdirSync(join(dir, 'frozen-k5-E1-seed1-broken00'));
  writeFileSync(join(dir, 'frozen-k5-E1-seed1-broken00', 'error.json'), JSON.stringify({ message: 'boom', at: 'now' }));

  const report = await writeReport(dir);
  const csv = readFileSync(join(dir, 'report.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  // One unit, named in the header: accuracies in percent, Δ in percentage points.
  assert.deepEqual(csv[0], [
    'freeze',
    'kernel_size',
    'lc_expansion',
    'lc_depthwise',
    'spatial_init',
    'seeds',
    'val_acc_mean_pct',
    'val_acc_std_pct',
    'best_val_acc_mean_pct',
    'delta_vs_standard_pp',
    'delta_vs_standard_ci95_low_pp',
    'delta_vs_standard_ci95_high_pp',
    'delta_vs_learned_same_e_pp',
    'delta_vs_learned_same_e_ci95_low_pp',
    'delta_vs_learned_same_e_ci95_high_pp',
    'learnable_params',
    'stored_weights',
    'group',
  ]);
  const row = (freeze: string, k: string) => csv.find((r) => r[0] === freeze && r[1] === k)!;
  assert.equal(row('learned', '3')[5], '2');
  assert.ok(Math.abs(Number(row('learned', '3')[6]) - 75) < 1e-9);
  // sample std (n − 1) in percent, 100·√0.005 = 7.0710…, rounded to 2 decimals in the file
  assert.equal(row('learned', '3')[7], '7.07');
  assert.equal(row('frozen', '3')[5], '3');
  assert.ok(Math.abs(Number(row('frozen', '3')[6]) - 64) < 1e-9);
  assert.ok(Math.abs(Number(row('frozen', '3')[7]) - 4) < 1e-9);
  assert.ok(Math.abs(Number(row('frozen', '3')[9]) - -11) < 1e-9, 'Δ = 64 − 75 percentage points');
  // frozen seeds {0,1,2} vs learned {0,1}: not the same seeds, so a Welch interval around the Δ
  assert.ok(Number(row('frozen', '3')[10]) < -11 && Number(row('frozen', '3')[11]) > -11, 'CI contains Δ');
  assert.ok(Math.abs(Number(row('frozen', '3')[12]) - -11) < 1e-9, 'E = 1: learned at the same E is standard training');
  assert.equal(row('frozen', '3')[15], '300');
  assert.equal(row('frozen', '5')[9], '', 'no learned arm with k=5');
  assert.equal(row('frozen', '5')[10], '', 'no interval without a baseline');
  assert.equal(row('frozen', '5')[7], '', 'no std for one seed');
  assert.equal(row('frozen', '5')[17], '', 'one config: no group label');
  assert.deepEqual(report.failed, [{ run: 'frozen-k5-E1-seed1-broken00', message: 'boom' }]);
  assert.equal(report.accuracy, 'test accuracy');

  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(
    md,
    /\| frozen \| 3 \| 1 \| 64\.00 ± 4\.00 \| 3 \| 65\.00 \| -11\.00 \[-\d+\.\d\d, \+\d+\.\d\d\] \| -11\.00 \[-\d+\.\d\d, \+\d+\.\d\d\] \| 300 \| 1,000 \|/,
  );
  assert.match(md, /\| frozen \| 5 \| 1 \| 50\.00 \| 1 \| 51\.00 \| n\/a \| n\/a \|/);
  assert.match(md, /test accuracy % \(mean ± std\)/);
  assert.match(md, /frozen-k5-E1-seed1-broken00`: boom/);
  assert.match(md, /!\[accuracy vs kernel size\]\(accuracy_vs_kernel_size\.svg\)/);

  for (const name of ['accuracy_vs_kernel_size', 'delta_vs_kernel_size', 'training_curves']) {
    const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
    assertWellFormedSvg(svg);
    assert.match(svg, /class="mark-(line|symbol)/, `${name}: vega drew marks`);
    const png = readFileSync(join(dir, `${name}.png`));
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  }
  // The accuracy plot draws one line per freeze mode, the curves one line per finished run.
  const lines = (name: string) =>
    (readFileSync(join(dir, `${name}.svg`), 'utf8').match(/aria-roledescription="line mark"/g) ?? []).length;
  assert.equal(lines('accuracy_vs_kernel_size'), 2);
  assert.equal(lines('training_curves'), 6);
  assert.ok(existsSync(join(dir, 'report.md')));
});

test('report: config groups are never pooled; labelled by the differing key; plots show only what exists', async () => {
  const dir = tempDir('report-groups');
  // Two groups that differ only in train.epochs (a 1-epoch and a 3-epoch experiment), validation split.
  for (const [epochs, accs] of [
    [1, [0.5, 0.3]],
    [3, [0.9, 0.8]],
  ] as const) {
    fixtureRun(dir, 'learned', 3, 0, accs[0], 900, epochs, 0.1);
    fixtureRun(dir, 'learned', 3, 1, accs[0] - 0.02, 900, epochs, 0.1);
    fixtureRun(dir, 'frozen', 3, 0, accs[1], 300, epochs, 0.1);
    fixtureRun(dir, 'frozen', 3, 1, accs[1] + 0.02, 300, epochs, 0.1);
  }
  const report = await writeReport(dir);
  assert.equal(report.accuracy, 'validation accuracy');
  assert.deepEqual(
    report.rows.map((r) => `${r.group}|${r.freeze}|${r.n}`),
    ['train.epochs=1|learned|2', 'train.epochs=1|frozen|2', 'train.epochs=3|learned|2', 'train.epochs=3|frozen|2'],
  );
  const frozen1 = report.rows.find((r) => r.group === 'train.epochs=1' && r.freeze === 'frozen')!;
  assert.ok(Math.abs(frozen1.val_acc_mean - 0.31) < 1e-9, 'the 1-epoch runs are not pooled with the 3-epoch ones');
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /\| train\.epochs=1 \| frozen \| 3 \| 1 \| 31\.00 ± 1\.41 \| 2 \|/);
  assert.doesNotMatch(md, /k3-e1/, 'no hash or internal group id in tables');

  const svg = (name: string) => readFileSync(join(dir, `${name}.svg`), 'utf8');
  const texts = (name: string) => [...svg(name).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
  // Each group told apart and named by the key (a shape with a legend, or a panel of its own).
  for (const name of ['delta_vs_kernel_size', 'training_curves']) {
    assert.ok(
      texts(name).includes('train.epochs=1') && texts(name).includes('train.epochs=3'),
      `${name}: each group named`,
    );
    assert.ok(!texts(name).some((t) => /^(E|k)=/.test(t)), `${name}: no panel for single-valued k or E`);
    assert.ok(!texts(name).includes('shared'), `${name}: no legend entry for a mode without runs`);
  }
  const plain = (name: string) =>
    svg(name)
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' '); // multi-line text too
  assert.match(plain('delta_vs_kernel_size'), /CI over n = 2 seeds/, 'n, the same for every arm, said once');
  assert.match(svg('delta_vs_kernel_size'), /stroke-dasharray/, 'chance level drawn dashed');
  assert.ok(texts('training_curves').includes('validation accuracy (%)'), 'val_split > 0: validation accuracy');
  assert.equal(existsSync(join(dir, 'accuracy_vs_kernel_size.svg')), false, 'one k: no accuracy-vs-k plot');
  assert.equal(existsSync(join(dir, 'accuracy_vs_lc_expansion.svg')), false, 'one E: no accuracy-vs-E plot');
  // Every evaluated epoch is a point, so the 1-epoch runs show; epoch ticks are whole numbers.
  const points = (svg('training_curves').match(/aria-roledescription="point"/g) ?? []).length;
  assert.equal(points, 4 * 1 + 4 * 3);
  const epochTicks = texts('training_curves').filter((t) => /^\d+(\.\d+)?$/.test(t) && Number(t) <= 3);
  assert.ok(
    epochTicks.length > 0 && epochTicks.every((t) => Number.isInteger(Number(t))),
    `integer epoch ticks, got ${epochTicks.join(' ')}`,
  );
});

test('report on a sweep over E: standard (learned E = 1) is added and both Δ columns are filled, with CIs', {
  timeout: 120_000,
}, async () => {
  const results = tempDir('sweep-e');
  const config = loadConfigText(
    tinyYaml({
      results_dir: results,
      freeze: 'frozen',
      compare_to_standard: true,
      seeds: [0, 1],
      'dataset.synthetic.train_size': 32,
      'dataset.synthetic.test_size': 16,
      sweep: { 'model.lc_expansion': [1, 4] },
    }),
    'e.yaml',
  ).config;
  const trials = sweepTrials(config);
  assert.equal(trials.length, 8, '2 E × 2 seeds frozen + learned at each E (learned E = 1 is standard)');
  for (const trial of trials) await runTrial(trial, { backend: { backend: 'cpu', device: 'cpu' } });
  const report = await writeReport(join(results, 'tiny'), { plots: false });
  const frozen = report.rows.filter((r) => r.freeze === 'frozen');
  assert.deepEqual(
    frozen.map((r) => r.lc_expansion),
    [1, 4],
  );
  const standard = report.rows.find((r) => r.freeze === 'learned' && r.lc_expansion === 1)!;
  for (const r of frozen) {
    const learned = report.rows.find((l) => l.freeze === 'learned' && l.lc_expansion === r.lc_expansion)!;
    assert.ok(Math.abs(r.delta_vs_standard! - 100 * (r.val_acc_mean - standard.val_acc_mean)) < 1e-9);
    assert.ok(Math.abs(r.delta_vs_learned_same_e! - 100 * (r.val_acc_mean - learned.val_acc_mean)) < 1e-9);
    assert.ok(
      r.delta_vs_standard_ci95_low! <= r.delta_vs_standard! && r.delta_vs_standard! <= r.delta_vs_standard_ci95_high!,
    );
  }
  const md = readFileSync(join(results, 'tiny', 'report.md'), 'utf8');
  assert.match(md, /Δ vs standard \(pp, 95% CI\) \| Δ vs learned same E \(pp, 95% CI\)/);
});

test('report on a folder of only failed runs names each failure and its cause (exit 2), not just "no finished run"', () => {
  const dir = tempDir('report-failed');
  for (const [name, message] of [
    ['frozen-k3-E1-seed0-aaaaaaaa', 'non-finite training loss (NaN) in epoch 2'],
    ['frozen-k5-E1-seed0-bbbbbbbb', 'out of memory'],
  ]) {
    mkdirSync(join(dir, name!));
    writeFileSync(join(dir, name!, 'error.json'), JSON.stringify({ message, at: 'now' }));
  }
  const r = lcconv(['report', dir, '--no-plots']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no finished run .* to report; /);
  assert.match(r.stderr, /frozen-k3-E1-seed0-aaaaaaaa failed: non-finite training loss \(NaN\) in epoch 2/);
  assert.match(r.stderr, /frozen-k5-E1-seed0-bbbbbbbb failed: out of memory/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test("Δ plots draw the table: every arm with a baseline (a smooth-init arm whose group has no learned run too), with the table's CI", async () => {
  const dir = tempDir('report-delta-ci');
  for (const seed of [0, 1, 2]) {
    fixtureRun(dir, 'learned', 3, seed, 0.7 + 0.01 * seed, 900);
    fixtureRun(dir, 'frozen', 3, seed, 0.6 + 0.02 * seed, 300);
  }
  // Frozen filters from the smooth init: their own config group, with no learned run in it.
  for (const seed of [0, 1, 2]) {
    fixtureRun(dir, 'shared', 3, seed, 0.74 + 0.01 * seed, 300);
    const runDir = join(dir, `shared-k3-E1-seed${seed}-fixture0`);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    Object.assign(summary, { freeze: 'frozen', spatial_init: 'smooth', group: 'k3-smooth' });
    writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary));
  }
  const report = await writeReport(dir, { plots: true });
  const smooth = report.rows.find((r) => r.spatial_init === 'smooth')!;
  assert.ok(smooth.delta_vs_standard !== null, 'the table has its Δ vs standard');
  const { points, missing } = deltaPlotPoints(report.rows, report.runs, new Map());
  assert.deepEqual(missing, []);
  assert.deepEqual(points.map((p) => p.arm).sort(), ['frozen', 'frozen (smooth init)']);
  for (const p of points) {
    const row = report.rows.find((r) => armLabel(r) === p.arm)!;
    assert.deepEqual(
      [p.delta, p.low, p.high],
      [row.delta_vs_standard, row.delta_vs_standard_ci95_low, row.delta_vs_standard_ci95_high],
      `${p.arm}: the table's Δ and 95 % CI`,
    );
  }
  const svg = readFileSync(join(dir, 'delta_vs_kernel_size.svg'), 'utf8');
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
  assert.ok(texts.includes('frozen (smooth init)'), 'the smooth-init arm is drawn and named');
  assert.match(
    svg.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '), // multi-line text too
    /bars: 95 % CI over n = 3 seeds, as in the table/,
    'the subtitle says the bars are the CI',
  );
});
