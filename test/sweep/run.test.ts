import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { checkpointEpoch } from '../../src/runs/files.js';
import { BIN, lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

test('sweep: a failed trial is recorded and the others go on; finished trials are skipped on a rerun', {
  timeout: 300_000,
}, () => {
  const dir = tempDir('sweep');
  const config = join(dir, 'sweep.yaml');
  // train_size 8 < batch_size 16: that trial fails at the start of training (an input error only this trial has).
  writeTinyConfig(config, {
    name: 'bookkeeping',
    results_dir: join(dir, 'results'),
    'dataset.synthetic.test_size': 16,
    freeze: 'frozen',
    sweep: { 'dataset.synthetic.train_size': [64, 8, 32] },
  });
  const trials = sweepTrials(loadConfigFile(config).config);
  const dirs = trials.map((t) => t.identity.dir);

  const first = lcconv(['sweep', config, '--workers', '2']);
  assert.equal(first.status, 1, `a failed trial fails the sweep: ${first.stderr}`);
  assert.match(first.stderr, /1 of 3 trials failed: 1 \(.*error\.json\)/);
  assert.match(first.stdout, /trial 1 .*FAILED \(exit code 2\).*train\.batch_size: 16 is larger than the training set/);
  const error = JSON.parse(readFileSync(join(dirs[1]!, 'error.json'), 'utf8'));
  assert.match(error.message, /train\.batch_size: 16 is larger than the training set \(8 images of synthetic\)/);
  assert.equal(existsSync(join(dirs[1]!, 'summary.json')), false);
  for (const i of [0, 2]) assert.ok(existsSync(join(dirs[i]!, 'summary.json')), `trial ${i} finished despite trial 1`);
  assert.match(
    readFileSync(join(dir, 'results', 'bookkeeping', 'report.md'), 'utf8'),
    /## Failed trials[\s\S]*larger than the training set/,
  );

  const status = lcconv(['sweep', config, '--status']);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /^0 .* finished$/m);
  assert.match(
    status.stdout,
    /^1 .* failed: train\.batch_size: 16 is larger than the training set \(8 images of synthetic\)/m,
  );
  assert.match(status.stdout, /3 trials: 2 finished, 0 running, 0 queued, 1 failed, 0 pending/);

  // Rerun: only the failed trial runs again; finished ones are not touched.
  const mtimes = [0, 2].map((i) => statSync(join(dirs[i]!, 'summary.json')).mtimeMs);
  const second = lcconv(['sweep', config, '--workers', '2']);
  assert.equal(second.status, 1);
  assert.match(
    second.stdout,
    /3 trials: 2 finished, 0 running, 0 queued, 1 failed, 0 pending; running 1 with 1 worker/,
  );
  assert.doesNotMatch(second.stdout, /trial [02] .*started/);
  assert.deepEqual(
    [0, 2].map((i) => statSync(join(dirs[i]!, 'summary.json')).mtimeMs),
    mtimes,
  );

  // One trial alone, by run id, as an external scheduler would run it: reused, not retrained.
  const alone = lcconv(['run', config, '--trial', trials[2]!.identity.run_id]);
  assert.equal(alone.status, 0, alone.stderr);
  assert.match(alone.stdout, /already finished/);
  const bad = lcconv(['run', config]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /has a sweep: block; run every trial with 'lcconv sweep/);
});

test('sweep: Ctrl-C stops the workers cleanly: exit 130, CSV rows = checkpointed epochs, no error recorded', {
  timeout: 300_000,
}, async () => {
  const dir = tempDir('sweep-int');
  const config = join(dir, 'sweep.yaml');
  writeTinyConfig(config, {
    name: 'interrupt',
    results_dir: join(dir, 'results'),
    'dataset.synthetic.train_size': 128,
    'dataset.synthetic.test_size': 16,
    freeze: 'frozen',
    'train.epochs': 20,
    sweep: { seed: [0, 1, 2] },
  });
  const dirs = sweepTrials(loadConfigFile(config).config).map((t) => t.identity.dir);
  const epochOf = (d: string) => checkpointEpoch(d) ?? 0;
  const parent = spawn(process.execPath, [BIN, 'sweep', config, '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let out = '';
  parent.stdout.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => parent.on('exit', (code) => r(code)));
  while (parent.exitCode === null && !(epochOf(dirs[0]!) >= 1 && epochOf(dirs[1]!) >= 1))
    await new Promise((r) => setTimeout(r, 20));
  const pids = [0, 1].map((i) => JSON.parse(readFileSync(join(dirs[i]!, 'running.json'), 'utf8')).pid as number);
  parent.kill('SIGINT');
  assert.equal(await exit, 130, out);
  assert.match(out, /trial 0 .*stopped after/);
  assert.match(out, /trial 1 .*stopped after/);
  assert.doesNotMatch(out, /trial 2 .*started/, 'no new trial starts after Ctrl-C');
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} has exited`);
  for (const d of dirs.slice(0, 2)) {
    const rows = readFileSync(join(d, 'metrics.csv'), 'utf8').trim().split('\n').length - 1;
    assert.equal(rows, epochOf(d), `${d}: CSV and checkpoint agree`);
    assert.ok(
      rows < 20 &&
        !existsSync(join(d, 'summary.json')) &&
        !existsSync(join(d, 'error.json')) &&
        !existsSync(join(d, 'running.json')),
    );
  }
});
