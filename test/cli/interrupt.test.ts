import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointEpoch } from '../../src/runs/files.js';
import { BIN, tempDir, tinyYaml } from '../fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Ctrl-C mid-epoch stops within a step, not at the end of the epoch; the checkpoint stays at the last finished epoch; a rerun without --resume/--force is refused', {
  timeout: 600_000,
}, async () => {
  const dir = tempDir('interrupt');
  const config = join(dir, 'interrupt.yaml');
  const STEPS = 60; // per epoch: long enough that "the end of the epoch" is far from "the next step"
  writeFileSync(config, tinyYaml({ name: 'interrupt', 'dataset.synthetic.train_size': 16 * STEPS, 'train.epochs': 2 }));
  const child = spawn(process.execPath, [BIN, 'run', config, '--set', `results_dir=${dir}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const runDir = () =>
    readdirSync(join(dir, 'interrupt'))
      .map((d) => join(dir, 'interrupt', d))
      .find((d) => existsSync(join(d, 'metrics.csv')));

  // Epoch 1 finished and checkpointed: its duration says how long epoch 2 would take.
  let run: string | undefined;
  for (;;) {
    run = existsSync(join(dir, 'interrupt')) ? runDir() : undefined;
    if (child.exitCode !== null || (run && (checkpointEpoch(run) ?? 0) >= 1)) break;
    await sleep(20);
  }
  const epochColumns = readFileSync(join(run!, 'metrics.csv'), 'utf8').trim().split('\n');
  const epochSeconds = Number(epochColumns[1]!.split(',')[epochColumns[0]!.split(',').indexOf('epoch_seconds')]);
  await sleep(epochSeconds * 1000 * 0.1); // a few steps into epoch 2
  const sent = performance.now();
  child.kill('SIGINT');
  const code = await exited;
  const stopSeconds = (performance.now() - sent) / 1000;

  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: stopping after the current step/);
  assert.ok(
    stopSeconds < epochSeconds / 2,
    `stopped ${stopSeconds.toFixed(2)} s after the signal; the epoch takes ${epochSeconds.toFixed(2)} s`,
  );
  assert.equal(checkpointEpoch(run!), 1, 'checkpoint of the last finished epoch');
  assert.equal(readFileSync(join(run!, 'metrics.csv'), 'utf8').trim().split('\n').length, 2, 'header and epoch 1 only');
  assert.equal(existsSync(join(run!, 'summary.json')), false);

  // Rerunning without --resume or --force is refused (one line naming both), the progress kept.
  const again = spawnSync(process.execPath, [BIN, 'run', config, '--set', `results_dir=${dir}`], { encoding: 'utf8' });
  assert.equal(again.status, 2, again.stderr);
  assert.match(
    again.stderr,
    /^lcconv: learned-k3-E1-seed0-\w+: interrupted after epoch 1 \(checkpoint in .*\); continue it with --resume, or start it over with --force\n$/,
  );
  assert.equal(checkpointEpoch(run!), 1);
  assert.equal(readFileSync(join(run!, 'metrics.csv'), 'utf8').trim().split('\n').length, 2);
});
