import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareArms, formatComparison, summarySentence } from '../../src/results/comparison.js';
import { accuracyName, groupLabels } from '../../src/results/groups.js';
import type { RunSummary } from '../../src/runs/records.js';

const run = (
  freeze: string,
  k: number,
  seed: number,
  acc: number,
  learnable = 100,
  group = `k${k}`,
  lcExpansion = 1,
  standardGroup = group,
): RunSummary =>
  ({
    run_id: `${freeze}-${k}-${seed}`,
    dir: '',
    seed,
    freeze,
    kernel_size: k,
    lc_expansion: lcExpansion,
    lc_depthwise: false,
    group,
    standard_group: standardGroup,
    spatial_init: 'default',
    final_val_acc: acc,
    best_val_acc: acc + 0.01,
    params: { total: 100, learnable, frozen: 100 - learnable, stored: 100, buffers: 0 },
  }) as RunSummary;

test('Δ vs standard is the difference of seed means within the same k, in percentage points', () => {
  const rows = compareArms([
    run('frozen', 3, 0, 0.8, 5),
    run('frozen', 3, 1, 0.82, 5),
    run('learned', 3, 0, 0.9),
    run('learned', 3, 1, 0.86),
    run('frozen', 5, 0, 0.7, 7),
    run('learned', 5, 0, 0.85),
    run('shared', 7, 0, 0.5, 7),
  ]);
  const find = (f: string, k: number) => rows.find((r) => r.freeze === f && r.kernel_size === k)!;
  assert.ok(Math.abs(find('frozen', 3).delta_vs_standard! - -7) < 1e-9);
  assert.equal(find('frozen', 3).n, 2);
  assert.equal(find('learned', 3).delta_vs_standard, 0);
  assert.ok(Math.abs(find('frozen', 5).delta_vs_standard! - -15) < 1e-9);
  assert.equal(find('shared', 7).delta_vs_standard, null);
  assert.deepEqual(
    rows.map((r) => `${r.freeze}${r.kernel_size}`),
    ['learned3', 'frozen3', 'learned5', 'frozen5', 'shared7'],
  );
  const table = formatComparison(rows);
  assert.match(table, /frozen\s+3\s+1\s+81\.00 ± 1\.41 \(n=2\)\s+-7\.00 \[-\d+\.\d\d, \+\d+\.\d\d\]\s+-7\.00 \[/);
  assert.match(table, /frozen\s+5\s+1\s+70\.00 \(n=1\)\s+-15\.00\s+-15\.00\s+7\s+100/, 'one seed: no interval');
  assert.match(table, /shared\s+7\s+1\s+50\.00 \(n=1\)\s+n\/a\s+n\/a/, 'no std for one seed');
  assert.equal(find('shared', 7).val_acc_std, null);
});

test('configs that differ in another key (e.g. width) are separate arms with their own standard', () => {
  const rows = compareArms(
    [
      run('learned', 3, 0, 0.9, 100, 'w16'),
      run('frozen', 3, 0, 0.8, 5, 'w16'),
      run('learned', 3, 0, 0.7, 100, 'w4'),
      run('frozen', 3, 0, 0.4, 5, 'w4'),
    ],
    groupLabels(
      new Map([
        ['w16', { model: { width: 16, kernel_size: 3 }, seed: 0 }],
        ['w4', { model: { width: 4, kernel_size: 3 }, seed: 1 }],
      ]),
    ),
  );
  assert.equal(rows.length, 4);
  const frozen = (g: string) => rows.find((r) => r.freeze === 'frozen' && r.group === g)!;
  assert.ok(Math.abs(frozen('model.width=16').delta_vs_standard! - -10) < 1e-9);
  assert.ok(Math.abs(frozen('model.width=4').delta_vs_standard! - -30) < 1e-9);
  assert.equal(frozen('model.width=4').n, 1);
  assert.match(formatComparison(rows).split('\n')[0]!, /^config\s+freeze/);
  assert.doesNotMatch(formatComparison(rows.filter((r) => r.group === 'model.width=4')).split('\n')[0]!, /config/);
});

test('groups are named by the keys in which they differ, never by a hash', () => {
  const labels = groupLabels(
    new Map<string, unknown>([
      ['a1', { train: { epochs: 1, lr: 0.1 }, model: { kernel_size: 3 }, results_dir: 'x' }],
      ['a2', { train: { epochs: 3, lr: 0.1 }, model: { kernel_size: 5 }, results_dir: 'y' }],
      ['a3', undefined],
    ]),
  );
  assert.deepEqual([...labels.values()], ['train.epochs=1', 'train.epochs=3', 'config a3']);
  assert.deepEqual([...groupLabels(new Map([['only', { train: { epochs: 1 } }]])).values()], ['']);
  assert.equal(accuracyName([0, 0]), 'test accuracy');
  assert.equal(accuracyName([0.1]), 'validation accuracy');
});

test('a sweep over E: Δ vs standard is against learned E = 1, Δ vs learned against the same E, paired CIs', () => {
  // groups: E1 (standard's group), E4; both E = 4 arms name E1 as their standard group
  const e4 = (freeze: string, seed: number, acc: number) => run(freeze, 3, seed, acc, 50, 'E4', 4, 'E1');
  const rows = compareArms([
    run('learned', 3, 0, 0.8, 100, 'E1'),
    run('learned', 3, 1, 0.84, 100, 'E1'),
    run('learned', 3, 2, 0.82, 100, 'E1'),
    e4('learned', 0, 0.85),
    e4('learned', 1, 0.87),
    e4('learned', 2, 0.86),
    e4('frozen', 0, 0.83),
    e4('frozen', 1, 0.86),
    e4('frozen', 2, 0.86),
  ]);
  const find = (f: string, e: number) => rows.find((r) => r.freeze === f && r.lc_expansion === e)!;
  const frozen = find('frozen', 4);
  assert.ok(Math.abs(frozen.delta_vs_standard! - (85 - 82)) < 1e-9, 'vs learned E = 1');
  assert.ok(Math.abs(frozen.delta_vs_learned_same_e! - (85 - 86)) < 1e-9, 'vs learned E = 4');
  // Paired by seed: per-seed differences vs standard are 3, 2, 4 → mean 3, sd 1, t(0.975, 2) = 4.302653
  const half = (4.302653 * 1) / Math.sqrt(3);
  assert.ok(
    Math.abs(frozen.delta_vs_standard_ci95_low! - (3 - half)) < 1e-4 &&
      Math.abs(frozen.delta_vs_standard_ci95_high! - (3 + half)) < 1e-4,
  );
  // vs learned E = 4: differences -2, -1, 0 → mean -1, sd 1
  assert.ok(Math.abs(frozen.delta_vs_learned_same_e_ci95_low! - (-1 - half)) < 1e-4);
  assert.ok(Math.abs(find('learned', 4).delta_vs_standard! - 4) < 1e-9);
  assert.equal(find('learned', 4).delta_vs_learned_same_e, 0);
  assert.equal(find('learned', 1).delta_vs_standard, 0);
});

test("the run's closing sentence states the interval of the difference, and says when one seed gives none", () => {
  const three = compareArms([
    run('learned', 3, 0, 0.8),
    run('learned', 3, 1, 0.84),
    run('learned', 3, 2, 0.82),
    run('frozen', 3, 0, 0.83),
    run('frozen', 3, 1, 0.85),
    run('frozen', 3, 2, 0.86),
  ]);
  // Per-seed differences 3, 1, 4 points: mean 2.67, sd 1.53, half-width 4.302653·1.53/√3 = 3.79.
  assert.match(
    summarySentence(three),
    /, 2\.67 points above standard training \(82\.00%, 100 learnable weights\), mean of 3 seeds \(95 % CI of the difference −1\.13 to \+6\.46 points: within noise at this size\)\.$/,
  );
  const one = compareArms([run('learned', 3, 0, 0.8), run('frozen', 3, 0, 0.7)]);
  assert.match(summarySentence(one), /one seed \(no interval: run several seeds to tell a gap from noise\)\.$/);
});
