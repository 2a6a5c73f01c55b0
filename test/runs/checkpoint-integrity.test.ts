import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DamagedCheckpoint, sealedManifest, verifiedManifest } from '../../src/runs/checkpoint-integrity.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const files = { manifest: 'run/checkpoint/checkpoint.json', weights: 'run/checkpoint/weights.bin' };
const state = {
  epoch: 3,
  best: { acc: 0.5, epoch: 2 },
  lastEval: { loss: 1.2, acc: 0.5 },
  lastTrainAcc: 0.6,
  trainSeconds: 10,
  wallSeconds: 12,
};
const weights = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const text = sealedManifest({ state, frozenDigest: 'abc', weightSpecs: [] }, weights);
const verify = (t: string, w = weights, epochs = 6) =>
  verifiedManifest<{ state: typeof state }>(files, t, w, epochs, 'what to do');
const fails = (fn: () => unknown, message: RegExp) =>
  assert.throws(
    fn,
    (err: Error) => err instanceof DamagedCheckpoint && message.test(err.message) && !err.message.includes('\n'),
  );

test('a sealed checkpoint verifies and gives its state back', () => {
  assert.deepEqual(verify(text).state, state);
});

test('a flipped bit in weights.bin, an edited manifest, bad JSON or an old format are one line naming the file and the remedy', () => {
  const flipped = weights.slice();
  flipped[5]! ^= 0x10;
  fails(
    () => verify(text, flipped),
    /^run\/checkpoint\/weights\.bin: SHA-256 differs from the one recorded in run\/checkpoint\/checkpoint\.json \(damaged\); what to do$/,
  );
  fails(
    () => verify(text.replace('"epoch": 3', '"epoch": 999')),
    /^run\/checkpoint\/checkpoint\.json: contents do not match its checksum \(edited or damaged\); what to do$/,
  );
  fails(() => verify(text.slice(0, 40)), /checkpoint\.json: not valid JSON/);
  fails(
    () => verify(JSON.stringify({ format: 'lcconv-checkpoint-1', state })),
    /format "lcconv-checkpoint-1" is not lcconv-checkpoint-2/,
  );
});

test('the state is range-checked even when the checksums agree (epoch 999, epoch -5, best after the epoch)', () => {
  for (const [bad, message] of [
    [{ ...state, epoch: 999 }, /state\.epoch: .*got 999/],
    [{ ...state, epoch: -5 }, /state\.epoch: .*got -5/],
    [{ ...state, best: { acc: 0.5, epoch: 5 } }, /state\.best\.epoch: best epoch after the checkpoint epoch/],
    [{ ...state, lastTrainAcc: 7 }, /state\.lastTrainAcc: .*got 7/],
  ] as const) {
    fails(() => verify(sealedManifest({ state: bad, frozenDigest: 'abc', weightSpecs: [] }, weights)), message);
  }
});

test('CLI: a bit-flipped weights.bin stops --resume (exit 2, naming the file and the way out); the previous checkpoint resumes; --force --resume retrains; --resume without a checkpoint says so', {
  timeout: 180_000,
}, () => {
  const dir = tempDir('ckpt-cli');
  const config = writeTinyConfig(join(dir, 'exp.yaml'), { results_dir: join(dir, 'results'), 'train.epochs': 2 });
  assert.equal(lcconv(['run', config, '--quiet']).status, 0);
  const exp = join(dir, 'results', 'tiny');
  const run = join(exp, readdirSync(exp).find((d) => d.startsWith('learned-'))!);
  rmSync(join(run, 'summary.json')); // unfinished again, checkpointed at epoch 2 (checkpoint.prev at epoch 1)
  const weights = join(run, 'checkpoint', 'weights.bin');
  const bytes = readFileSync(weights);
  bytes[100]! ^= 0x04;
  writeFileSync(weights, bytes);

  const damaged = lcconv(['run', config, '--resume']);
  assert.equal(damaged.status, 2, damaged.stderr);
  assert.equal(
    damaged.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('lcconv:')).length,
    1,
  );
  assert.match(
    damaged.stderr,
    new RegExp(
      `^lcconv: ${weights}: SHA-256 differs from the one recorded in .*checkpoint\\.json \\(damaged\\); delete ${join(run, 'checkpoint')} to resume from the previous checkpoint`,
      'm',
    ),
  );

  rmSync(join(run, 'checkpoint'), { recursive: true });
  const previous = lcconv(['run', config, '--resume']);
  assert.equal(previous.status, 0, previous.stderr);
  assert.doesNotMatch(previous.stdout, /epoch 1\/2/);
  assert.match(previous.stdout, /epoch 2\/2/);
  assert.deepEqual(
    readFileSync(join(run, 'metrics.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
    ['1', '2'],
  );

  const forced = lcconv(['run', config, '--force', '--resume']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /epoch 1\/2/, '--force retrains the finished run from epoch 1 even with --resume');

  rmSync(join(run, 'summary.json'));
  for (const d of ['checkpoint', 'checkpoint.prev']) rmSync(join(run, d), { recursive: true, force: true });
  const none = lcconv(['run', config, '--resume']);
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /no checkpoint to resume from in .*; starting at epoch 1/);
});
