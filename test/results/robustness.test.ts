import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { accumulateEvalCsv, evalRowKey, parseEvalCsv, writeEvalCsv, type EvalRow } from '../../src/runs/eval-csv.js';
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
    rows.find((r) => r.freeze === freeze && r.name === name && r.epsilon_linf_255ths === eps)!;
  // ε as configured (8 = 8/255), accuracy in percent, Δ in percentage points: one unit per column.
  assert.equal(find('learned', 'pgd', '8').accuracy_mean_pct, '15');
  assert.equal(find('learned', 'pgd', '8').seeds, '2');
  assert.equal(find('frozen', 'pgd', '8').seeds, '1', 'the frozen run without eval.csv is not counted');
  assert.equal(find('frozen', 'pgd', '8').delta_vs_standard_pp, '15'); // 30% vs 15%
  assert.equal(find('learned', 'mean').accuracy_mean_pct, '45'); // mean of 0.7, 0.3, 0.6, 0.2
  assert.equal(find('frozen', 'mean').delta_vs_standard_pp, '5');
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

/** A fixture run moved to LC rate E: its summary says so, in its own config group. */
function withExpansion(dir: string, freeze: string, k: number, e: number): string {
  const from = join(dir, `${freeze}-k${k}-E1-seed0-fixture0`);
  const to = join(dir, `${freeze}-k${k}-E${e}-seed0-fixture0`);
  renameSync(from, to);
  const summary = JSON.parse(readFileSync(join(to, 'summary.json'), 'utf8'));
  Object.assign(summary, { run_id: basename(to), dir: to, lc_expansion: e, group: `k${k}-E${e}` });
  writeFileSync(join(to, 'summary.json'), JSON.stringify(summary));
  return to;
}

test('robustness: a sweep over k and E keeps every (k, E) arm apart, each with its own values', async () => {
  const dir = tempDir('report-robust-k-e');
  const clean = new Map<string, number>();
  for (const k of [3, 5])
    for (const e of [4, 1]) // E = 4 first: its fixture is made under the E = 1 name, then moved
      for (const freeze of ['learned', 'frozen']) {
        const acc = 0.5 + k / 100 + e / 1000 + (freeze === 'learned' ? 0.1 : 0);
        fixtureRun(dir, freeze, k, 0, acc, 300);
        const run = e === 1 ? join(dir, `${freeze}-k${k}-E1-seed0-fixture0`) : withExpansion(dir, freeze, k, e);
        writeEvalCsv(join(run, 'eval.csv'), evalRows(acc, acc / 2, acc / 4, [acc / 3, acc / 5]));
        clean.set(`${freeze}|${k}|${e}`, acc);
      }
  await writeReport(dir, { plots: false });
  const [header, ...lines] = readFileSync(join(dir, 'robustness.csv'), 'utf8').trim().split('\n');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header!.split(',')[i], v])));
  const cleanRows = rows.filter((r) => r.metric === 'clean');
  assert.equal(cleanRows.length, 8, 'one clean row per (freeze, k, E) arm');
  for (const r of cleanRows)
    assert.equal(
      Number(r.accuracy_mean_pct),
      Number((100 * clean.get(`${r.freeze}|${r.kernel_size}|${r.lc_expansion}`)!).toFixed(2)),
      `${r.freeze} k${r.kernel_size} E${r.lc_expansion}`,
    );
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /\| frozen \| 5 \| 4 \| 1 \| 55\.40 /, 'frozen k5 E4 shows its own clean accuracy');
  assert.match(md, /\| learned \| 3 \| 4 \| 1 \| 63\.40 /);
});

