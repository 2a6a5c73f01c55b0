import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkMetricsComplete, DamagedFile } from '../../src/runs/files.js';
import { EPOCH_COLUMNS } from '../../src/runs/records.js';
import { BIN, lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const PRELOAD = new URL('../full-disk-preload.js', import.meta.url).pathname;

test('resume refuses a metrics.csv cut or deleted behind the checkpoint (one line, exit 2), never ends "finished" with rows missing', () => {
  const results = tempDir('reconcile');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, 'train.epochs': 4 });
  // Stopped with epoch 2 checkpointed: the disk fills at the checkpoint of epoch 3.
  const stopped = spawnSync(process.execPath, ['--import', PRELOAD, BIN, 'run', config, '--quiet'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      CI: 'true',
      LCCONV_TEST_FULL_DISK: JSON.stringify({ match: String.raw`weights\.bin$`, after: 2 }),
    },
  });
  assert.equal(stopped.status, 1, stopped.stderr);
  const exp = join(results, 'tiny');
  const dir = join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
  const metrics = join(dir, 'metrics.csv');
  const [header, row1] = readFileSync(metrics, 'utf8').split('\n');

  writeFileSync(metrics, `${header}\n${row1}\n`);
  const cut = lcconv(['run', config, '--quiet', '--resume']);
  assert.equal(cut.status, 2, cut.stderr);
  assert.match(
    cut.stderr.trim(),
    /metrics\.csv: damaged \(no row for epoch 2 of the 2 trained\); the checkpoint of epoch 2 cannot restore these rows: start the run over with --force$/,
  );

  rmSync(metrics);
  const gone = lcconv(['run', config, '--quiet', '--resume']);
  assert.equal(gone.status, 2, gone.stderr);
  assert.match(gone.stderr.trim(), /metrics\.csv: missing \(epochs 1 to 2 were trained\)/);
  assert.ok(!readdirSync(dir).includes('summary.json'));

  // Started over, finished; then its metrics.csv goes: report names it as damaged.
  assert.equal(lcconv(['run', config, '--quiet', '--force']).status, 0);
  rmSync(metrics);
  const report = lcconv(['report', exp, '--no-plots']);
  assert.match(report.stderr + report.stdout, /metrics\.csv: missing \(epochs 1 to 4 were trained\)/);
});

test('metrics.csv is checked exactly: each epoch once, in order, no extras (rows after the checkpoint only for a resume)', () => {
  const dir = tempDir('metrics-exact');
  const header = EPOCH_COLUMNS.join(',');
  const row = (epoch: number) => [epoch, 0.1, 1, 0.5, 1, 0.5, 0.5, 1, 1, 100, 0].join(',');
  const check = (epochs: number[], trained: number, options?: { rowsAfter?: boolean }) => {
    writeFileSync(join(dir, 'metrics.csv'), `${header}\n${epochs.map(row).join('\n')}\n`);
    try {
      checkMetricsComplete(dir, trained, options);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof DamagedFile, String(err));
      return err.message.slice(err.message.indexOf('metrics.csv: ') + 'metrics.csv: '.length);
    }
  };
  assert.equal(check([1, 2, 3], 3), 'ok');
  assert.equal(check([1, 2, 2, 3], 3), 'damaged (epoch 2 has more than one row)');
  assert.equal(check([1, 3, 2], 3), 'damaged (rows out of order: epoch 2 after epoch 3)');
  assert.equal(check([1, 2, 3, 4], 3), 'damaged (row for epoch 4, but 3 were trained)');
  assert.equal(check([1, 2, 3, 4], 3, { rowsAfter: true }), 'ok', 'a resume from epoch 3 drops the row of epoch 4');
  assert.equal(check([1, 3], 3), 'damaged (no row for epoch 2 of the 3 trained)');
});
