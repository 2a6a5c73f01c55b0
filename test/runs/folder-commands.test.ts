/**
 * A damaged run never stops a folder command: report, analyze and eval name each damaged run with
 * its cause, do their work for the others, and end non-zero (exit 1, one line). A single damaged
 * run is one line with exit 2, and no advice that would destroy its files.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { lcconv, tempDir, tinyYaml } from '../fixtures.js';

let experiment = '';
let runs: string[] = [];
const root = tempDir('folder-commands');

before(() => {
  const file = join(root, 'c.yaml');
  writeFileSync(
    file,
    tinyYaml({ name: 'exp', freeze: 'frozen', seeds: [0, 1, 2], results_dir: join(root, 'results') }),
  );
  const r = lcconv(['run', file]);
  assert.equal(r.status, 0, r.stderr);
  experiment = join(root, 'results', 'exp');
  runs = readdirSync(experiment)
    .filter((d) => d.startsWith('frozen-'))
    .sort();
  assert.equal(runs.length, 3);
});

/** A fresh copy of the experiment folder with `damage` applied to its second run; returns the copy and that run's name. */
function damagedCopy(name: string, damage: (runDir: string) => void): { folder: string; run: string } {
  const folder = join(root, name);
  cpSync(experiment, folder, { recursive: true });
  rmSync(join(folder, 'comparison.csv'), { force: true });
  damage(join(folder, runs[1]!));
  return { folder, run: runs[1]! };
}

function assertSkippedOneLine(r: ReturnType<typeof lcconv>, run: string, cause: RegExp): void {
  assert.equal(r.status, 1, `exit 1: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^lcconv: 1 run\\(s\\) skipped: ${run} \\(.*\\)$`));
  assert.match(lines[0]!, cause);
}

test('report: a run with a malformed config.yaml is named and left out; the report of the others is written', () => {
  const { folder, run } = damagedCopy('report-config', (dir) =>
    writeFileSync(join(dir, 'config.yaml'), 'model: [unclosed\n'),
  );
  const r = lcconv(['report', folder, '--no-plots']);
  assertSkippedOneLine(r, run, /config\.yaml: not valid YAML/);
  const md = readFileSync(join(folder, 'report.md'), 'utf8');
  assert.match(md, /2 finished runs/);
  assert.match(md, new RegExp(`## Damaged runs \\(left out\\)\\n\\n- \`${run}\`: .*config\\.yaml: not valid YAML`));
  assert.doesNotMatch(md, new RegExp(`${run}/error\\.json`), 'no pointer to an error.json that does not exist');
});

test('report: a damaged summary.json is listed under damaged runs, not as a failed trial with an error.json', () => {
  const { folder, run } = damagedCopy('report-summary', (dir) =>
    writeFileSync(join(dir, 'summary.json'), '{"status": "fini'),
  );
  const r = lcconv(['report', folder, '--no-plots']);
  assertSkippedOneLine(r, run, /summary\.json/);
  assert.doesNotMatch(readFileSync(join(folder, 'report.md'), 'utf8'), /error\.json/);
});

test('analyze: a malformed summary.json, a missing checkpoint or config.yaml, a truncated weights.bin are each skipped; the others are analyzed', () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['summary', (dir) => writeFileSync(join(dir, 'summary.json'), 'not json'), /summary\.json/],
    ['no-checkpoint', (dir) => rmSync(join(dir, 'checkpoint'), { recursive: true }), /no checkpoint/],
    ['no-config', (dir) => rmSync(join(dir, 'config.yaml')), /config\.yaml/],
    ['null-config', (dir) => writeFileSync(join(dir, 'config.yaml'), 'null\n'), /config\.yaml: the document is null/],
    ['truncated-weights', (dir) => truncateSync(join(dir, 'checkpoint', 'weights.bin'), 10), /weights\.bin/],
  ];
  for (const [name, damage, cause] of cases) {
    const { folder, run } = damagedCopy(`analyze-${name}`, damage);
    const r = lcconv(['analyze', folder, '--no-plots']);
    assertSkippedOneLine(r, run, cause);
    assert.match(r.stdout, /2 run\(s\) analyzed/, name);
    const analyzed = readdirSync(join(folder, 'analysis')).filter((d) => d.startsWith('frozen-'));
    assert.deepEqual(analyzed, [runs[0], runs[2]], `${name}: the healthy runs are analyzed`);
    assert.ok(existsSync(join(folder, 'analysis', 'runs.csv')), `${name}: runs.csv of the others`);
  }
});

