import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigText } from '../../src/config/load.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { arraySpec, sbatchScript, sharedStorageWarnings, shellQuote, slurmSettings } from '../../src/sweep/slurm.js';
import { BIN, inputErrorOf, tempDir } from '../fixtures.js';


test('array range: sorted, runs collapsed, %M throttle', () => {
  assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
  assert.equal(arraySpec([9, 0, 2, 1, 3, 7, 10, 3], 2), '0-3,7,9-10%2');
  assert.equal(arraySpec([5]), '5');
});

test('shell quoting round-trips through bash: spaces, quotes, $ and backslashes', () => {
  const words = ['/plain/path.yaml', '/results with space/a b.yaml', "it's", 'a"b', '$HOME `x` \\n', ''];
  const r = spawnSync('bash', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
  assert.equal(r.stdout, words.map((w) => `${w}\n`).join(''));
});

test('sbatch script: array of trial indices, throttle, resources, per-task logs, one trial per task with --resume', () => {
  const config = loadConfigText('slurm: { partition: gpu, gpus_per_task: 2, cpus_per_task: 4, time: "1-02:00:00", max_parallel: 3, sbatch_args: ["--account=my lab"] }\n', 'a.yaml').config;
  const dir = '/shared/results with space/exp';
  const script = sbatchScript({
    jobName: 'lcconv-exp', indices: [4, 1, 2, 7], settings: slurmSettings(config.slurm), logDir: `${dir}/sweep/slurm`, workDir: dir,
    node: '/opt/node 20/bin/node', configCopy: `${dir}/sweep/config-abc.yaml`,
  });
  const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
  assert.deepEqual(directives, [
    '--job-name=lcconv-exp', '--array=1-2,4,7%3', '--output="/shared/results with space/exp/sweep/slurm/%A_%a.log"',
    '--chdir="/shared/results with space/exp"', '--ntasks=1', '--cpus-per-task=4', '--gres=gpu:2', '--partition=gpu',
    '--time=1-02:00:00', '--requeue', '--open-mode=append', '"--account=my lab"',
  ]);
  assert.ok(script.startsWith('#!/bin/bash\n'));
  const exec = script.split('\n').find((l) => l.startsWith('exec '))!;
  assert.equal(exec, `exec '/opt/node 20/bin/node' ${shellQuote(join(PACKAGE_ROOT, 'bin', 'lcconv.js'))} run '${dir}/sweep/config-abc.yaml' --trial "$SLURM_ARRAY_TASK_ID" --resume`);
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'valid bash');
  // Defaults: no GPUs, partition or time unless asked for.
  const plain = sbatchScript({ jobName: 'j', indices: [0], settings: slurmSettings(loadConfigText('{}', undefined).config.slurm), logDir: '/l', workDir: '/w', node: '/n', configCopy: '/c' });
  assert.doesNotMatch(plain, /--gres|--partition|--time/);
  assert.match(plain, /^#SBATCH --array=0$/m);
});

test('slurm flags are validated by the schema; no sbatch on PATH is a one-line error; --dry-run submits nothing', async () => {
  const dir = tempDir('slurm-cli');
  const config = join(dir, 'exp.yaml');
  writeFileSync(config, `name: exp\nresults_dir: ${join(dir, 'results')}\nmodel: { arch: resnet8, width: 4 }\nsweep:\n  model.kernel_size: [3, 5]\n  freeze: [learned, frozen]\n`);
  const lcconv = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [BIN, 'sweep', config, '--executor', 'slurm', ...args], { encoding: 'utf8', env });

  assert.match((await inputErrorOf(['sweep', config, '--executor', 'slurm', '--time', '5h'])).message, /slurm\.time: use HH:MM:SS or D-HH:MM:SS, got "5h"/);

  const noSlurm = lcconv([], { ...process.env, PATH: '/nonexistent' });
  assert.equal(noSlurm.status, 2);
  assert.match(noSlurm.stderr, /^lcconv: sbatch not found on PATH: the slurm executor needs the Slurm client tools/m);

  const dry = lcconv(['--dry-run', '--max-parallel', '2', '--partition', 'debug'], { ...process.env, PATH: '/nonexistent' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /#SBATCH --array=0-3%2\n/);
  assert.match(dry.stdout, /#SBATCH --partition=debug\n/);
  assert.match(dry.stderr, /warning: results folder .* machine-local temp folder: compute nodes other than this one will not see it/);
  const slurmDir = join(dir, 'results', 'exp', 'sweep', 'slurm');
  assert.equal(readdirSync(slurmDir).filter((f) => f.endsWith('.sbatch')).length, 1, 'the script is written');
  assert.equal(existsSync(join(slurmDir, 'jobs.json')), false, 'and not submitted');
  const copy = readdirSync(join(dir, 'results', 'exp', 'sweep')).find((f) => f.startsWith('config-'))!;
  assert.match(readFileSync(join(dir, 'results', 'exp', 'sweep', copy), 'utf8'), new RegExp(`results_dir: ${join(dir, 'results')}`));
});

test('shared storage check: /tmp and tmpfs paths are flagged, others are not', () => {
  assert.equal(sharedStorageWarnings({ results: '/tmp/x' }).length, 1);
  assert.equal(sharedStorageWarnings({ results: '/dev/shm/x' }).length, 1);
  assert.deepEqual(sharedStorageWarnings({ code: PACKAGE_ROOT.startsWith('/tmp') ? '/srv/x' : PACKAGE_ROOT }), []);
});
