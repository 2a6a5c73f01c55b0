/**
 * The flags that set config keys (`lcconv eval`'s eval.*, `lcconv sweep`'s slurm.* and
 * sweep.max_trials) come from the schema: src/config/flag-table.ts is generated from it, and this
 * test fails when the two differ, so a key added, renamed or re-documented in the schema reaches
 * the command line and its help in one step.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCHEMA_FLAGS } from '../../src/config/flag-table.js';
import { configKeys, schemaFlags } from '../../src/config/reference.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';

test('src/config/flag-table.ts is what the schema gives (regenerate: npm run build && node scripts/write-flag-table.mjs)', () => {
  assert.deepEqual(SCHEMA_FLAGS, schemaFlags());
});

test('every eval.* key but after_training and every slurm.* key is a flag, with the schema’s description and default', () => {
  const keys = configKeys().filter((k) => k.type !== 'group');
  const flagged = new Set(SCHEMA_FLAGS.map((f) => f.key));
  const expected = keys
    .map((k) => k.path)
    .filter((p) => (p.startsWith('eval.') && p !== 'eval.after_training') || p.startsWith('slurm.'));
  assert.ok(expected.length > 15, `found the keys (${expected.length})`);
  for (const key of [...expected, 'sweep.max_trials']) assert.ok(flagged.has(key), `${key} has a flag`);
  const steps = SCHEMA_FLAGS.find((f) => f.key === 'eval.steps')!;
  assert.deepEqual(steps, {
    key: 'eval.steps',
    flag: 'steps',
    form: 'number',
    describe: 'PGD iterations',
    default: '10',
  });
  assert.equal(SCHEMA_FLAGS.find((f) => f.key === 'eval.linf_epsilons')?.flag, 'eps');
  assert.equal(SCHEMA_FLAGS.find((f) => f.key === 'slurm.sbatch_args')?.form, 'list');
  assert.equal(SCHEMA_FLAGS.find((f) => f.key === 'slurm.partition')?.default, undefined, 'unset stays unset');
});

test('eval --help and sweep --help show each flag with its schema description and default', () => {
  const help = (command: string) =>
    spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'lcconv.js'), command, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '400' },
    }).stdout.replace(/\s+/g, ' ');
  const evalHelp = help('eval');
  const sweepHelp = help('sweep');
  for (const f of SCHEMA_FLAGS) {
    const text = f.key.startsWith('eval.') ? evalHelp : sweepHelp;
    assert.ok(text.includes(`--${f.flag} `), `--${f.flag} in help`);
    assert.ok(text.includes(f.describe.replace(/\s+/g, ' ')), `${f.key}'s description in help`);
    if (f.default !== undefined) assert.ok(text.includes(`default ${f.default}`), `${f.key}'s default in help`);
  }
});
