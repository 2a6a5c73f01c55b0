import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareArms, formatComparison, meanStd } from '../../src/results/comparison.js';
import type { RunSummary } from '../../src/runs/records.js';

const run = (freeze: string, k: number, seed: number, acc: number, learnable = 100, group = `k${k}`): RunSummary =>
  ({
    run_id: `${freeze}-${k}-${seed}`, dir: '', seed, freeze, kernel_size: k, lc_expansion: 1, lc_depthwise: false, group,
    final_val_acc: acc, best_val_acc: acc + 0.01, params: { total: 100, learnable, frozen: 100 - learnable, stored: 100, buffers: 0 },
  }) as RunSummary;

test('meanStd uses the sample std and reports n', () => {
  assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0, n: 1 });
  const r = meanStd([0.8, 0.9]);
  assert.ok(Math.abs(r.mean - 0.85) < 1e-12 && Math.abs(r.std - Math.SQRT1_2 * 0.1) < 1e-12 && r.n === 2);
});

test('Δ vs standard is the difference of seed means within the same k, in percentage points', () => {
  const rows = compareArms([
    run('frozen', 3, 0, 0.80, 5), run('frozen', 3, 1, 0.82, 5), run('learned', 3, 0, 0.90), run('learned', 3, 1, 0.86),
    run('frozen', 5, 0, 0.70, 7), run('learned', 5, 0, 0.85),
    run('shared', 7, 0, 0.5, 7),
  ]);
  const find = (f: string, k: number) => rows.find((r) => r.freeze === f && r.kernel_size === k)!;
  assert.ok(Math.abs(find('frozen', 3).delta_vs_standard! - -7) < 1e-9);
  assert.equal(find('frozen', 3).n, 2);
  assert.equal(find('learned', 3).delta_vs_standard, 0);
  assert.ok(Math.abs(find('frozen', 5).delta_vs_standard! - -15) < 1e-9);
  assert.equal(find('shared', 7).delta_vs_standard, null);
  assert.deepEqual(rows.map((r) => `${r.freeze}${r.kernel_size}`), ['learned3', 'frozen3', 'learned5', 'frozen5', 'shared7']);
  const table = formatComparison(rows);
  assert.match(table, /frozen\s+3\s+1\s+81\.00 ± 1\.41 \(n=2\)\s+-7\.00\s+5\s+100/);
  assert.match(table, /shared\s+7\s+1\s+50\.00 ± 0\.00 \(n=1\)\s+n\/a/);
});

test('configs that differ in another key (e.g. width) are separate arms with their own standard', () => {
  const rows = compareArms([
    run('learned', 3, 0, 0.90, 100, 'w16'), run('frozen', 3, 0, 0.80, 5, 'w16'),
    run('learned', 3, 0, 0.70, 100, 'w4'), run('frozen', 3, 0, 0.40, 5, 'w4'),
  ]);
  assert.equal(rows.length, 4);
  const frozen = (g: string) => rows.find((r) => r.freeze === 'frozen' && r.group === g)!;
  assert.ok(Math.abs(frozen('w16').delta_vs_standard! - -10) < 1e-9);
  assert.ok(Math.abs(frozen('w4').delta_vs_standard! - -30) < 1e-9);
  assert.equal(frozen('w4').n, 1);
  assert.match(formatComparison(rows).split('\n')[0]!, /^config\s+freeze/);
  assert.doesNotMatch(formatComparison(rows.filter((r) => r.group === 'w4')).split('\n')[0]!, /config/);
});
