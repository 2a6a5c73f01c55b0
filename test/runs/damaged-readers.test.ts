import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

test('a reader of a damaged checkpoint (export) gets one line with a remedy it can use; a folder as weights.bin is not a raw EISDIR', () => {
  const results = tempDir('damaged-readers');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });
  assert.equal(lcconv(['run', config, '--quiet']).status, 0);
  const exp = join(results, 'tiny');
  const dir = join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
  const weights = join(dir, 'checkpoint', 'weights.bin');

  const bytes = readFileSync(weights);
  bytes[bytes.length - 1]! ^= 0xff;
  writeFileSync(weights, bytes);
  const flipped = lcconv(['export', dir]);
  assert.equal(flipped.status, 2, flipped.stderr);
  assert.match(flipped.stderr, /retrain .* --force/);
  assert.doesNotMatch(flipped.stderr, /--resume/, 'export has no --resume');

  rmSync(weights);
  mkdirSync(weights);
  const folder = lcconv(['export', dir]);
  assert.equal(folder.status, 2, folder.stderr);
  assert.match(folder.stderr.trim(), /^lcconv: \S+weights\.bin: cannot read: is a folder \(EISDIR\); retrain /);
  assert.equal(folder.stderr.trim().split('\n').length, 1);
});

test('export --out that is a file, or empty: one line each, exit 2', () => {
  const results = tempDir('export-out');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });
  assert.equal(lcconv(['run', config, '--quiet']).status, 0);
  const exp = join(results, 'tiny');
  const dir = join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
  const file = join(results, 'a-file');
  writeFileSync(file, 'x');
  const onFile = lcconv(['export', dir, '--out', file]);
  assert.equal(onFile.status, 2, onFile.stderr);
  assert.match(onFile.stderr.trim(), /^lcconv: \S+a-file: is a file, not a folder \(name a folder to write into\)$/);
  const empty = lcconv(['export', dir, '--out', '']);
  assert.equal(empty.status, 2, empty.stderr);
  assert.match(empty.stderr.trim(), /^lcconv: --out: empty; name the folder/);
});

test('a summary.json with missing fields is named as such by eval and export, not as "not valid JSON"', () => {
  const results = tempDir('summary-fields');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });
  assert.equal(lcconv(['run', config, '--quiet']).status, 0);
  const exp = join(results, 'tiny');
  const dir = join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  delete summary.seed;
  delete summary.best_val_acc;
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  const r = lcconv(['export', dir]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /summary\.json: damaged \(no valid seed, best_val_acc\)$/);
  assert.doesNotMatch(r.stderr, /not valid JSON/);
});
