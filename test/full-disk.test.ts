import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendToFile, StorageError, writeAtomic } from '../src/fs-safety.js';
import { readMetrics } from '../src/runs/files.js';
import { BIN, tempDir, writeTinyConfig } from './fixtures.js';
import { fillDisk } from './full-disk.js';

const PRELOAD = new URL('./full-disk-preload.js', import.meta.url).pathname;

/** `lcconv args…` with the files matching `match` on a disk that is full after `after` of their opens. */
function lcconvOnFullDisk(args: string[], match?: string, after = 0) {
  return spawnSync(process.execPath, ['--import', PRELOAD, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', LCCONV_TEST_FULL_DISK: match ? JSON.stringify({ match, after }) : '' },
  });
}

/** Every file under `dir`, relative, sorted. */
const filesUnder = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).sort();
const temps = (dir: string) => filesUnder(dir).filter((f) => /\.tmp-/.test(f));
const runDirOf = (results: string) => {
  const exp = join(results, 'tiny');
  return join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
};

test('writeAtomic finishes short writes, and on a full disk keeps the previous file whole and names file and cause', () => {
  const dir = tempDir('durable');
  const file = join(dir, 'summary.json');
  const text = `${'x'.repeat(10_000)}\n`;
  let restore = fillDisk({ match: /summary\.json/, shortBy: 7 });
  try {
    writeAtomic(file, text);
  } finally {
    restore();
  }
  assert.equal(readFileSync(file, 'utf8'), text, 'every byte written through 7-byte writes');
  restore = fillDisk({ match: /summary\.json/ });
  try {
    assert.throws(
      () => writeAtomic(file, 'new content that does not fit'),
      (err: Error) =>
        err instanceof StorageError && err.message === `${file}: cannot write: no space left on device (ENOSPC)`,
    );
  } finally {
    restore();
  }
  assert.equal(readFileSync(file, 'utf8'), text, 'the good file is not replaced by a short one');
  assert.deepEqual(readdirSync(dir), ['summary.json'], 'no temp file left');
});

test('appendToFile adds a row whole or not at all: a full disk cuts the file back to its rows before', () => {
  const dir = tempDir('append');
  const file = join(dir, 'metrics.csv');
  writeFileSync(file, 'epoch,x\n1,0.5\n');
  const restore = fillDisk({ match: /metrics\.csv$/ });
  try {
    assert.throws(
      () => appendToFile(file, '2,0.25\n'),
      /metrics\.csv: cannot append: no space left on device \(ENOSPC\)$/,
    );
  } finally {
    restore();
  }
  assert.equal(readFileSync(file, 'utf8'), 'epoch,x\n1,0.5\n', 'no half row');
});

test('a full disk at a checkpoint keeps the finished epochs: the message says which, and --resume finishes the run', () => {
  const results = tempDir('full-ckpt');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, 'train.epochs': 3 });
  const failed = lcconvOnFullDisk(['run', config, '--quiet'], String.raw`weights\.bin$`, 1);
  assert.equal(failed.status, 1, failed.stderr);
  const dir = runDirOf(results);
  assert.match(
    failed.stderr.trim(),
    /^lcconv: \S+\/checkpoint: cannot write the checkpoint of epoch 2; epoch 1 is checkpointed; free space and continue with --resume: no space left on device \(ENOSPC\)$/,
  );
  assert.deepEqual(temps(dir), [], 'no temp folder left');
  const resumed = lcconvOnFullDisk(['run', config, '--quiet', '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(
    readMetrics(dir).map((r) => r.epoch),
    [1, 2, 3],
  );
});

test('a full disk at the first checkpoint says truthfully that no epoch is checkpointed', () => {
  const results = tempDir('full-first');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });
  const failed = lcconvOnFullDisk(['run', config, '--quiet'], String.raw`weights\.bin$`);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(
    failed.stderr.trim(),
    /cannot write the checkpoint of epoch 1; no epoch is checkpointed yet: no space left on device \(ENOSPC\)$/,
  );
  assert.doesNotMatch(failed.stderr, /previous one is kept|epoch 0/);
});

