import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const refused = (r: { status: number | null; stderr: string }, link: string) => {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), r.stderr.trim().split('\n')[0], 'one line');
  assert.match(r.stderr, new RegExp(`${link.replaceAll('/', '\\/')}: is a symbolic link \\(to `));
};

test('symlinks inside results_dir never lead writes out: experiment, run, export/, analysis/ and sweep/ links are refused in one line', () => {
  const results = tempDir('links');
  const outside = tempDir('links-outside');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results });

  // A linked experiment folder: nothing trains, nothing lands outside.
  symlinkSync(outside, join(results, 'tiny'));
  refused(lcconv(['run', config, '--quiet']), join(results, 'tiny'));
  assert.deepEqual(readdirSync(outside), []);
  renameSync(join(results, 'tiny'), join(results, 'gone'));

  // A real run, then its folder moved out and linked back.
  assert.equal(lcconv(['run', config, '--quiet']).status, 0);
  const exp = join(results, 'tiny');
  const name = readdirSync(exp).find((n) => n.includes('seed'))!;
  const run = join(exp, name);
  mkdirSync(join(outside, 'export'));
  symlinkSync(join(outside, 'export'), join(run, 'export'));
  refused(lcconv(['export', run]), join(run, 'export'));
  assert.deepEqual(readdirSync(join(outside, 'export')), []);

  symlinkSync(join(outside), join(exp, 'analysis'));
  refused(lcconv(['analyze', exp, '--no-plots']), join(exp, 'analysis'));

  renameSync(run, join(outside, name));
  symlinkSync(join(outside, name), run);
  refused(lcconv(['run', config, '--quiet', '--force']), run);
  rmSync(run);

  const sweep = writeTinyConfig(join(results, 'sweep.yaml'), {
    results_dir: results,
    sweep: { 'model.kernel_size': [3, 5] },
  });
  symlinkSync(outside, join(exp, 'sweep'));
  refused(lcconv(['sweep', sweep, '--dry-run']), join(exp, 'sweep'));
});
