import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseEvalCsv } from '../../src/runs/eval-csv.js';
import { decodeSafetensors } from '../../src/export/safetensors.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

/** One tiny frozen run, trained once through the CLI, evaluated and exported by the tests below. */
let experiment = '';
let runDir = '';
before(() => {
  const dir = tempDir('eval');
  // eval.after_training evaluates the run as soon as it finishes (the first test checks its eval.csv).
  const config = writeTinyConfig(join(dir, 'tiny.yaml'), {
    freeze: 'frozen',
    results_dir: join(dir, 'results'),
    eval: { after_training: true, images: 4, attacks: ['fgsm'], corruptions: ['brightness'], severities: [2] },
  });
  const r = lcconv(['run', config, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  experiment = join(dir, 'results', 'tiny');
  runDir = join(experiment, readdirSync(experiment).find((d) => d.startsWith('frozen-'))!);
});

const QUICK = [
  '--images',
  '8',
  '--attacks',
  'fgsm,pgd,pgd_l2',
  '--eps',
  '8',
  '--l2-eps',
  '0.5',
  '--severities',
  '1',
  '--corruptions',
  'gaussian_noise,contrast',
  '--steps',
  '2',
];

test('eval.after_training evaluated the run when it finished; lcconv eval on an experiment folder adds its rows to eval.csv (the earlier evaluation stays) and prints JSON rows', () => {
  const automatic = parseEvalCsv(readFileSync(join(runDir, 'eval.csv'), 'utf8'));
  assert.deepEqual(
    automatic.map((row) => [row.name, row.n, row.epsilon ?? row.severity]),
    [['clean', 4, null], ...[1, 4].map((e) => ['fgsm', 4, e / 255]), ['brightness', 4, 2]],
  );
  const r = lcconv(['eval', experiment, ...QUICK, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const [result] = JSON.parse(r.stdout) as { dir: string; rows: { name: string; accuracy: number; n: number }[] }[];
  assert.equal(result!.dir, runDir);
  const all = parseEvalCsv(readFileSync(join(runDir, 'eval.csv'), 'utf8'));
  // The after-training rows (4 images) stay; this evaluation's (8 images) are added after them.
  assert.deepEqual(all.slice(0, automatic.length), automatic);
  const rows = all.slice(automatic.length);
  assert.deepEqual(
    rows.map((row) => row.name),
    ['clean', 'fgsm', 'pgd', 'pgd_l2', 'gaussian_noise', 'contrast'],
  );
  assert.deepEqual(rows, result!.rows);
  assert.ok(rows.every((row) => row.n === 8 && row.split === 'test' && row.seed === 0));
  assert.equal(rows.find((row) => row.name === 'pgd')!.epsilon, 8 / 255);
  assert.equal(rows.find((row) => row.name === 'pgd')!.steps, 2);
  for (const row of rows.filter((x) => x.metric === 'adversarial')) assert.ok(row.accuracy <= rows[0]!.accuracy);
});

test('lcconv eval: bad input is one line, exit 2, and leaves eval.csv as it was', () => {
  const csv = readFileSync(join(runDir, 'eval.csv'), 'utf8');
  const cases: [string[], RegExp][] = [
    [['--eps', '1,-1'], /^lcconv: --eps value 2: .*>=0, got -1$/m],
    [['--l2-eps', '-0.5'], /^lcconv: --l2-eps value 1: /],
    [['--corruptions', 'fog'], /^lcconv: --corruptions value 1: .*gaussian_noise.*got "fog"/],
    [['--attacks', 'cw'], /^lcconv: --attacks value 1: .*got "cw"/],
    [['--severities', '6'], /^lcconv: --severities value 1: .*<=5, got 6/],
    [['--steps', '0'], /^lcconv: --steps: /],
    [['--set', 'eval.restarts=0'], /--set eval\.restarts/],
    [['--set', 'model.width=3'], /only overrides eval\.\* keys/],
  ];
  for (const [args, message] of cases) {
    const r = lcconv(['eval', runDir, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal(readFileSync(join(runDir, 'eval.csv'), 'utf8'), csv);
});

test('lcconv eval refuses unfinished runs and missing, corrupt or mismatched checkpoints', () => {
  const broken = (name: string, damage: (dir: string) => void) => {
    const dir = join(tempDir(`eval-${name}`), 'run');
    cpSync(runDir, dir, { recursive: true });
    damage(dir);
    return dir;
  };
  const cases: [string, RegExp][] = [
    [broken('unfinished', (d) => writeFileSync(join(d, 'summary.json'), '{"status":"running"}')), /has not finished/],
    [broken('nocheckpoint', (d) => rmSync(join(d, 'checkpoint'), { recursive: true })), /no checkpoint/],
    [
      broken('corrupt', (d) => writeFileSync(join(d, 'checkpoint', 'weights.bin'), 'garbage')),
      /cannot load the checkpoint|weights\.bin: SHA-256 differs/,
    ],
    [
      broken('digest', (d) => {
        const file = join(d, 'checkpoint', 'checkpoint.json');
        writeFileSync(
          file,
          readFileSync(file, 'utf8').replace(/"frozenDigest": "[0-9a-f]+"/, '"frozenDigest": "0000"'),
        );
      }),
      /frozen filters|checkpoint\.json: contents do not match its checksum/,
    ],
  ];
  for (const [dir, message] of cases) {
    const r = lcconv(['eval', dir, ...QUICK]);
    assert.equal(r.status, 2, `${dir}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(
      !existsSync(join(dir, 'eval.csv')) ||
        readFileSync(join(dir, 'eval.csv'), 'utf8') === readFileSync(join(runDir, 'eval.csv'), 'utf8'),
      'nothing written',
    );
  }
});

test('lcconv export writes a PyTorch state_dict and model.json', () => {
  const out = join(tempDir('export-cli'), 'export');
  const r = lcconv(['export', runDir, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const { tensors } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
  assert.deepEqual(tensors.get('stem.weight')!.shape, [4, 3, 3, 3]); // OIHW, frozen filter included
  assert.deepEqual(tensors.get('fc.weight')!.shape, [4, 16]);
  assert.ok(tensors.has('blocks.1.shortcut.1.running_var'));
  const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.deepEqual(meta.pytorch.kwargs, {
    depth: 8,
    width: 4,
    k: 3,
    freeze: 'frozen',
    expansion: 1,
    depthwise: false,
    channels: 3,
    classes: 4,
  });
  assert.equal(meta.input.mean.length, 3);
});

test('the default evaluation is the quick one; --full is the full protocol, other flags still override it', async () => {
  const { loadConfigText } = await import('../../src/config/load.js');
  const { evalOverrides } = await import('../../src/cli/commands/eval.js');
  const quick = loadConfigText('{}', undefined).config.eval;
  assert.deepEqual(
    [quick.images, quick.attacks, quick.linf_epsilons, quick.corruptions, quick.severities],
    [1000, ['fgsm', 'pgd'], [1, 4], ['gaussian_noise', 'defocus_blur', 'contrast'], [3]],
  );
  const flags = { set: [], full: true, eps: ['2'] };
  const full = loadConfigText('{}', undefined, evalOverrides(flags)).config.eval;
  assert.equal(full.images, 'all');
  assert.deepEqual(full.attacks, ['fgsm', 'pgd', 'pgd_l2']);
  assert.deepEqual(full.linf_epsilons, [2], '--eps wins over --full');
  assert.deepEqual(full.severities, [1, 2, 3, 4, 5]);
  assert.equal(full.corruptions.length, 9);
});

test('an interrupted evaluation keeps the rows it measured, and a rerun reuses them instead of measuring again', () => {
  const dir = join(tempDir('eval-resume'), 'run');
  cpSync(runDir, dir, { recursive: true });
  rmSync(join(dir, 'eval.csv'), { force: true });
  const settings = [
    '--images',
    '8',
    '--attacks',
    'fgsm',
    '--eps',
    '2,8',
    '--corruptions',
    'contrast',
    '--severities',
    '1',
  ];
  const first = lcconv(['eval', dir, ...settings]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^ {2}\[1\/4\] clean$/m, 'one progress line per setting on a pipe');
  assert.equal((first.stdout.match(/ε 2\/255/g) ?? []).length, 2, 'the progress line and the table row, no third copy');
  // As if interrupted after two settings: eval.csv keeps what was measured so far.
  const csv = readFileSync(join(dir, 'eval.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(dir, 'eval.csv'), `${csv.slice(0, 3).join('\n')}\n`);
  const again = lcconv(['eval', dir, ...settings]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /\[1\/4\] clean \(from eval\.csv\)/);
  assert.match(again.stdout, /\[2\/4\] fgsm ε 2\/255 \(from eval\.csv\)/);
  assert.match(again.stdout, /\[3\/4\] fgsm ε 8\/255$/m);
  assert.equal(readFileSync(join(dir, 'eval.csv'), 'utf8').trim().split('\n').length, 5, 'header and 4 rows');
});
