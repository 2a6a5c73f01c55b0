import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHECKPOINT_DIR, CHECKPOINT_MANIFEST, CHECKPOINT_WEIGHTS, lockRun, readMetrics, truncateMetrics, writeTrialError } from '../../src/runs/files.js';
import { openRun } from '../../src/runs/lifecycle.js';
import { EPOCH_COLUMNS } from '../../src/runs/records.js';
import { runState } from '../../src/runs/state.js';
import { fixtureRun, tempDir, tinyConfig } from '../fixtures.js';

const fakeCheckpoint = (dir: string, epoch: number) => {
  mkdirSync(join(dir, CHECKPOINT_DIR), { recursive: true });
  writeFileSync(join(dir, CHECKPOINT_DIR, CHECKPOINT_MANIFEST), JSON.stringify({ format: 'x', state: { epoch }, frozenDigest: '', weightSpecs: [] }));
  writeFileSync(join(dir, CHECKPOINT_DIR, CHECKPOINT_WEIGHTS), '');
};

test('metrics.csv: read as numbers with null for empty cells; truncated after a checkpoint epoch', () => {
  const dir = tempDir('metrics');
  const row = (epoch: number, val: string) => [epoch, 0.1, 1.5, 0.5, val, val, 0.6, 1, 100, 10, 5].join(',');
  writeFileSync(join(dir, 'metrics.csv'), `${EPOCH_COLUMNS.join(',')}\n${row(1, '')}\n${row(2, '0.6')}\n${row(3, '0.7')}\n`);
  const rows = readMetrics(dir);
  assert.equal(rows.length, 3);
  assert.equal(rows[0]!.val_acc, null);
  assert.equal(rows[1]!.val_acc, 0.6);
  assert.equal(rows[2]!.learnable_params, 10);
  truncateMetrics(dir, 2);
  assert.deepEqual(readMetrics(dir).map((r) => r.epoch), [1, 2]);
  assert.equal(readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n')[0], EPOCH_COLUMNS.join(','));
  assert.deepEqual(readMetrics(join(dir, 'nothing-here')), []);
});

test('run state: pending → running → failed / interrupted → finished, from the files alone', () => {
  const dir = join(tempDir('state'), 'run');
  assert.equal(runState(dir).state, 'pending');
  const lock = lockRun(dir);
  assert.equal(runState(dir).state, 'running'); // this process is alive
  fakeCheckpoint(dir, 2);
  assert.equal(runState(dir).checkpointEpoch, 2);
  lock.release();
  assert.equal(runState(dir).state, 'interrupted');
  writeTrialError(dir, { message: 'boom' });
  assert.deepEqual([runState(dir).state, runState(dir).error?.message], ['failed', 'boom']);
  const exp = tempDir('state-finished');
  fixtureRun(exp, 'learned', 3, 0, 0.8, 900);
  const finished = runState(join(exp, 'learned-k3-E1-seed0-fixture0'));
  assert.equal(finished.state, 'finished');
  assert.equal(finished.summary?.final_val_acc, 0.8);
  // A summary.json written before snake_case throughout still reads, in the new spelling.
  const oldDir = join(exp, 'old');
  mkdirSync(oldDir);
  writeFileSync(join(oldDir, 'summary.json'), JSON.stringify({ status: 'finished', runId: 'r', kernelSize: 5, lcExpansion: 2, lcDepthwise: false, freeze: 'learned', seed: 0, final_val_acc: 0.5, best_val_acc: 0.5 }));
  const old = runState(oldDir).summary!;
  assert.deepEqual([old.run_id, old.kernel_size, old.lc_expansion, old.lc_depthwise, 'runId' in old], ['r', 5, 2, false, false]);
});

test('reuse and resume policy: a finished run is reused unless forced; a fresh start drops the old checkpoint, a resume keeps it', () => {
  const config = tinyConfig([`results_dir=${tempDir('policy')}`]);
  const first = openRun(config, 0, { gitCommit: null });
  assert.equal(first.finished, null);
  fakeCheckpoint(first.identity.dir, 1);
  assert.equal(runState(first.identity.dir).checkpointEpoch, 1);
  openRun(config, 0, { resume: true, gitCommit: null });
  assert.equal(runState(first.identity.dir).checkpointEpoch, 1, 'resume keeps the checkpoint');
  openRun(config, 0, { gitCommit: null });
  assert.equal(runState(first.identity.dir).checkpointEpoch, null, 'a fresh start removes it');

  const summary = { ...first.identity, status: 'finished', final_val_acc: 0.5, best_val_acc: 0.5 };
  writeFileSync(join(first.identity.dir, 'summary.json'), JSON.stringify(summary));
  assert.equal(openRun(config, 0, { gitCommit: null }).finished?.final_val_acc, 0.5);
  assert.equal(openRun(config, 0, { force: true, gitCommit: null }).finished, null);
});
