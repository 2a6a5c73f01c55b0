import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandGrid } from '../../src/config/grid.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { findTrial, sweepTrials } from '../../src/sweep/trials.js';

const base = `
name: grid
model: { arch: resnet8, width: 4 }
freeze: frozen
`;
const load = (sweep: string, extra = '') => loadConfigText(`${base}${extra}sweep:\n${sweep}`, 'grid.yaml').config;
const errorOf = (text: string): string => {
  try {
    loadConfigText(text, 'grid.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
};

test('grid: product of the swept lists in written order, the last key fastest', () => {
  const config = load('  model.kernel_size: [3, 5, 7]\n  freeze: [learned, frozen]\n  seed: [0, 1]\n');
  const points = expandGrid(config);
  assert.equal(points.length, 12);
  assert.deepEqual(points[0]!.params, { 'model.kernel_size': 3, freeze: 'learned', seed: 0 });
  assert.deepEqual(points[1]!.params, { 'model.kernel_size': 3, freeze: 'learned', seed: 1 });
  assert.deepEqual(points[11]!.params, { 'model.kernel_size': 7, freeze: 'frozen', seed: 1 });
  const p = points[5]!.config;
  assert.equal(p.model.kernel_size, 5);
  assert.equal(p.freeze, 'learned');
  assert.equal(p.seed, 1);
  assert.equal(p.model.width, 4, 'unswept keys come from the base config');
  assert.equal(p.sweep, undefined, 'a point is a plain config');
});

test('grid: exclude rules drop every point matching all entries of a rule', () => {
  const config = load(
    '  model.kernel_size: [3, 5]\n  model.lc_expansion: [1, 4]\n  freeze: [learned, shared]\n  exclude:\n    - { freeze: shared, model.lc_expansion: 4 }\n    - { model.kernel_size: 5, model.lc_expansion: 1, freeze: learned }\n',
  );
  const points = expandGrid(config).map((p) => p.params);
  assert.equal(points.length, 8 - 2 - 1);
  assert.ok(!points.some((p) => p.freeze === 'shared' && p['model.lc_expansion'] === 4));
  assert.ok(
    !points.some((p) => p['model.kernel_size'] === 5 && p['model.lc_expansion'] === 1 && p.freeze === 'learned'),
  );
  assert.ok(points.some((p) => p.freeze === 'shared' && p['model.lc_expansion'] === 1));
});

test('grid: seeds without a swept seed is the last axis', () => {
  const config = load('  model.kernel_size: [3, 5]\n', 'seeds: [7, 8, 9]\n');
  assert.deepEqual(
    expandGrid(config).map((p) => [p.params['model.kernel_size'], p.config.seed]),
    [
      [3, 7],
      [3, 8],
      [3, 9],
      [5, 7],
      [5, 8],
      [5, 9],
    ],
  );
});

test('sweep values are validated by the schema: the error names sweep.<key>[i] and its line', () => {
  assert.equal(
    errorOf(`${base}sweep:\n  model.kernel_size:\n    - 3\n    - 5\n    - 4\n`),
    'grid.yaml:9 sweep.model.kernel_size[2]: must be odd (the conv is padded by k//2 on each side), got 4',
  );
  assert.match(
    errorOf(`${base}sweep:\n  freeze: [learned, frozn]\n`),
    /^grid\.yaml:6 sweep\.freeze\[1\]: Invalid option: expected one of .*got "frozn"$/,
  );
  assert.match(
    errorOf(`${base}sweep:\n  model.kernel_sz: [3]\n`),
    /^grid\.yaml:6 sweep\.model\.kernel_sz: not a config key path/,
  );
  assert.match(errorOf(`${base}sweep:\n  name: [a, b]\n`), /sweep\.name: cannot be swept/);
  assert.match(
    errorOf(`${base}sweep:\n  model.kernel_size: []\n`),
    /sweep\.model\.kernel_size: .*(at least 1|too small)/i,
  );
  assert.match(
    errorOf(`${base}sweep:\n  model.kernel_size: [3, 3]\n`),
    /sweep\.model\.kernel_size\[1\]: repeats the value 3/,
  );
  assert.match(
    errorOf(`${base}sweep:\n  freeze: [learned]\n  exclude:\n    - { model.width: 4 }\n`),
    /^grid\.yaml:8 sweep\.exclude\[0\]\.model\.width: not a swept key \(swept: freeze, seed\)$/,
  );
});

test('trials: learned baselines are added once per (k, E, seed) unless the grid has them; ids are index or run id', () => {
  const frozenOnly = sweepTrials(load('  model.kernel_size: [3, 5]\n  seed: [0, 1]\n'));
  assert.equal(frozenOnly.length, 8, '4 frozen points + 4 learned baselines');
  assert.deepEqual(
    frozenOnly.slice(4).map((t) => [t.baseline, t.config.freeze, t.config.model.kernel_size, t.config.seed]),
    [
      [true, 'learned', 3, 0],
      [true, 'learned', 3, 1],
      [true, 'learned', 5, 0],
      [true, 'learned', 5, 1],
    ],
  );
  // A sweep over E: each frozen point gets its learned arm at the same E, and standard training
  // (learned, E = 1) once for all E.
  const overE = sweepTrials(load('  model.lc_expansion: [1, 4]\n'));
  assert.deepEqual(
    overE.map((t) => [t.baseline, t.config.freeze, t.config.model.lc_expansion]),
    [
      [false, 'frozen', 1],
      [false, 'frozen', 4],
      [true, 'learned', 1],
      [true, 'learned', 4],
    ],
  );
  assert.deepEqual(overE[3]!.params, { 'model.lc_expansion': 4, seed: 0, freeze: 'learned' });
  assert.equal(
    overE[1]!.identity.standard_group,
    overE[2]!.identity.group,
    "E = 4's standard is the learned E = 1 trial",
  );
  const both = sweepTrials(load('  model.kernel_size: [3, 5]\n  freeze: [learned, frozen]\n'));
  assert.equal(both.length, 4, 'the grid already holds the learned arms');
  assert.ok(both.every((t) => !t.baseline));
  assert.equal(new Set(both.map((t) => t.identity.dir)).size, 4);
  assert.equal(findTrial(both, '2'), both[2]);
  assert.equal(findTrial(both, both[3]!.identity.run_id), both[3]);
  assert.throws(() => findTrial(both, '4'), /--trial 4: no such trial \(give an index 0\.\.3 or a run id/);
  // A trial shares its run directory with the same config run alone (no sweep block).
  const alone = sweepTrials(
    loadConfigText(
      `${base}model: { arch: resnet8, width: 4, kernel_size: 5 }\nfreeze: frozen\nseed: 1\n`.replace(
        /^model: \{ arch: resnet8, width: 4 \}\nfreeze: frozen\n/m,
        '',
      ),
      'a.yaml',
    ).config,
  );
  assert.ok(alone.some((t) => t.identity.run_id === frozenOnly[3]!.identity.run_id));
});

test('grid size is checked before anything is expanded: a 10^7-point grid is one line; sweep.max_trials raises the bound', () => {
  const ten = (first: number, step = 1) => `[${Array.from({ length: 10 }, (_, i) => first + step * i).join(', ')}]`;
  const axes = [
    'model.kernel_size: ' + ten(1, 2),
    'model.width: ' + ten(1),
    'model.lc_expansion: ' + ten(1),
    'dataset.split_seed: ' + ten(0),
    'train.epochs: ' + ten(1),
    'train.batch_size: ' + ten(1),
    'seed: ' + ten(0),
  ];
  const huge = axes.map((a) => `  ${a}\n`).join('');
  const before = process.memoryUsage().heapUsed;
  assert.equal(
    errorOf(`${base}sweep:\n${huge}`),
    'grid.yaml:5 sweep: 10 × 10 × 10 × 10 × 10 × 10 × 10 = 10,000,000 grid points, more than sweep.max_trials = 10,000; raise it (lcconv sweep --max-trials N) if you mean it',
  );
  assert.ok(process.memoryUsage().heapUsed - before < 100 * 2 ** 20, 'nothing was expanded');
  // Counted before any value is checked: 20,000 values (every one of them invalid, even k) are
  // refused by their number, not checked one config at a time.
  const many = `[${Array.from({ length: 20_000 }, () => 4).join(', ')}]`;
  assert.match(
    errorOf(`${base}sweep:\n  model.kernel_size: ${many}\n`),
    /sweep: 20000 × 1 = 20,000 grid points, more than sweep\.max_trials = 10,000/,
  );
  const config = load('  model.kernel_size: [3, 5, 7]\n  seed: [0, 1, 2, 3]\n  max_trials: 12\n');
  assert.equal(expandGrid(config).length, 12);
  assert.match(
    errorOf(`${base}sweep:\n  model.kernel_size: [3, 5, 7]\n  seed: [0, 1, 2, 3]\n  max_trials: 11\n`),
    /3 × 4 = 12 grid points, more than sweep\.max_trials = 11/,
  );
});

test('an exclude that removes every point is an error, not an empty sweep', () => {
  assert.equal(
    errorOf(
      `${base}sweep:\n  model.kernel_size: [3, 5]\n  exclude:\n    - { model.kernel_size: 3 }\n    - { model.kernel_size: 5 }\n`,
    ),
    'grid.yaml:7 sweep.exclude: the rules drop all 2 grid points, leaving no trial',
  );
  assert.equal(expandGrid(load('  model.kernel_size: [3, 5]\n  exclude:\n    - { model.kernel_size: 3 }\n')).length, 1);
});
