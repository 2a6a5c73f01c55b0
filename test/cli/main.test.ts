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
  const oneSeed = ['--set', 'seeds=[0]']; // the default's three seeds are the same code three times
  const r = lcconv(['run', 'configs/smoke.yaml', '--set', `results_dir=${results}`, ...oneSeed]);
  assert.equal(r.status, 0, r.stderr);
  const exp = join(results, 'smoke');
  const runs = readdirSync(exp).filter((d) => !d.endsWith('.csv'));
  assert.equal(runs.length, 3, 'frozen arm, learned at the same E, and standard training (E = 1)');
  for (const run of runs) {
    const dir = join(exp, run);
    const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], EPOCH_COLUMNS.join(','));
    assert.equal(lines.length, 1 + 4, 'one row per epoch');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'finished');
    assert.equal(summary.seed, 0);
    assert.ok(summary.params.learnable > 0 && summary.versions.tfjs);
    assert.ok(summary.final_val_acc > 0.1, `${run}: ${summary.final_val_acc} is not above chance (0.1)`);
    if (summary.freeze === 'learned')
      assert.ok(summary.final_val_acc > 0.3, `learned arm should clearly beat chance, got ${summary.final_val_acc}`);
    assert.equal(parse(readFileSync(join(dir, 'config.yaml'), 'utf8')).freeze, summary.freeze);
  }
  const comparison = readFileSync(join(exp, 'comparison.csv'), 'utf8').trim().split('\n');
  assert.equal(
    comparison[0],
    'freeze,kernel_size,lc_expansion,lc_depthwise,spatial_init,seeds,val_acc_mean_pct,val_acc_std_pct,best_val_acc_mean_pct,delta_vs_standard_pp,delta_vs_standard_ci95_low_pp,delta_vs_standard_ci95_high_pp,delta_vs_learned_same_e_pp,delta_vs_learned_same_e_ci95_low_pp,delta_vs_learned_same_e_ci95_high_pp,learnable_params,stored_weights,group',
  );
  assert.equal(comparison.length, 4);
  assert.match(r.stdout, /Δ vs standard/);
  assert.match(
    r.stdout.trim().split('\n').at(-1)!,
    /^Frozen random filters \(k=3, E=8; [\d,]+ learnable weights\) reach [\d.]+% test accuracy, [\d.]+ points (below|above) standard training \([\d.]+%, [\d,]+ learnable weights\), one seed \(no interval: run several seeds to tell a gap from noise\)\.$/,
    'ends with the table in one sentence',
  );

  // A second run reuses both finished runs instead of retraining.
  const again = lcconv(['run', 'configs/smoke.yaml', '--set', `results_dir=${results}`, ...oneSeed, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal((again.stderr.match(/already finished/g) ?? []).length, 3);
  assert.equal(JSON.parse(again.stdout).comparison.length, 3);

  // Another invocation into the same folder adds its arm; comparison.csv keeps the earlier ones.
  const other = lcconv([
    'run',
    'configs/smoke.yaml',
    '--set',
    `results_dir=${results}`,
    ...oneSeed,
    '--set',
    'train.epochs=1',
    '--set',
    'compare_to_standard=false',
    '--quiet',
  ]);
  assert.equal(other.status, 0, other.stderr);
  const all = readFileSync(join(exp, 'comparison.csv'), 'utf8').trim().split('\n');
  assert.equal(all.length, 5, all.join('\n'));
  assert.ok(
    all.some((l) => l.startsWith('frozen') && l.endsWith(',train.epochs=1')),
    all.join('\n'),
  );
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
  const r = lcconv([
    'run',
    join(PACKAGE_ROOT, 'configs', 'cifar10-resnet20.yaml'),
    '--set',
    `dataset.root=${join(dir, 'data')}`,
    '--set',
    `results_dir=${dir}`,
    '--backend',
    'cpu',
  ]);
  assert.equal(r.status, 2);
  const errLines = r.stderr.trim().split('\n');
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(
    errLines[0]!,
    /cifar-10-batches-bin\/data_batch_1\.bin not found; download it with 'lcconv data download cifar10/,
  );
});

test('unknown flag and unknown command are input errors (one line, exit 2)', async () => {
  assert.match(
    (await inputErrorOf(['run', 'configs/smoke.yaml', '--epochs', '3'])).message,
    /Unknown argument: epochs/,
  );
  assert.match((await inputErrorOf(['frobnicate'])).message, /Unknown argument: frobnicate/);
});

/**
 * A module hook (node --import) that makes resolving any @tensorflow package throw: a command that
 * loads tfjs (about 1 s, plus backend probing) then fails naming who imported it.
 */
const NO_TFJS = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(
  'data:text/javascript,export async function resolve(s,c,next){if(s.startsWith("@tensorflow/"))throw new Error("tfjs loaded: "+s+" from "+c.parentURL);return next(s,c)}',
)})`;

/** The same for zod: the config schema (~200 modules) is loaded by commands that read a config, not by help. */
const NO_ZOD = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(
  'data:text/javascript,export async function resolve(s,c,next){if(s==="zod")throw new Error("zod loaded from "+c.parentURL);return next(s,c)}',
)})`;

