import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { EPOCH_COLUMNS } from '../../src/runs/records.js';
import { BIN, fixtureRun, inputErrorOf, lcconv, tempDir, writeTinyConfig } from '../fixtures.js';


test('smoke run end to end: files, CSV columns, accuracy beats chance, comparison table', { timeout: 600_000 }, () => {
  const results = tempDir('smoke');
  const r = lcconv(['run', 'configs/smoke.yaml', '--set', `results_dir=${results}`]);
  assert.equal(r.status, 0, r.stderr);
  const exp = join(results, 'smoke');
  const runs = readdirSync(exp).filter((d) => !d.endsWith('.csv'));
  assert.equal(runs.length, 2, 'frozen arm and standard-training arm');
  for (const run of runs) {
    const dir = join(exp, run);
    const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], EPOCH_COLUMNS.join(','));
    assert.equal(lines.length, 1 + 3, 'one row per epoch');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'finished');
    assert.equal(summary.seed, 0);
    assert.ok(summary.params.learnable > 0 && summary.versions.tfjs);
    assert.ok(summary.final_val_acc > 0.1, `${run}: ${summary.final_val_acc} is not above chance (0.1)`);
    if (summary.freeze === 'learned') assert.ok(summary.final_val_acc > 0.3, `learned arm should clearly beat chance, got ${summary.final_val_acc}`);
    assert.equal(parse(readFileSync(join(dir, 'config.yaml'), 'utf8')).freeze, summary.freeze);
  }
  const comparison = readFileSync(join(exp, 'comparison.csv'), 'utf8').trim().split('\n');
  assert.equal(comparison[0], 'freeze,kernel_size,lc_expansion,lc_depthwise,n,val_acc_mean,val_acc_std,best_val_acc_mean,delta_vs_standard,delta_vs_standard_ci95_low,delta_vs_standard_ci95_high,delta_vs_learned_same_e,delta_vs_learned_same_e_ci95_low,delta_vs_learned_same_e_ci95_high,learnable_params,stored_weights,group');
  assert.equal(comparison.length, 3);
  assert.match(r.stdout, /Δ vs standard/);

  // A second run reuses both finished runs instead of retraining.
  const again = lcconv(['run', 'configs/smoke.yaml', '--set', `results_dir=${results}`, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal((again.stderr.match(/already finished/g) ?? []).length, 2);
  assert.equal(JSON.parse(again.stdout).comparison.length, 2);
});

test('bad config: one line naming file, line and key; exit 2; no stack; nothing written', () => {
  const dir = tempDir('bad');
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `name: bad\nresults_dir: ${join(dir, 'out')}\nmodel:\n  kernel_size: 4\n`);
  const r = lcconv(['run', file]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /bad\.yaml:4 model\.kernel_size: must be odd/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  assert.equal(existsSync(join(dir, 'out')), false);
});

test('CIFAR-10 config without the data: one line telling how to get it, non-zero exit', () => {
  const dir = tempDir('nodata');
  const r = lcconv(['run', join(PACKAGE_ROOT, 'configs', 'cifar10-resnet20.yaml'), '--set', `dataset.root=${join(dir, 'data')}`, '--set', `results_dir=${dir}`, '--backend', 'cpu']);
  assert.equal(r.status, 2);
  const errLines = r.stderr.trim().split('\n');
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(errLines[0]!, /cifar-10-batches-bin\/data_batch_1\.bin not found; download it with 'lcconv data download cifar10/);
});

test('unknown flag and unknown command are input errors (one line, exit 2)', async () => {
  assert.match((await inputErrorOf(['run', 'configs/smoke.yaml', '--epochs', '3'])).message, /Unknown argument: epochs/);
  assert.match((await inputErrorOf(['frobnicate'])).message, /Unknown argument: frobnicate/);
});

/**
 * A module hook (node --import) that makes resolving any @tensorflow package throw: a command that
 * loads tfjs (about 1 s, plus backend probing) then fails naming who imported it.
 */
const NO_TFJS = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(
  'data:text/javascript,export async function resolve(s,c,next){if(s.startsWith("@tensorflow/"))throw new Error("tfjs loaded: "+s+" from "+c.parentURL);return next(s,c)}',
)})`;

test('commands that compute nothing do not load tfjs (--help, config --reference, sweep --dry-run, report)', () => {
  const results = tempDir('notfjs');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, sweep: { 'model.kernel_size': [3, 5] } });
  fixtureRun(join(results, 'fixture'), 'learned', 3, 0, 0.8, 900);
  const withoutTfjs = (args: string[]) => spawnSync(process.execPath, ['--import', NO_TFJS, BIN, ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  // The hook works: a command that trains does hit it.
  assert.match(withoutTfjs(['run', config, '--trial', '0']).stderr, /tfjs loaded: @tensorflow\//);
  for (const [args, expect] of [
    [['--help'], /lcconv run \[config\]/],
    [['config', '--reference'], /model\.kernel_size/],
    [['sweep', config, '--dry-run'], /2 trials: 0 finished/],
    [['sweep', config, '--status'], /2 trials: 0 finished/],
    [['report', join(results, 'fixture'), '--no-plots'], /1 runs reported/],
  ] as const) {
    const r = withoutTfjs([...args]);
    assert.equal(r.status, 0, `lcconv ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, expect);
  }
});

test('a batch larger than the training set is a one-line input error naming the key', () => {
  const dir = tempDir('bigbatch');
  const r = lcconv(['run', 'configs/smoke.yaml', '--set', 'train.batch_size=5000', '--set', `results_dir=${dir}`, '--backend', 'cpu']);
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^lcconv: train\.batch_size: 5000 is larger than the training set \(640 images of synthetic\)/);
  assert.equal(existsSync(join(dir, 'smoke')), false);
});

test('threads and backend do not change what a run computes, so they share its run directory', async () => {
  const { runIdentity } = await import('../../src/runs/identity.js');
  const { tinyConfig } = await import('../fixtures.js');
  const base = runIdentity(tinyConfig(), 0).run_id;
  assert.equal(runIdentity(tinyConfig(['threads=2', 'backend=auto']), 0).run_id, base);
  assert.notEqual(runIdentity(tinyConfig(['train.lr=0.1']), 0).run_id, base);
});

test('nothing is written outside results_dir: name ".." is refused (exit 2), and a run writes only below results_dir', () => {
  const dir = tempDir('contained');
  const file = writeTinyConfig(join(dir, 'exp.yaml'), { results_dir: 'results/inner' });
  const escape = lcconv(['run', file, '--set', 'name=..'], dir);
  assert.equal(escape.status, 2);
  assert.match(escape.stderr, /^lcconv: --set name: one folder name: .*got "\.\."\n$/);
  const long = lcconv(['run', file, '--set', `name=${'x'.repeat(300)}`], dir);
  assert.equal(long.status, 2);
  assert.match(long.stderr, /name: at most 100 characters/);
  assert.deepEqual(readdirSync(dir), ['exp.yaml']);

  const r = lcconv(['run', file, '--quiet'], dir);
  assert.equal(r.status, 0, r.stderr);
  const written = (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p !== 'exp.yaml');
  assert.ok(written.length > 5 && written.every((p) => p === 'results' || p.startsWith(join('results', 'inner'))), written.join(', '));
});
