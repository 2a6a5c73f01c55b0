import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeEvalCsv, type EvalRow } from '../../src/eval/records.js';
import { writeReport } from '../../src/results/report.js';
import { fixtureRun, tempDir } from '../fixtures.js';

/** eval.csv of a fixture run: clean, PGD at 2/255 and 8/255, two corruption rows. */
function evalRows(clean: number, pgd2: number, pgd8: number, corrupt: [number, number]): EvalRow[] {
  const row = (
    metric: EvalRow['metric'],
    name: string,
    accuracy: number,
    epsilon: number | null = null,
    severity: number | null = null,
  ): EvalRow => ({
    metric,
    name,
    epsilon,
    severity,
    steps: metric === 'adversarial' ? 10 : null,
    restarts: metric === 'adversarial' ? 1 : null,
    accuracy,
    n: 100,
    split: 'test',
  });
  return [
    row('clean', 'clean', clean),
    row('adversarial', 'pgd', pgd2, 2 / 255),
    row('adversarial', 'pgd', pgd8, 8 / 255),
    row('corruption', 'contrast', corrupt[0], null, 1),
    row('corruption', 'contrast', corrupt[1], null, 5),
  ];
}

test('report: robustness per arm, mean over seeds, Δ vs standard, corruption mean; runs without eval.csv left out', async () => {
  const dir = tempDir('report-robust');
  fixtureRun(dir, 'learned', 3, 0, 0.8, 900);
  fixtureRun(dir, 'learned', 3, 1, 0.7, 900);
  fixtureRun(dir, 'frozen', 3, 0, 0.6, 300);
  fixtureRun(dir, 'frozen', 3, 1, 0.6, 300); // no eval.csv
  writeEvalCsv(join(dir, 'learned-k3-E1-seed0-fixture0', 'eval.csv'), evalRows(0.8, 0.5, 0.1, [0.7, 0.3]));
  writeEvalCsv(join(dir, 'learned-k3-E1-seed1-fixture0', 'eval.csv'), evalRows(0.7, 0.4, 0.2, [0.6, 0.2]));
  writeEvalCsv(join(dir, 'frozen-k3-E1-seed0-fixture0', 'eval.csv'), evalRows(0.6, 0.5, 0.3, [0.5, 0.5]));
  const report = await writeReport(dir, { plots: true });
  assert.ok(report.files.includes(join(dir, 'robustness.csv')));
  for (const plot of ['robust_accuracy_vs_epsilon', 'mean_corruption_accuracy'])
    assert.ok(existsSync(join(dir, `${plot}.png`)), plot);
  const [header, ...lines] = readFileSync(join(dir, 'robustness.csv'), 'utf8').trim().split('\n');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header!.split(',')[i], v])));
  const find = (freeze: string, name: string, eps = '') =>
    rows.find((r) => r.freeze === freeze && r.name === name && r.epsilon === eps)!;
  assert.equal(Number(find('learned', 'pgd', String(8 / 255)).accuracy_mean).toFixed(4), '0.1500');
  assert.equal(find('learned', 'pgd', String(8 / 255)).n, '2');
  assert.equal(find('frozen', 'pgd', String(8 / 255)).n, '1', 'the frozen run without eval.csv is not counted');
  assert.equal(Number(find('frozen', 'pgd', String(8 / 255)).delta_vs_standard).toFixed(2), '15.00'); // 30% vs 15%
  assert.equal(Number(find('learned', 'mean').accuracy_mean).toFixed(4), '0.4500'); // mean of 0.7, 0.3, 0.6, 0.2
  assert.equal(Number(find('frozen', 'mean').delta_vs_standard).toFixed(2), '5.00');
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /## Robustness/);
  assert.match(
    md,
    /\| frozen \| 3 \| 1 \| 1 \| 60\.00 \(-15\.00\) \| 50\.00 \(\+5\.00\) \| 30\.00 \(\+15\.00\) \| 50\.00 \(\+5\.00\) \|/,
  );
});
