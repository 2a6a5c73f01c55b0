import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gridOverride, loadConfigFile, loadConfigText, type Override } from '../../src/config/load.js';
import { configReferenceMarkdown } from '../../src/config/reference.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { ConfigError } from '../../src/errors.js';
import { usableCores } from '../../src/cores.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const errorOf = (text: string, overrides: Override[] = []): string => {
  try {
    loadConfigText(text, 'exp.yaml', overrides);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'error is one line');
    return err.message;
  }
  assert.fail('expected a ConfigError');
};

test('an empty config resolves to the schema defaults', () => {
  const { config } = loadConfigText('{}', undefined);
  assert.equal(config.model.arch, 'resnet20');
  assert.equal(config.model.width, 16);
  assert.equal(config.model.kernel_size, 3);
  assert.equal(config.freeze, 'learned');
  assert.equal(config.train.lr, 0.01);
  assert.equal(config.train.label_smoothing, 0.1);
  assert.equal(config.compare_to_standard, true);
  assert.equal(config.dataset.synthetic.classes, 10);
});

test('every shipped config validates', () => {
  const dir = join(PACKAGE_ROOT, 'configs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('smoke.yaml') && files.includes('cifar10-resnet20.yaml'));
  for (const f of files) loadConfigFile(join(dir, f));
});

test('unknown key: file, line, key path and a suggestion', () => {
  assert.equal(
    errorOf('name: a\nmodel:\n  kernal_size: 3\n'),
    "exp.yaml:3 model.kernal_size: unknown key (did you mean 'kernel_size'?)",
  );
});

test('wrong type names the key and what was found', () => {
  assert.equal(errorOf('train:\n  epochs: two\n'), 'exp.yaml:2 train.epochs: expected number, got string "two"');
});

test('out-of-range and invalid values', () => {
  assert.match(errorOf('model:\n  kernel_size: 4\n'), /^exp\.yaml:2 model\.kernel_size: must be odd.*got 4$/);
  assert.match(errorOf('model:\n  lc_expansion: 0\n'), /^exp\.yaml:2 model\.lc_expansion: .*got 0$/);
  assert.match(errorOf('freeze: froze\n'), /^exp\.yaml:1 freeze: .*"learned"\|"frozen"\|"shared".*got "froze"$/);
  assert.match(errorOf('model:\n  arch: resnet21\n'), /^exp\.yaml:2 model\.arch: /);
});

test('invalid YAML gives the line', () => {
  assert.match(errorOf('name: a\nmodel: [\n'), /^exp\.yaml:\d+: invalid YAML: /);
});

test('--set overrides any key with a typed value, and bad overrides name the flag', () => {
  const { config } = loadConfigText('name: a\n', 'exp.yaml', [
    'train.epochs=2',
    'model.kernel_size=7',
    'seeds=[1, 2]',
    'dataset.augment=false',
  ]);
  assert.equal(config.train.epochs, 2);
  assert.equal(config.model.kernel_size, 7);
  assert.deepEqual(config.seeds, [1, 2]);
  assert.equal(config.dataset.augment, false);
  assert.equal(
    errorOf('name: a\n', ['train.epochs=0']),
    '--set train.epochs=0: Too small: expected number to be >=1, got 0',
  );
  assert.match(errorOf('name: a\n', ['model.nope=1']), /^--set model\.nope=1: unknown key/);
  assert.match(errorOf('name: a\n', ['train.epochs']), /^--set train\.epochs: expected key\.path=value$/);
});

test('a missing config file is a one-line ConfigError', () => {
  assert.throws(
    () => loadConfigFile('/nonexistent/exp.yaml'),
    /^ConfigError: \/nonexistent\/exp\.yaml: file not found$/,
  );
});

test('docs/config.md is the generated reference (regenerate with lcconv config --reference)', () => {
  assert.equal(readFileSync(join(PACKAGE_ROOT, 'docs', 'config.md'), 'utf8'), configReferenceMarkdown());
});

test('an empty config file is a one-line error, not the default experiment', () => {
  assert.equal(
    errorOf(''),
    'exp.yaml: empty file: expected config keys (see configs/smoke.yaml, or run lcconv run without a file for the built-in default)',
  );
  assert.match(errorOf('# only a comment\n'), /^exp\.yaml: empty file/);
});

test('--set reaches dotted keys under sweep, and an error in its value names the --set argument', () => {
  const { config } = loadConfigText('name: a\nmodel:\n  width: 4\n', 'exp.yaml', [
    'sweep.model.kernel_size=[3,5]',
    'sweep.freeze=[learned, frozen]',
  ]);
  assert.deepEqual(config.sweep?.['model.kernel_size'], [3, 5]);
  assert.deepEqual(config.sweep?.freeze, ['learned', 'frozen']);
  assert.equal(
    errorOf('name: a\nmodel:\n  width: 4\n', ['sweep.model.kernel_size=[3,4]']),
    '--set sweep.model.kernel_size=[3,4] (at sweep.model.kernel_size[1]): must be odd (the conv is padded by k//2 on each side), got 4',
  );
  assert.match(
    errorOf('name: a\n', ['model.kernel_size=[3,5]']),
    /^--set model\.kernel_size=\[3,5\]: expected number, got a list/,
  );
});

test('--grid key=v1,v2 is a sweep axis (Hydra-style multirun), errors name the --grid argument', () => {
  const { config } = loadConfigText('name: a\n', 'exp.yaml', [
    gridOverride('model.kernel_size=3,5,7'),
    gridOverride('freeze=learned,frozen'),
  ]);
  assert.deepEqual(config.sweep?.['model.kernel_size'], [3, 5, 7]);
  assert.deepEqual(config.sweep?.freeze, ['learned', 'frozen']);
  assert.equal((gridOverride('train.lr=[0.1,0.2],0.3') as { spec: string }).spec, 'sweep.train.lr=[[0.1,0.2], 0.3]');
  assert.match(
    errorOf('name: a\n', [gridOverride('model.kernel_size=3,4')]),
    /^--grid model\.kernel_size=3,4 \(at sweep\.model\.kernel_size\[1\]\): must be odd/,
  );
  assert.throws(
    () => gridOverride('model.kernel_size='),
    /--grid model\.kernel_size=: expected key\.path=value1,value2/,
  );
});

test('names are one bounded folder name: "..", separators and 300 characters are refused before anything is written', () => {
  assert.match(errorOf('name: ..\n'), /^exp\.yaml:1 name: one folder name: .*, got "\.\."$/);
  assert.match(errorOf('name: "a/b"\n'), /name: one folder name/);
  assert.match(errorOf('name: .hidden\n'), /name: one folder name/);
  assert.match(errorOf(`name: ${'x'.repeat(300)}\n`), /name: at most 100 characters/);
  assert.equal(loadConfigText('name: kernel-sweep_v2.1\n', 'exp.yaml').config.name, 'kernel-sweep_v2.1');
});

test('__proto__, constructor and prototype are refused as keys anywhere, and Object.prototype stays clean', () => {
  assert.match(
    errorOf('sweep:\n  __proto__.polluted: [1, 2]\n'),
    /^exp\.yaml:2 sweep\.__proto__\.polluted: __proto__\.polluted is not a config key$/,
  );
  assert.match(
    errorOf('sweep:\n  __proto__: [1, 2]\n'),
    /^exp\.yaml:2 sweep\.__proto__: __proto__ is not a config key$/,
  );
  assert.match(
    errorOf('sweep:\n  model.kernel_size: [3, 5]\n  exclude: [{ constructor.prototype.polluted: 1 }]\n'),
    /sweep\.exclude\.0\.constructor\.prototype\.polluted: .* is not a config key/,
  );
  assert.match(errorOf('{}', ['__proto__.polluted=1']), /^--set __proto__\.polluted=1: __proto__ is not a config key$/);
  assert.match(errorOf('{}', ['model.constructor=1']), /constructor is not a config key/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('YAML alias bombs ("billion laughs") are one located error, not a raw exception or gigabytes', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `l${i}: &l${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*l${i - 1}`)
        .join(', ')}]`,
    );
  assert.match(errorOf(`${levels.join('\n')}\n`), /^exp\.yaml: YAML aliases expand beyond 100 copies/);
  // A few aliases, as people use them, are fine.
  assert.equal(loadConfigText('seed: &k 5\nmodel: { kernel_size: *k }\n', 'exp.yaml').config.model.kernel_size, 5);
});

test('NaN and Infinity are named, not shown as null; duplicate seeds are refused', () => {
  assert.equal(errorOf('train: { lr: .nan }\n'), 'exp.yaml:1 train.lr: expected a finite number, got NaN');
  assert.equal(
    errorOf('train: { momentum: -.inf }\n'),
    'exp.yaml:1 train.momentum: expected a finite number, got -Infinity',
  );
  assert.equal(
    errorOf('{}', ['train.weight_decay=.inf']),
    '--set train.weight_decay=.inf: expected a finite number, got Infinity',
  );
  assert.match(errorOf('seeds: [0, 0, 0]\n'), /^exp\.yaml:1 seeds: lists a seed twice .*, got \[0,0,0\]$/);
  assert.deepEqual(loadConfigText('seeds: [2, 0, 1]\n', 'exp.yaml').config.seeds, [2, 0, 1]);
});

test('threads: a bound on input, not on this machine; a run asking for more cores than it may use runs on those, says so, and its config loads anywhere', () => {
  assert.match(errorOf('threads: 100000\n'), /^exp\.yaml:1 threads: .*4096.*, got 100000$/);
  const more = usableCores() + 6; // a config recorded on a bigger machine
  assert.equal(loadConfigText(`threads: ${more}\n`, 'exp.yaml').config.threads, more);
  const results = tempDir('threads-clamp');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, threads: more });
  const run = lcconv(['run', config]);
  assert.equal(run.status, 0, run.stderr);
  if (/backend: cpu-native/.test(run.stderr))
    assert.match(
      run.stderr,
      new RegExp(
        `threads: ${more} asked for, but this process may use ${usableCores()} CPU cores: using ${usableCores()}`,
      ),
    );
  // eval, export and analyze re-read the run's config.yaml, threads and all.
  const exp = join(results, 'tiny');
  const dir = join(exp, readdirSync(exp).find((n) => n.includes('seed'))!);
  assert.match(readFileSync(join(dir, 'config.yaml'), 'utf8'), new RegExp(`^threads: ${more}$`, 'm'));
  const exported = lcconv(['export', dir, '--out', join(results, 'export')]);
  assert.equal(exported.status, 0, exported.stderr);
});
