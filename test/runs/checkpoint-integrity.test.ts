import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DamagedCheckpoint, sealedManifest, verifiedManifest } from '../../src/runs/checkpoint-integrity.js';

const files = { manifest: 'run/checkpoint/checkpoint.json', weights: 'run/checkpoint/weights.bin' };
const state = { epoch: 3, best: { acc: 0.5, epoch: 2 }, lastEval: { loss: 1.2, acc: 0.5 }, lastTrainAcc: 0.6, trainSeconds: 10, wallSeconds: 12 };
const weights = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const text = sealedManifest({ state, frozenDigest: 'abc', weightSpecs: [] }, weights);
const verify = (t: string, w = weights, epochs = 6) => verifiedManifest<{ state: typeof state }>(files, t, w, epochs, 'what to do');
const fails = (fn: () => unknown, message: RegExp) => assert.throws(fn, (err: Error) => err instanceof DamagedCheckpoint && message.test(err.message) && !err.message.includes('\n'));

test('a sealed checkpoint verifies and gives its state back', () => {
  assert.deepEqual(verify(text).state, state);
});

test('a flipped bit in weights.bin, an edited manifest, bad JSON or an old format are one line naming the file and the remedy', () => {
  const flipped = weights.slice();
  flipped[5]! ^= 0x10;
  fails(() => verify(text, flipped), /^run\/checkpoint\/weights\.bin: SHA-256 differs from the one recorded in run\/checkpoint\/checkpoint\.json \(damaged\); what to do$/);
  fails(() => verify(text.replace('"epoch": 3', '"epoch": 999')), /^run\/checkpoint\/checkpoint\.json: contents do not match its checksum \(edited or damaged\); what to do$/);
  fails(() => verify(text.slice(0, 40)), /checkpoint\.json: not valid JSON/);
  fails(() => verify(JSON.stringify({ format: 'lcconv-checkpoint-1', state })), /format "lcconv-checkpoint-1" is not lcconv-checkpoint-2/);
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