test('help never loads the config schema (zod): lcconv --help stays fast', () => {
  const withoutZod = (args: string[]) =>
    spawnSync(process.execPath, ['--import', NO_ZOD, BIN, ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  // The hook works: reading a config does hit it.
  assert.match(withoutZod(['config', '--reference']).stderr, /zod loaded from/);
  for (const args of [
    ['--help'],
    ['run', '--help'],
    ['sweep', '--help'],
    ['bench', '--help'],
    ['eval', '--help'],
    ['config', '--help'],
  ]) {
    const r = withoutZod(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Examples:/, args.join(' '));
  }
});

test('commands that compute nothing do not load tfjs (--help, config --reference, sweep --dry-run, report)', () => {
  const results = tempDir('notfjs');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), {
    results_dir: results,
    sweep: { 'model.kernel_size': [3, 5] },
  });
  fixtureRun(join(results, 'fixture'), 'learned', 3, 0, 0.8, 900);
  const withoutTfjs = (args: string[]) =>
    spawnSync(process.execPath, ['--import', NO_TFJS, BIN, ...args], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
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
  const r = lcconv([
    'run',
    'configs/smoke.yaml',
    '--set',
    'train.batch_size=5000',
    '--set',
    `results_dir=${dir}`,
    '--backend',
    'cpu',
  ]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr.trim(),
    /^lcconv: train\.batch_size: 5000 is larger than the training set \(640 images of synthetic\)/,
  );
  assert.equal(existsSync(join(dir, 'smoke')), false);
});

test('threads and backend do not change what a run computes, so they share its run directory', async () => {
  const { runIdentity } = await import('../../src/runs/identity.js');
  const { tinyConfig } = await import('../fixtures.js');
  const base = runIdentity(tinyConfig(), 0).run_id;
  assert.equal(runIdentity(tinyConfig(['threads=2', 'backend=auto']), 0).run_id, base);
  assert.notEqual(runIdentity(tinyConfig(['train.lr=0.1']), 0).run_id, base);
});

test('lcconv alone prints help; every command --help has examples; --backend lists its choices', () => {
  const bare = lcconv([]);
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stdout, /Commands:[\s\S]*lcconv run[\s\S]*Examples:/);
  for (const command of ['run', 'sweep', 'report', 'config', 'data', 'doctor', 'bench', 'eval', 'export', 'analyze']) {
    const help = lcconv([command, '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Examples:\n {2}lcconv /, `${command} --help has examples`);
  }
  assert.match(
    lcconv(['run', '--help']).stdout,
    /--backend[\s\S]*choices: "auto", "tensorflow", "cpu-native", "webgpu", "wasm", "cpu"/,
  );
  const bad = lcconv(['run', '--backend', 'gpu']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('an empty config file and a sweep of a config without sweep: are one-line errors (exit 2)', () => {
  const dir = tempDir('empty');
  writeFileSync(join(dir, 'empty.yaml'), '');
  const empty = lcconv(['run', join(dir, 'empty.yaml'), '--set', `results_dir=${dir}`]);
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /^lcconv: .*empty\.yaml: empty file/);
  assert.equal(empty.stderr.trim().split('\n').length, 1);
  const noSweep = lcconv(['sweep', 'configs/smoke.yaml', '--set', `results_dir=${dir}`]);
  assert.equal(noSweep.status, 2);
  assert.match(noSweep.stderr, /^lcconv: configs\/smoke\.yaml: no sweep: block to run; .*--grid/);
  assert.equal(noSweep.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(dir), ['empty.yaml'], 'nothing written');
  const grid = lcconv([
    'sweep',
    'configs/smoke.yaml',
    '--set',
    `results_dir=${dir}`,
    '--grid',
    'model.kernel_size=3,5',
    '--grid',
    'freeze=learned,frozen',
    '--dry-run',
  ]);
  assert.equal(grid.status, 0, grid.stderr);
  assert.match(
    grid.stdout,
    /18 trials: 0 finished/,
    '2 k × 2 freeze × 3 seeds, plus standard training (E = 1) per k and seed',
  );
});

test('nothing is written outside results_dir: name ".." is refused (exit 2), and a run writes only below results_dir', () => {
  const dir = tempDir('contained');
  const file = writeTinyConfig(join(dir, 'exp.yaml'), { results_dir: 'results/inner' });
  const escaped = lcconv(['run', file, '--set', 'name=..'], dir);
  assert.equal(escaped.status, 2);
  assert.match(escaped.stderr, /^lcconv: --set name=\.\.: one folder name: .*got "\.\."\n$/);
  const long = lcconv(['run', file, '--set', `name=${'x'.repeat(300)}`], dir);
  assert.equal(long.status, 2);
  assert.match(long.stderr, /^lcconv: --set name=x{300}: at most 100 characters/);
  assert.deepEqual(readdirSync(dir), ['exp.yaml']);

  const r = lcconv(['run', file, '--quiet'], dir);
  assert.equal(r.status, 0, r.stderr);
  const written = (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p !== 'exp.yaml');
  assert.ok(
    written.length > 5 && written.every((p) => p === 'results' || p.startsWith(join('results', 'inner'))),
    written.join(', '),
  );
});