test('analyze of one run whose config.yaml is null: one line, exit 2, and no advice to delete anything', () => {
  const { folder, run } = damagedCopy('analyze-single-null', (dir) =>
    writeFileSync(join(dir, 'config.yaml'), 'null\n'),
  );
  const r = lcconv(['analyze', join(folder, run)]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /config\.yaml: the document is null/);
  assert.doesNotMatch(r.stderr, /delete|remove|--force/i);
});

test('eval: one truncated weights.bin skips that run; the others are evaluated and their eval.csv written', () => {
  const { folder, run } = damagedCopy('eval-truncated', (dir) =>
    truncateSync(join(dir, 'checkpoint', 'weights.bin'), 10),
  );
  const r = lcconv(['eval', folder, '--attacks', 'none', '--corruptions', 'none', '--images', '8', '--quiet']);
  assertSkippedOneLine(r, run, /weights\.bin/);
  for (const [i, name] of runs.entries())
    assert.equal(existsSync(join(folder, name, 'eval.csv')), i !== 1, `${name}: eval.csv`);
});

test('sweep --status with a corrupt sweep/slurm/jobs.json names the file in one line', () => {
  const dir = tempDir('jobs-json');
  const file = join(dir, 'sw.yaml');
  writeFileSync(file, tinyYaml({ name: 'sw', results_dir: join(dir, 'r'), sweep: { 'model.kernel_size': [3, 5] } }));
  const slurm = join(dir, 'r', 'sw', 'sweep', 'slurm');
  mkdirSync(slurm, { recursive: true });
  for (const body of ['{not json', '{"job_id": 1}']) {
    writeFileSync(join(slurm, 'jobs.json'), body);
    const r = lcconv(['sweep', file, '--status']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /jobs\.json: damaged/);
  }
});

test('export of a folder: every finished run exported, a damaged one named and skipped', () => {
  const { folder, run } = damagedCopy('export-folder', (dir) =>
    truncateSync(join(dir, 'checkpoint', 'weights.bin'), 10),
  );
  const r = lcconv(['export', folder]);
  assertSkippedOneLine(r, run, /weights\.bin/);
  for (const [i, name] of runs.entries())
    assert.equal(existsSync(join(folder, name, 'export', 'model.safetensors')), i !== 1, `${name}: export`);
  const out = join(root, 'exports');
  const again = lcconv(['export', join(root, 'report-config'), '--out', out, '--json']);
  assert.equal(again.status, 1, again.stderr);
  const written = JSON.parse(again.stdout) as { run: string; files: string[] }[];
  assert.deepEqual(
    written.map((w) => w.files[0]),
    [runs[0], runs[2]].map((name) => join(out, name!, 'model.safetensors')),
  );
});

test('sweep --status lists a damaged trial and ends non-zero naming it', () => {
  const dir = tempDir('status-damaged');
  const file = join(dir, 'sw.yaml');
  writeFileSync(file, tinyYaml({ name: 'sw', results_dir: join(dir, 'r'), sweep: { 'model.kernel_size': [3, 5] } }));
  const swept = lcconv(['sweep', file, '--workers', '1']);
  assert.equal(swept.status, 0, swept.stderr);
  const trial = readdirSync(join(dir, 'r', 'sw'))
    .filter((d) => d.startsWith('learned-'))
    .sort()[0]!;
  writeFileSync(join(dir, 'r', 'sw', trial, 'summary.json'), '{"status":');
  const r = lcconv(['sweep', file, '--status']);
  assert.match(r.stdout, /1 damaged/);
  assertSkippedOneLine(r, trial, /summary\.json: damaged/);
});

test('a config.yaml edited so the frozen filters regenerate differently: one line that advises no deletion', () => {
  const { folder, run } = damagedCopy('edited-init', (dir) => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^init: kaiming_uniform$/m, 'init: kaiming_normal'));
  });
  const r = lcconv(['analyze', join(folder, run)]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /frozen filters regenerated from the seed and config\.yaml differ .*nothing was changed/);
  assert.doesNotMatch(r.stderr, /delete|remove|--force/i);
});
