import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { accumulateEvalCsv, parseEvalCsv, writeEvalCsv, type EvalRow } from '../../src/eval/records.js';
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
    seed: 0,
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

test('eval.csv accumulates: a later evaluation adds its rows and replaces only rows of the same setting and selection', () => {
  const file = join(tempDir('eval-accumulate'), 'eval.csv');
  const [clean, pgd2, pgd8] = evalRows(0.8, 0.5, 0.1, [0.7, 0.3]);
  accumulateEvalCsv(file, [clean!, pgd2!]);
  accumulateEvalCsv(file, [pgd8!]); // another ε: added
  accumulateEvalCsv(file, [{ ...clean!, n: 50, accuracy: 0.9 }]); // another image count: added
  accumulateEvalCsv(file, [{ ...pgd2!, accuracy: 0.45 }]); // the same evaluation again: replaced
  const rows = parseEvalCsv(readFileSync(file, 'utf8'));
  assert.equal(rows.length, 4);
  assert.deepEqual(
    rows.map((r) => [r.name, r.epsilon === null ? null : Math.round(r.epsilon * 255), r.n, r.seed, r.accuracy]),
    [
      ['clean', null, 100, 0, 0.8],
      ['pgd', 8, 100, 0, 0.1],
      ['clean', null, 50, 0, 0.9],
      ['pgd', 2, 100, 0, 0.45],
    ],
  );
});

test('robustness: arms are kept apart by k (as comparison.csv keys them), and evaluations on other image selections are not compared', async () => {
  const dir = tempDir('report-robust-arms');
  for (const k of [3, 5]) {
    fixtureRun(dir, 'learned', k, 0, 0.8, 900);
    fixtureRun(dir, 'frozen', k, 0, 0.6, 300);
  }
  const write = (freeze: string, k: number, rows: EvalRow[]) =>
    writeEvalCsv(join(dir, `${freeze}-k${k}-E1-seed0-fixture0`, 'eval.csv'), rows);
  write('learned', 3, evalRows(0.8, 0.5, 0.1, [0.7, 0.3]));
  write('frozen', 3, evalRows(0.6, 0.4, 0.2, [0.5, 0.5]));
  write('learned', 5, evalRows(0.7, 0.3, 0.05, [0.6, 0.2]));
  // k = 5 frozen: PGD on 50 other images (another selection); clean and corruptions on the same 100.
  write(
    'frozen',
    5,
    evalRows(0.65, 0.35, 0.15, [0.4, 0.4]).map((r) => (r.metric === 'adversarial' ? { ...r, n: 50, seed: 1 } : r)),
  );
  await writeReport(dir, { plots: false });
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  // Four arms, each with its own clean accuracy (k = 5 rows do not show k = 3 values).
  assert.match(md, /\| learned \| 3 \| 1 \| 1 \| 80\.00 /);
  assert.match(md, /\| frozen \| 3 \| 1 \| 1 \| 60\.00 /);
  assert.match(md, /\| learned \| 5 \| 1 \| 1 \| 70\.00 /);
  assert.match(md, /\| frozen \| 5 \| 1 \| 1 \| 65\.00 /);
  // PGD was not run on the same images for every arm: no PGD column, and the report says why.
  const table = md.slice(md.indexOf('## Robustness'));
  assert.doesNotMatch(table.split('\n').find((l) => l.startsWith('| freeze'))!, /pgd/);
  assert.match(
    table,
    /Left out of the table \(not evaluated on every arm .*\): pgd 2\/255 \(100 test images, eval seed 0\) — only learned k3 E1, frozen k3 E1, learned k5 E1/,
  );
  assert.match(table, /pgd 2\/255 \(50 test images, eval seed 1\) — only frozen k5 E1/);
  const csv = readFileSync(join(dir, 'robustness.csv'), 'utf8');
  assert.match(csv.split('\n')[0]!, /,split,images,eval_seed,/);
});
