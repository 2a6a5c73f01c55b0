/**
 * Input that looks valid but is not is refused in one line naming the key or flag (exit 2), and a
 * refused command writes nothing: every check that can refuse runs before the first directory or
 * file is made.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, lcconv, tempDir, tinyYaml } from '../fixtures.js';

/** Exit 2 with exactly one line on stderr matching `pattern`. */
function assertRefused(r: ReturnType<typeof lcconv>, pattern: RegExp, what: string): void {
  assert.equal(r.status, 2, `${what}: exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: one line, got ${r.stderr}`);
  assert.match(lines[0]!, pattern, what);
}

test('a config that is only ---, null or ~ is refused like an empty file, not run with every default', () => {
  const dir = tempDir('null-config');
  for (const body of ['---\n', 'null\n', '~\n', '--- ~\n', '# a comment\nnull\n']) {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, body);
    for (const command of ['config', 'run'])
      assertRefused(
        lcconv([command, file, '--set', `results_dir=${join(dir, 'results')}`]),
        /c\.yaml: (the document is null|empty file): expected config keys/,
        `${command} ${JSON.stringify(body)}`,
      );
  }
  assert.equal(existsSync(join(dir, 'results')), false);
});

test('dataset.label_mode: coarse is refused for a dataset without coarse labels', () => {
  const dir = tempDir('coarse');
  const file = join(dir, 'c.yaml');
  writeFileSync(file, tinyYaml({ 'dataset.label_mode': 'coarse' }));
  assertRefused(
    lcconv(['config', file]),
    /dataset\.label_mode: coarse labels exist only for cifar100 \(dataset\.name is synthetic\)/,
    'file',
  );
  writeFileSync(file, tinyYaml({}));
  assertRefused(
    lcconv(['config', file, '--set', 'dataset.label_mode=coarse']),
    /--set dataset\.label_mode=coarse.*coarse labels exist only for cifar100/,
    '--set',
  );
  writeFileSync(file, tinyYaml({ 'dataset.name': 'cifar100', 'dataset.label_mode': 'coarse' }));
  assert.equal(lcconv(['config', file]).status, 0, 'cifar100 has coarse labels');
});

test('a key given twice by --set or --grid is refused, not the last one kept', () => {
  const dir = tempDir('twice');
  const file = join(dir, 'c.yaml');
  writeFileSync(file, tinyYaml({}));
  assertRefused(
    lcconv(['config', file, '--set', 'train.epochs=2', '--set', 'train.epochs=3']),
    /--set train\.epochs=3: sets train\.epochs again \(after --set train\.epochs=2\); give it once/,
    '--set twice',
  );
  assertRefused(
    lcconv([
      'sweep',
      file,
      '--grid',
      'model.kernel_size=3,5',
      '--grid',
      'model.kernel_size=7',
      '--dry-run',
      '--set',
      `results_dir=${dir}/r`,
    ]),
    /--grid model\.kernel_size=7: sets sweep\.model\.kernel_size again \(after --grid model\.kernel_size=3,5\)/,
    '--grid twice',
  );
  assert.equal(existsSync(join(dir, 'r')), false);
});

test('--set seed=N with seeds: in the config is refused with the way to run that seed alone', () => {
  const dir = tempDir('seeds');
  const file = join(dir, 'c.yaml');
  writeFileSync(file, tinyYaml({ seeds: [0, 1] }));
  assertRefused(
    lcconv(['run', file, '--set', 'seed=5', '--set', `results_dir=${join(dir, 'r')}`]),
    /--set seed=5: the config's seeds: \[0,1\] decide the runs, so seed would be ignored; use --set seeds=\[5\]/,
    'seed with seeds',
  );
  assert.equal(existsSync(join(dir, 'r')), false);
  const both = lcconv(['config', file, '--set', 'seed=5', '--set', 'seeds=[5]']);
  assert.equal(both.status, 0, both.stderr);
});

test('an empty item in an eval list flag (--eps 1,,2, a trailing comma) is refused, naming the flag', () => {
  const dir = tempDir('eps');
  for (const [flag, value] of [
    ['--eps', '1,,2'],
    ['--eps', '1,'],
    ['--severities', '1,none'],
    ['--attacks', ',fgsm'],
  ] as const)
    assertRefused(
      lcconv(['eval', dir, flag, value]),
      new RegExp(`^lcconv: ${flag} ${value}: value \\d is`),
      `${flag} ${value}`,
    );
});

test('checks after parsing refuse before anything is written: no results folder, no run folder', () => {
  const dir = tempDir('no-writes');
  const source = join(dir, 'source');
  // A finished k = 3 run to take a from_run covariance from (for the k mismatch below).
  const base = join(dir, 'base.yaml');
  writeFileSync(base, tinyYaml({ freeze: 'frozen' }));
  const made = lcconv(['run', base, '--set', `results_dir=${source}`]);
  assert.equal(made.status, 0, made.stderr);
  const sourceRun = join(source, 'tiny', readdirSync(join(source, 'tiny')).find((d) => d.startsWith('frozen-'))!);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'kernel wider than the images',
      { 'model.kernel_size': 99 },
      /model\.kernel_size: 99 is wider than 8×8 images allow/,
    ],
    [
      'batch larger than the dataset',
      { 'train.batch_size': 1000 },
      /train\.batch_size: 1000 is larger than the training set/,
    ],
    ['missing data', { 'dataset.name': 'cifar10', 'dataset.root': join(dir, 'none') }, /dataset cifar10: .* not found/],
    ['VGG on small images', { 'model.arch': 'vgg11_bn' }, /vgg11_bn halves the image 5 times/],
    [
      'from_run source with another k',
      { 'model.kernel_size': 5, 'model.spatial_init': 'from_run', 'model.spatial_init_from': sourceRun },
      /model\.spatial_init_from: .* has k = 3, this run k = 5/,
    ],
    ['memory estimate', { 'model.width': 100000 }, /the model would need about .* GiB to train/],
  ];
  for (const [what, settings, pattern] of cases) {
    const results = join(dir, `r-${what.replace(/\W+/g, '-')}`);
    const file = join(dir, 'c.yaml');
    writeFileSync(file, tinyYaml({ ...settings, results_dir: results }));
    assertRefused(lcconv(['run', file]), pattern, what);
    assert.equal(existsSync(results), false, `${what}: ${results} was created`);
  }
});

test('the Slurm executor without sbatch refuses before writing the sweep config copy', () => {
  const dir = tempDir('no-sbatch');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const file = join(dir, 'sw.yaml');
  writeFileSync(file, tinyYaml({ results_dir: join(dir, 'r'), sweep: { 'model.kernel_size': [3, 5] } }));
  const r = spawnSync(join(bin, 'node'), [BIN, 'sweep', file, '--executor', 'slurm'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: bin, CI: 'true' },
  });
  assertRefused(r, /sbatch not found on PATH/, 'no sbatch');
  assert.equal(existsSync(join(dir, 'r')), false, 'nothing written');
});

test('lcconv bench checks the model against this machine before building it, as run does', () => {
  const r = lcconv(['bench', 'configs/smoke.yaml', '--set', 'model.width=4096', '--steps', '1', '--warmup', '0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr.trim(),
    /^lcconv: the model would need about [\d.]+ GiB to train \([\d,]+ weights, batches of 32 \d+×\d+ images\), more than this machine's [\d.]+ GiB; lower model\.width/,
  );
});
