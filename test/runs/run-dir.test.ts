import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempPath } from '../../src/fs-safety.js';
import {
  CHECKPOINT_DIR,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_WEIGHTS,
  lockRun,
  readMetrics,
  truncateMetrics,
  writeAtomic,
  writeTrialError,
} from '../../src/runs/files.js';
import { InputError } from '../../src/errors.js';
import { checkUnfinished, openRun } from '../../src/runs/lifecycle.js';
import { runIdentity } from '../../src/runs/identity.js';
import { EPOCH_COLUMNS } from '../../src/runs/records.js';
import { runState } from '../../src/runs/state.js';
import { fixtureRun, lcconv, tempDir, tinyConfig, writeTinyConfig } from '../fixtures.js';

const fakeCheckpoint = (dir: string, epoch: number) => {
  mkdirSync(join(dir, CHECKPOINT_DIR), { recursive: true });
  writeFileSync(
    join(dir, CHECKPOINT_DIR, CHECKPOINT_MANIFEST),
    JSON.stringify({ format: 'x', state: { epoch }, frozenDigest: '', weightSpecs: [] }),
  );
  writeFileSync(join(dir, CHECKPOINT_DIR, CHECKPOINT_WEIGHTS), '');
};

test('metrics.csv: read as numbers with null for empty cells; truncated after a checkpoint epoch', () => {
  const dir = tempDir('metrics');
  const row = (epoch: number, val: string) => [epoch, 0.1, 1.5, 0.5, val, val, 0.6, 1, 100, 10, 5].join(',');
  writeFileSync(
    join(dir, 'metrics.csv'),
    `${EPOCH_COLUMNS.join(',')}\n${row(1, '')}\n${row(2, '0.6')}\n${row(3, '0.7')}\n`,
  );
  const rows = readMetrics(dir);
  assert.equal(rows.length, 3);
  assert.equal(rows[0]!.val_acc, null);
  assert.equal(rows[1]!.val_acc, 0.6);
  assert.equal(rows[2]!.learnable_params, 10);
  truncateMetrics(dir, 2);
  assert.deepEqual(
    readMetrics(dir).map((r) => r.epoch),
    [1, 2],
  );
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
  writeFileSync(
    join(oldDir, 'summary.json'),
    JSON.stringify({
      status: 'finished',
      runId: 'r',
      kernelSize: 5,
      lcExpansion: 2,
      lcDepthwise: false,
      freeze: 'learned',
      seed: 0,
      final_val_acc: 0.5,
      best_val_acc: 0.5,
    }),
  );
  const old = runState(oldDir).summary!;
  assert.deepEqual(
    [old.run_id, old.kernel_size, old.lc_expansion, old.lc_depthwise, 'runId' in old],
    ['r', 5, 2, false, false],
  );
});

test('reuse and resume policy: a finished run is reused unless forced; an interrupted one is refused without --resume/--force, kept by resume, dropped by force', () => {
  const config = tinyConfig([`results_dir=${tempDir('policy')}`]);
  const first = openRun(config, 0, { gitCommit: null });
  assert.equal(first.finished, null);
  fakeCheckpoint(first.identity.dir, 1);
  assert.equal(runState(first.identity.dir).checkpointEpoch, 1);
  openRun(config, 0, { resume: true, gitCommit: null });
  assert.equal(runState(first.identity.dir).checkpointEpoch, 1, 'resume keeps the checkpoint');
  assert.throws(
    () => openRun(config, 0, { gitCommit: null }),
    (err: Error) =>
      err instanceof InputError &&
      /interrupted after epoch 1 .*continue it with --resume, or start it over with --force$/.test(err.message),
  );
  assert.equal(runState(first.identity.dir).checkpointEpoch, 1, 'refused: the progress stays');
  openRun(config, 0, { force: true, gitCommit: null });
  assert.equal(runState(first.identity.dir).checkpointEpoch, null, '--force starts over');

  const summary = { ...first.identity, status: 'finished', final_val_acc: 0.5, best_val_acc: 0.5 };
  writeFileSync(join(first.identity.dir, 'summary.json'), JSON.stringify(summary));
  assert.equal(openRun(config, 0, { gitCommit: null }).finished?.final_val_acc, 0.5);
  assert.equal(openRun(config, 0, { force: true, gitCommit: null }).finished, null);
});

