import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzePath } from '../../src/analysis/run.js';
import { loadConfigText } from '../../src/config/load.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { runTrial } from '../../src/experiment/experiment.js';
import { lcconv, tempDir, tinyYaml } from '../fixtures.js';
import { assertPaperSized } from '../results/paper-size.js';

test('analyze a trained sweep over E: per-run files, runs.csv across runs, plots; deterministic; bad input is one line', {
  timeout: 180_000,
}, async () => {
  const results = tempDir('analyze-sweep');
  const config = loadConfigText(
    tinyYaml({
      results_dir: results,
      'dataset.synthetic.train_size': 32,
      'dataset.synthetic.test_size': 16,
      sweep: { freeze: ['learned', 'frozen', 'shared'], 'model.lc_expansion': [1, 2] },
    }),
    'a.yaml',
  ).config;
  for (const trial of sweepTrials(config)) await runTrial(trial, { backend: { backend: 'cpu', device: 'cpu' } });
  const folder = join(results, 'tiny');

  const first = await analyzePath(folder);
  assert.equal(first.runs.length, 6);
  const runsCsv = readFileSync(join(first.out, 'runs.csv'), 'utf8');
  const [header, ...rows] = runsCsv.trim().split('\n');
  assert.equal(rows.length, 6);
  const col = (name: string) => header!.split(',').indexOf(name);
  for (const row of rows) {
    const cells = row.split(',');
    const lc = cells[col('lc_expansion')] === '2';
    assert.equal(cells[col('lc_hoyer')] === '', !lc, 'LC statistics only for LC runs');
    if (cells[col('freeze')] === 'shared')
      assert.ok(Number(cells[col('stored')]) > Number(cells[col('learnable')]), 'the shared bank is stored');
    assert.ok(Number(cells[col('checkpoint_bytes')]) > 0);
  }
  // Frozen and shared filters never change: their init and trained statistics agree for E = 1.
  const frozen = first.runs.find((r) => r.summary.freeze === 'frozen' && r.summary.lc_expansion === 1)!;
  for (const l of frozen.analysis.layers)
    assert.ok(
      Math.abs(l.centre_energy - l.init_centre_energy) < 1e-12 &&
        Math.abs(l.effective_rank - l.init_effective_rank) < 1e-9,
    );
  for (const r of first.runs) {
    for (const f of [
      'layers.csv',
      'spectrum.csv',
      'energy.csv',
      'counts.csv',
      'filters.png',
      'spectrum.svg',
      'energy.png',
    ])
      assert.ok(existsSync(join(r.out, f)), `${r.summary.run_id}/${f}`);
    assert.equal(existsSync(join(r.out, 'lc_weights.png')), r.summary.lc_expansion > 1);
  }
  for (const f of ['sparsity_vs_lc_expansion.png', 'spectrum_vs_lc_expansion.svg', 'centre_energy_vs_lc_expansion.png'])
    assert.ok(existsSync(join(first.out, f)), f);
  assert.equal(
    existsSync(join(first.out, 'spectrum_vs_kernel_size.svg')),
    false,
    'k does not vary: nothing drawn against it',
  );
  for (const f of first.files.filter((f) => f.endsWith('.svg'))) assertPaperSized(f);

  // Deterministic: a second analysis writes the same numbers.
  const layersCsv = readFileSync(join(first.out, 'layers.csv'), 'utf8');
  await analyzePath(folder, { plots: false });
  assert.equal(readFileSync(join(first.out, 'layers.csv'), 'utf8'), layersCsv);
  assert.equal(readFileSync(join(first.out, 'runs.csv'), 'utf8'), runsCsv);

  // One run through the CLI; bad input is one line with exit 2.
  const one = lcconv(['analyze', frozen.summary.dir, '--no-plots', '--layers', 'stem.conv']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /1 run\(s\) analyzed/);
  const badLayer = lcconv(['analyze', frozen.summary.dir, '--layers', 'stem.cnv']);
  assert.equal(badLayer.status, 2);
  assert.match(badLayer.stderr, /^lcconv: --layers stem\.cnv: no such spatial layer in .*\(layers: stem\.conv, /m);
  const missing = lcconv(['analyze', join(results, 'nope')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^lcconv: .*nope: no such run directory, experiment folder or config file$/m);
});