test('the CSVs people open name each unit and carry no float noise: eval.csv, robustness.csv, comparison.csv', async () => {
  const dir = tempDir('report-units');
  // 1/3 accuracies and 1/255 radii are where float noise showed (0.00392156862745098, 33.33333333333333).
  fixtureRun(dir, 'learned', 3, 0, 1 / 3, 900);
  fixtureRun(dir, 'learned', 3, 1, 2 / 3, 900);
  fixtureRun(dir, 'frozen', 3, 0, 0.7, 300);
  fixtureRun(dir, 'frozen', 3, 1, 0.1, 300);
  const rows = (acc: number): EvalRow[] => [
    ...evalRows(acc, acc / 3, acc / 7, [acc / 9, acc / 11]),
    {
      ...evalRows(0, 0, 0, [0, 0])[1]!,
      name: 'fgsm',
      epsilon: 1 / 255,
      steps: null,
      restarts: null,
      accuracy: acc / 13,
    },
    { ...evalRows(0, 0, 0, [0, 0])[1]!, name: 'pgd_l2', epsilon: 0.125, accuracy: acc / 17 },
  ];
  for (const [run, acc] of [
    ['learned-k3-E1-seed0-fixture0', 1 / 3],
    ['learned-k3-E1-seed1-fixture0', 2 / 3],
    ['frozen-k3-E1-seed0-fixture0', 0.7],
    ['frozen-k3-E1-seed1-fixture0', 0.1],
  ] as const)
    writeEvalCsv(join(dir, run, 'eval.csv'), rows(acc));
  await writeReport(dir, { plots: false });
  const evalCsv = readFileSync(join(dir, 'learned-k3-E1-seed0-fixture0', 'eval.csv'), 'utf8');
  assert.equal(
    evalCsv.split('\n')[0],
    'metric,name,epsilon_linf_255ths,epsilon_l2_0to1,severity,steps,restarts,accuracy_pct,images,split,eval_seed',
  );
  assert.match(
    evalCsv,
    /^adversarial,fgsm,1,,,,,2\.56,100,test,0$/m,
    'ε = 1/255 written as 1; 100/3/13 % to 2 decimals',
  );
  assert.match(evalCsv, /^adversarial,pgd_l2,,0\.125,,10,1,1\.96,100,test,0$/m, 'an L2 radius in its own column');
  const robustness = readFileSync(join(dir, 'robustness.csv'), 'utf8');
  assert.match(robustness.split('\n')[0]!, /,seeds,accuracy_mean_pct,accuracy_std_pct,delta_vs_standard_pp,/);
  const comparison = readFileSync(join(dir, 'report.csv'), 'utf8');
  for (const [file, text] of [
    ['eval.csv', evalCsv],
    ['robustness.csv', robustness],
    ['comparison.csv', comparison],
  ] as const) {
    const [head, ...body] = text.trim().split('\n');
    const columns = head!.split(',');
    for (const line of body)
      line.split(',').forEach((cell, i) => {
        if (/_(pct|pp)$/.test(columns[i]!))
          assert.match(cell, /^(-?\d+(\.\d{1,2})?)?$/, `${file} ${columns[i]}: ${cell} has at most 2 decimals`);
        else if (/^-?\d*\.\d+$/.test(cell))
          assert.ok(cell.length < 12, `${file} ${columns[i]}: ${cell} carries float noise`);
      });
  }
});

test('eval.csv written before units were named is still read, and a rerun keys its rows the same', () => {
  const file = join(tempDir('eval-old-columns'), 'eval.csv');
  writeFileSync(
    file,
    [
      'metric,name,epsilon,severity,steps,restarts,accuracy,n,split,seed',
      'clean,clean,,,,,0.8123,1000,test,0',
      `adversarial,pgd,${4 / 255},,10,1,0.25,1000,test,0`,
      'adversarial,pgd_l2,0.5,,10,1,0.3,1000,test,0',
    ].join('\n'),
  );
  const old = parseEvalCsv(readFileSync(file, 'utf8'));
  assert.deepEqual(
    old.map((r) => [r.name, r.epsilon, r.accuracy, r.n, r.seed]),
    [
      ['clean', null, 0.8123, 1000, 0],
      ['pgd', 4 / 255, 0.25, 1000, 0],
      ['pgd_l2', 0.5, 0.3, 1000, 0],
    ],
  );
  // Rewritten in today's columns, then read back: the same keys (a rerun replaces, never duplicates).
  accumulateEvalCsv(file, [{ ...old[1]!, accuracy: 0.26 }]);
  const now = parseEvalCsv(readFileSync(file, 'utf8'));
  assert.equal(now.length, 3);
  assert.deepEqual(now.map(evalRowKey).sort(), old.map(evalRowKey).sort());
  assert.equal(now.find((r) => r.name === 'pgd')!.accuracy, 0.26);
});

test('robustness: two config groups with the same freeze, k and E stay apart, named as in the comparison table', async () => {
  const dir = tempDir('report-robust-groups');
  fixtureRun(dir, 'learned', 3, 0, 0.8, 900);
  fixtureRun(dir, 'frozen', 3, 0, 0.6, 300);
  fixtureRun(dir, 'frozen', 3, 0, 0.5, 300, 1); // the same arm in another config group (train.epochs=1)
  writeEvalCsv(join(dir, 'learned-k3-E1-seed0-fixture0', 'eval.csv'), evalRows(0.8, 0.5, 0.1, [0.7, 0.3]));
  writeEvalCsv(join(dir, 'frozen-k3-E1-seed0-fixture0', 'eval.csv'), evalRows(0.6, 0.5, 0.3, [0.5, 0.5]));
  writeEvalCsv(join(dir, 'frozen-k3-E1-seed0-fixture-e1', 'eval.csv'), evalRows(0.5, 0.2, 0.1, [0.4, 0.2]));
  await writeReport(dir, { plots: false });
  const [header, ...lines] = readFileSync(join(dir, 'robustness.csv'), 'utf8').trim().split('\n');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header!.split(',')[i], v])));
  const clean = rows.filter((r) => r.freeze === 'frozen' && r.name === 'clean');
  assert.deepEqual(clean.map((r) => [r.group, r.accuracy_mean_pct]).sort(), [
    ['train.epochs=1', '50'],
    ['train.epochs=3', '60'],
  ]);
});
