/**
 * The Slurm executor against a real single-node Slurm (slurmctld + slurmd + munged on loopback,
 * started here by test/slurm/cluster.sh). Skipped, saying so, where the Slurm binaries are missing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { checkpointEpoch } from '../../src/runs/files.js';
import { BIN, writeTinyConfig } from '../fixtures.js';

const SCRIPT = join(PACKAGE_ROOT, 'test', 'slurm', 'cluster.sh');
const missing = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'munged', 'mungekey'].filter(
  (b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0,
);
const skip = missing.length
  ? `Slurm not installed (missing ${missing.join(', ')}; apt-get install slurm-wlm munge)`
  : false;

// munged wants every folder above its socket searchable by all; mkdtemp makes 0700.
const root = mkdtempSync(join(tmpdir(), 'lcconv-slurm-'));
chmodSync(root, 0o755);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CI: 'true',
  SLURM_TEST_DIR: join(root, 'cluster'),
  SLURM_CONF: join(root, 'cluster', 'slurm.conf'),
  SLURM_TEST_CTLD_PORT: '16817',
  SLURM_TEST_SLURMD_PORT: '16818',
  SLURM_TEST_CPUS: '4',
};
const cluster = (cmd: 'start' | 'stop') =>
  execFileSync('bash', [SCRIPT, cmd], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
const lcconv = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 300_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(() => {
  if (!skip) cluster('start');
});
after(() => {
  if (!skip) cluster('stop');
  rmSync(root, { recursive: true, force: true });
});

test('slurm executor: array of 4 trials on a real cluster; a scancelled task resumes from its checkpoint on resubmission', {
  skip,
  timeout: 600_000,
}, async () => {
  const results = join(root, 'results with space');
  mkdirSync(results);
  const config = join(root, 'sweep.yaml');
  writeTinyConfig(config, {
    name: 'slurm-sweep',
    results_dir: results,
    'dataset.synthetic.train_size': 128,
    'dataset.synthetic.test_size': 16,
    freeze: 'frozen',
    'train.epochs': 6,
    sweep: { 'model.kernel_size': [3, 5], seed: [0, 1] },
  });
  const trials = sweepTrials(loadConfigFile(config).config);
  const target = trials[3]!.identity.dir;
  const targetEpoch = () => checkpointEpoch(target) ?? 0;
  const slurmDir = join(results, 'slurm-sweep', 'sweep', 'slurm');

  // 1. Submit all four; cancel trial 3's task once it has checkpointed an epoch.
  const first = lcconv(['sweep', config, '--executor', 'slurm', '--sbatch-arg=--comment=lcconv test']);
  assert.equal(first.status, 0, first.stderr);
  const job = /submitted job (\d+): 4 array task\(s\) for trials 0-3/.exec(first.stdout)?.[1];
  assert.ok(job, first.stdout);
  assert.match(
    execFileSync('scontrol', ['show', 'job', `${job}_0`], { env, encoding: 'utf8' }),
    /Comment=lcconv test/,
    'sbatch args with spaces reach Slurm',
  );
  const t0 = Date.now();
  while (targetEpoch() < 1 && Date.now() - t0 < 120_000) await sleep(50);
  const cancelledAt = targetEpoch();
  assert.ok(
    cancelledAt >= 1 && !existsSync(join(target, 'summary.json')),
    `trial 3 running with a checkpoint (epoch ${cancelledAt})`,
  );
  execFileSync('scancel', [`${job}_3`], { env });
  while (
    spawnSync('squeue', ['-h', '-r', '-j', job!, '-t', 'PD,CF,R,CG,S,RQ', '-o', '%i'], {
      env,
      encoding: 'utf8',
    }).stdout.trim()
  )
    await sleep(200);

  const status = lcconv(['sweep', config, '--status']);
  assert.equal(status.status, 0, status.stderr);
  for (const i of [0, 1, 2]) assert.match(status.stdout, new RegExp(`^${i} .* finished$`, 'm'));
  const stoppedAt = targetEpoch();
  assert.ok(stoppedAt >= cancelledAt && stoppedAt < 6, `stopped at epoch ${stoppedAt}`);
  assert.match(
    status.stdout,
    new RegExp(
      `^3 .* failed: slurm ${job}_3 CANCELLED, checkpoint at epoch ${stoppedAt}/6, log ${slurmDir}/${job}_3\\.log$`,
      'm',
    ),
  );
  assert.match(readFileSync(join(slurmDir, `${job}_3.log`), 'utf8'), /SIGTERM: stopping after the current step/);
  assert.equal(
    readFileSync(join(target, 'metrics.csv'), 'utf8').trim().split('\n').length - 1,
    stoppedAt,
    'CSV rows = checkpointed epochs',
  );

  // 2. Resubmit: only trial 3, resumed from its checkpoint; --wait then reports all four.
  const second = lcconv(['sweep', config, '--executor', 'slurm', '--wait', '--poll', '0.3']);
  assert.equal(second.status, 0, second.stderr);
  const job2 = /submitted job (\d+): 1 array task\(s\) for trials 3 /.exec(second.stdout)?.[1];
  assert.ok(job2, second.stdout);
  const script = readdirSync(slurmDir)
    .filter((f) => f.endsWith('.sbatch'))
    .sort()
    .pop()!;
  assert.match(readFileSync(join(slurmDir, script), 'utf8'), /^#SBATCH --array=3$/m);
  assert.match(
    readFileSync(join(slurmDir, `${job2}_3.log`), 'utf8'),
    new RegExp(`resuming from the checkpoint of epoch ${stoppedAt}`),
  );
  assert.deepEqual(
    readFileSync(join(target, 'metrics.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[0])),
    [1, 2, 3, 4, 5, 6],
  );
  assert.match(second.stdout, /4 trials: 4 finished, 0 running, 0 queued, 0 failed, 0 pending/);
  assert.match(second.stdout, /frozen {2}3 {2}1 .*\(n=2\)/);
  const report = readFileSync(join(results, 'slurm-sweep', 'report.csv'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(report.length, 3, 'k=3 and k=5 rows');
  const nColumn = report[0]!.split(',').indexOf('seeds');
  assert.ok(
    report.slice(1).every((r) => r.split(',')[nColumn] === '2'),
    'n = 2 seeds each: all four trials gathered',
  );

  // 3. Nothing left: a third submission submits nothing.
  const third = lcconv(['sweep', config, '--executor', 'slurm']);
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, /nothing to submit/);
});

test('slurm executor: sbatch rejecting the script shows its message', { skip, timeout: 120_000 }, () => {
  const config = join(root, 'bad.yaml');
  writeFileSync(
    config,
    `name: bad\nresults_dir: ${join(root, 'bad-results')}\nmodel: { arch: resnet8, width: 4 }\nslurm: { partition: nosuchpartition }\nsweep:\n  seed: [0]\n`,
  );
  const r = lcconv(['sweep', config, '--executor', 'slurm']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^lcconv: sbatch rejected .*\.sbatch: sbatch: error: .*[Pp]artition/m);
});

test('slurm executor: a results folder whose name holds % patterns (%j, %A) is used literally, logs included', {
  skip,
  timeout: 300_000,
}, async () => {
  const results = join(root, 'res %j %A %%');
  mkdirSync(results);
  const config = join(root, 'percent.yaml');
  writeTinyConfig(config, {
    name: 'percent',
    results_dir: results,
    'dataset.synthetic.train_size': 64,
    'dataset.synthetic.test_size': 16,
    'train.epochs': 1,
    compare_to_standard: false,
    sweep: { seed: [0] },
  });
  const submitted = lcconv(['sweep', config, '--executor', 'slurm', '--wait', '--poll', '1']);
  assert.equal(submitted.status, 0, submitted.stderr);
  const job = /submitted job (\d+)/.exec(submitted.stdout)?.[1];
  assert.ok(job, submitted.stdout);
  const slurmDir = join(results, 'percent', 'sweep', 'slurm');
  assert.ok(existsSync(join(slurmDir, `${job}_0.log`)), `the task's log is in ${slurmDir}, not in an expanded path`);
  const status = lcconv(['sweep', config, '--status']);
  assert.match(status.stdout, /1 trials: 1 finished/, status.stdout);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('res ') && n !== 'res %j %A %%'),
    [],
    'no expanded twin',
  );
});