test('damaged files (summary, metrics, error, running) make that run `damaged`, by name; report goes on with the others', async () => {
  const exp = tempDir('damaged');
  for (const seed of [0, 1, 2, 3, 4]) fixtureRun(exp, 'learned', 3, seed, 0.8, 900);
  const dirOf = (seed: number) => join(exp, `learned-k3-E1-seed${seed}-fixture0`);
  writeFileSync(join(dirOf(1), 'summary.json'), '{"status": "finished", "run_id": ');
  writeFileSync(join(dirOf(2), 'metrics.csv'), 'garbage without header\n1,2,3\n');
  rmSync(join(dirOf(3), 'summary.json'));
  writeFileSync(join(dirOf(3), 'error.json'), '[]');
  rmSync(join(dirOf(4), 'summary.json'));
  writeFileSync(join(dirOf(4), 'running.json'), 'half-writ'); // a writer killed mid-write, long ago
  utimesSync(join(dirOf(4), 'running.json'), new Date(0), new Date(0));
  assert.equal(runState(dirOf(0)).state, 'finished');
  assert.deepEqual(
    [1, 2, 3].map((s) => [runState(dirOf(s)).state, runState(dirOf(s)).damage]),
    [
      ['damaged', `${join(dirOf(1), 'summary.json')}: damaged (not valid JSON)`],
      ['damaged', `${join(dirOf(2), 'metrics.csv')}: damaged (no header with an epoch column)`],
      ['damaged', `${join(dirOf(3), 'error.json')}: damaged (not a JSON object)`],
    ],
  );
  assert.equal(runState(dirOf(4)).state, 'interrupted', 'a stale, unreadable lock is no lock');
  const { writeReport } = await import('../../src/results/report.js');
  const report = await writeReport(exp, { plots: false });
  assert.equal(report.runs.length, 1);
  assert.deepEqual(
    report.damaged.map((d) => d.name).sort(),
    [1, 2, 3].map((s) => `learned-k3-E1-seed${s}-fixture0`),
  );
  assert.deepEqual(report.failed, [], 'damaged runs are not failed trials');
  const md = readFileSync(join(exp, 'report.md'), 'utf8');
  assert.match(md, /seed1-fixture0`: .*summary\.json: damaged \(not valid JSON\)/);
  assert.doesNotMatch(md, /error\.json\)/, 'no pointer to an error.json');
});

test('metrics.csv deleted while the run writes it stops the run with one line naming it, not a headerless restart', async () => {
  const config = tinyConfig([`results_dir=${tempDir('metrics-gone')}`]);
  const run = openRun(config, 0, { gitCommit: null });
  assert.equal(run.finished, null);
  if (run.finished) return;
  const row = (epoch: number) => ({
    epoch,
    lr: 0.1,
    train_loss: 1,
    train_acc: 0.5,
    val_loss: 1,
    val_acc: 0.5,
    best_val_acc: 0.5,
    epoch_seconds: 1,
    images_per_second: 1,
    learnable_params: 1,
    frozen_params: 0,
  });
  run.recorder.start({
    ...run.identity,
    arch: 'resnet8',
    dataset: 'synthetic',
    epochs: 3,
    stepsPerEpoch: 1,
    batchSize: 1,
    counts: { total: 1, learnable: 1, frozen: 0, stored: 1, buffers: 0 },
    lcCompute: 'auto',
    lcForms: {},
    backend: 'cpu',
    device: 'cpu',
    firstEpoch: 1,
  });
  await run.recorder.epoch(row(1));
  rmSync(join(run.identity.dir, 'metrics.csv'));
  await assert.rejects(
    run.recorder.epoch(row(2)),
    /metrics\.csv: deleted while the run was writing it; the rows of earlier epochs are lost/,
  );
});

test('a failed atomic write names the file and the real cause and leaves no temp file (ENOSPC through /dev/full)', {
  skip: !existsSync('/dev/full') && 'no /dev/full',
}, () => {
  const dir = tempDir('enospc');
  const file = join(dir, 'summary.json');
  symlinkSync('/dev/full', tempPath(file)); // the temp file writeAtomic will write: every write to it fails with ENOSPC
  assert.throws(
    () => writeAtomic(file, '{}'),
    (err: Error) => err.message === `${file}: cannot write: no space left on device (ENOSPC)`,
  );
  assert.deepEqual(readdirSync(dir), [], 'temp file removed, nothing half-written');
});

test('a read-only results folder is reported as read-only (EROFS), naming the path', {
  skip: (process.getuid?.() !== 0 || process.platform !== 'linux') && 'needs root to mount a read-only tmpfs',
}, (t) => {
  const dir = tempDir('erofs');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]).status !== 0)
    return t.skip('mount refused here');
  try {
    assert.throws(
      () => writeAtomic(join(dir, 'exp', 'summary.json'), '{}'),
      new RegExp(`^StorageError: ${join(dir, 'exp')}: cannot create this folder: read-only file system \\(EROFS\\)$`),
    );
  } finally {
    spawnSync('umount', [dir]);
  }
});

test('rerunning a failed run (error.json, a checkpoint) says it failed and why, not "interrupted"', () => {
  const config = tinyConfig([`results_dir=${tempDir('failed-rerun')}`]);
  const { dir } = runIdentity(config, config.seed);
  fakeCheckpoint(dir, 2);
  writeTrialError(dir, { message: 'non-finite training loss (NaN) in epoch 3 at step 4\nmore detail' });
  assert.throws(
    () => checkUnfinished(config, config.seed, {}),
    (err: Error) =>
      err instanceof InputError &&
      /: failed after epoch 2: non-finite training loss \(NaN\) in epoch 3 at step 4; start it over with --force, or retry from the checkpoint of epoch 2/.test(
        err.message,
      ) &&
      !/interrupted/.test(err.message),
  );
});

test('run of a finished run on a read-only file system: one line naming the path and EROFS, no raw Node error', {
  skip: (process.getuid?.() !== 0 || process.platform !== 'linux') && 'needs root to mount a tmpfs',
}, (t) => {
  const dir = tempDir('erofs-run');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]).status !== 0)
    return t.skip('mount refused here');
  try {
    const config = join(tempDir('erofs-config'), 'tiny.yaml');
    writeTinyConfig(config, { results_dir: dir });
    assert.equal(lcconv(['run', config, '--quiet']).status, 0);
    if (spawnSync('mount', ['-o', 'remount,ro', dir]).status !== 0) return t.skip('remount refused here');
    const r = lcconv(['run', config, '--quiet']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), /^lcconv: \S+: [^:]+: read-only file system \(EROFS\)$/);
    assert.doesNotMatch(r.stderr, /EROFS: read-only file system, open|--verbose/);
  } finally {
    spawnSync('umount', [dir]);
  }
});