test('a full disk at a metrics row, at summary.json and at the TensorBoard file: one line each, nothing torn', () => {
  const cases: [string, number, RegExp][] = [
    [String.raw`metrics\.csv$`, 1, /metrics\.csv: cannot append: no space left on device \(ENOSPC\)$/],
    [String.raw`summary\.json\.tmp-`, 0, /summary\.json: cannot write: no space left on device \(ENOSPC\)$/],
    [
      String.raw`events\.out\.tfevents\.`,
      0,
      /events\.out\.tfevents\.\S+: cannot append: no space left on device \(ENOSPC\)$/,
    ],
  ];
  for (const [match, after, message] of cases) {
    const results = tempDir('full-files');
    const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, 'train.epochs': 2 });
    const failed = lcconvOnFullDisk(['run', config, '--quiet'], match, after);
    assert.equal(failed.status, 1, `${match}: ${failed.stderr}`);
    assert.match(failed.stderr.trim(), message, match);
    assert.equal(failed.stderr.trim().split('\n').length, 1, `${match}: one line`);
    const dir = runDirOf(results);
    assert.deepEqual(temps(dir), [], `${match}: no temp file left`);
    assert.ok(!filesUnder(dir).includes('summary.json'), `${match}: not marked finished`);
    if (after)
      assert.deepEqual(
        readMetrics(dir).map((r) => r.epoch),
        [1],
        'the rows before stay readable, no half row',
      );
  }
});

test('export on a full disk: one line naming the file, no model.safetensors.tmp-<pid> left, an earlier export kept', () => {
  const results = tempDir('full-export');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });
  assert.equal(lcconvOnFullDisk(['run', config, '--quiet']).status, 0);
  const dir = runDirOf(results);
  const out = join(results, 'out');
  assert.equal(lcconvOnFullDisk(['export', dir, '--out', out]).status, 0);
  const before = readFileSync(join(out, 'model.safetensors'));
  const failed = lcconvOnFullDisk(['export', dir, '--out', out], String.raw`model\.safetensors\.tmp-`);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(
    failed.stderr.trim(),
    /^lcconv: \S+model\.safetensors: cannot write: no space left on device \(ENOSPC\)$/,
  );
  assert.deepEqual(readdirSync(out).sort(), ['model.json', 'model.safetensors']);
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), before);
});

test('a full disk at eval.csv, at a plot, at the run lock and at the sbatch script: one line each, exit 1, nothing torn', () => {
  const results = tempDir('full-more');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), {
    results_dir: results,
    'eval.attacks': ['fgsm'],
    'eval.corruptions': [],
    'eval.linf_epsilons': [1],
    'eval.images': 16,
  });
  assert.equal(lcconvOnFullDisk(['run', config, '--quiet']).status, 0);
  const dir = runDirOf(results);
  const exp = join(results, 'tiny');
  const oneLine = (r: ReturnType<typeof lcconvOnFullDisk>, message: RegExp, what: string) => {
    assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('lcconv: ') && !l.startsWith('lcconv: warning:'));
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0]!, message, what);
  };

  // eval.csv: the first row cannot be saved; no eval.csv, no temp file.
  oneLine(
    lcconvOnFullDisk(['eval', dir, '--quiet'], String.raw`eval\.csv\.tmp-`),
    /eval\.csv: cannot write: no space left on device \(ENOSPC\)$/,
    'eval.csv',
  );
  assert.deepEqual(temps(dir), [], 'eval.csv: no temp file left');
  assert.ok(!filesUnder(dir).includes('eval.csv'));

  // A plot of the report: report.csv is written, the plot is not half a file.
  oneLine(
    lcconvOnFullDisk(['report', exp], String.raw`\.png\.tmp-`),
    /\.png: cannot write: no space left on device \(ENOSPC\)$/,
    'plot',
  );
  assert.deepEqual(temps(exp), [], 'plot: no temp file left');

  // The run lock: not taken, and no half-written lock left to block the next run.
  oneLine(
    lcconvOnFullDisk(['run', config, '--quiet', '--force'], String.raw`running\.json$`),
    /running\.json: cannot take the run's lock: no space left on device \(ENOSPC\)$/,
    'lock',
  );
  assert.ok(!filesUnder(dir).includes('running.json'), 'no half lock left');

  // The sbatch script of a Slurm sweep (written even by --dry-run).
  const sweep = writeTinyConfig(join(results, 'sweep.yaml'), { results_dir: results, sweep: { seed: [0, 1] } });
  oneLine(
    lcconvOnFullDisk(['sweep', sweep, '--executor', 'slurm', '--dry-run'], String.raw`\.sbatch\.tmp-`),
    /\.sbatch: cannot write: no space left on device \(ENOSPC\)$/,
    'sbatch script',
  );
  assert.deepEqual(temps(join(results, 'tiny', 'sweep', 'slurm')), [], 'sbatch: no temp file left');
});
