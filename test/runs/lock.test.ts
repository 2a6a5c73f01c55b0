import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireLock, lockOwner, RunLocked, STALE_AFTER_MS, type LockOwner } from '../../src/runs/lock.js';
import { BIN, lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const LOCK_MODULE = new URL('../../src/runs/lock.js', import.meta.url).href;

/** Tries the lock from another process; returns what it printed. */
function tryInChild(file: string, env: NodeJS.ProcessEnv = {}): string {
  const code = `import { acquireLock } from ${JSON.stringify(LOCK_MODULE)}; try { acquireLock(${JSON.stringify(file)}, 'run-dir').release(); console.log('acquired'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return r.stdout.trim() || r.stderr;
}

const write = (file: string, owner: Partial<LockOwner>) =>
  writeFileSync(
    file,
    JSON.stringify({
      pid: 1,
      host: hostname(),
      started: null,
      since: '2026-01-01T00:00:00Z',
      slurm_job: null,
      ...owner,
    }),
  );

test('a held lock stops a second process, which is told who holds the run; release frees it', () => {
  const file = join(tempDir('lock'), 'running.json');
  const lock = acquireLock(file, 'run-dir');
  assert.equal(lockOwner(file)?.pid, process.pid);
  assert.match(
    tryInChild(file),
    new RegExp(
      `^RunLocked: run-dir: already being run by process ${process.pid} on ${hostname()} since .*; wait for it to end \\(if that process is gone for sure, delete ${file}\\)$`,
    ),
  );
  lock.release();
  assert.equal(existsSync(file), false);
  assert.equal(tryInChild(file), 'acquired');
});

test('stale locks are taken over: dead pid, reused pid (other start time), silent other host, empty file, our own requeued Slurm job', () => {
  const dir = tempDir('lock-stale');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const cases: [string, () => void][] = [
    ['dead pid', () => write(join(dir, 'a'), { pid: Number(dead.stdout) })],
    ['reused pid', () => write(join(dir, 'b'), { pid: process.pid, started: '1' })],
    [
      'silent other host',
      () => {
        write(join(dir, 'c'), { host: 'elsewhere' });
        const old = new Date(Date.now() - STALE_AFTER_MS - 1000);
        utimesSync(join(dir, 'c'), old, old);
      },
    ],
    [
      'empty file',
      () => {
        writeFileSync(join(dir, 'd'), '');
        const old = new Date(Date.now() - 60_000);
        utimesSync(join(dir, 'd'), old, old);
      },
    ],
    ['requeued Slurm task', () => write(join(dir, 'e'), { host: 'node7', slurm_job: '4242' })],
  ];
  for (const [name, make] of cases) {
    make();
    const file = join(dir, 'abcde'[cases.findIndex(([n]) => n === name)]!);
    const lock = name === 'requeued Slurm task' ? null : acquireLock(file, 'run-dir');
    if (lock) {
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as LockOwner).pid, process.pid, name);
      lock.release();
    } else {
      assert.equal(tryInChild(file, { SLURM_JOB_ID: '4242' }), 'acquired', name);
    }
  }
});

test('live locks hold: a live process on this host, a fresh lock of another host, a lock being written', () => {
  const dir = tempDir('lock-live');
  write(join(dir, 'a'), { pid: process.ppid });
  write(join(dir, 'b'), { host: 'elsewhere', slurm_job: '17' });
  writeFileSync(join(dir, 'c'), '');
  for (const f of ['a', 'b', 'c']) assert.throws(() => acquireLock(join(dir, f), 'run-dir'), RunLocked, f);
  assert.match(tryInChild(join(dir, 'b')), /already being run by process 1 on elsewhere, Slurm job 17 since/);
});

test('CLI: two `lcconv run` of one config at once: the second says who holds the run and exits 2; metrics.csv stays in order', {
  timeout: 120_000,
}, async () => {
  const dir = tempDir('lock-cli');
  const config = writeTinyConfig(join(dir, 'exp.yaml'), {
    results_dir: join(dir, 'results'),
    'train.epochs': 40,
    'dataset.synthetic.train_size': 32,
  });
  const first = spawn(process.execPath, [BIN, 'run', config, '--quiet'], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const firstExit = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
  let lockFile: string | undefined;
  for (let i = 0; i < 600 && !lockFile; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const runs = existsSync(join(dir, 'results', 'tiny')) ? readdirSync(join(dir, 'results', 'tiny')) : [];
    lockFile = runs.map((r) => join(dir, 'results', 'tiny', r, 'running.json')).find((f) => existsSync(f));
  }
  assert.ok(lockFile, 'the first run took its lock');
  const second = lcconv(['run', config, '--quiet']);
  first.kill('SIGINT'); // enough overlap seen; stop the first one cleanly
  assert.equal(second.status, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `^lcconv: .*: already being run by process ${first.pid} on ${hostname()} since .*; wait for it to end`,
      'm',
    ),
  );
  assert.equal(await firstExit, 130);
  const epochs = readFileSync(join(lockFile!, '..', 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[0]));
  assert.deepEqual(
    epochs,
    epochs.map((_, i) => i + 1),
    'one writer: epochs 1, 2, 3… in order',
  );
  assert.equal(existsSync(lockFile!), false, 'released');
});

test('a malformed lock is never "process 0 on unknown host": fresh, it says it is unreadable; old, it is taken over', () => {
  const dir = tempDir('lock-malformed');
  for (const [name, text] of [
    ['garbage', '{not json'],
    ['pid0', JSON.stringify({ pid: 0, host: hostname(), started: null, since: 'x', slurm_job: null })],
    ['nohost', JSON.stringify({ pid: process.pid + 1e6 })],
  ]) {
    const file = join(dir, name!);
    writeFileSync(file, text!);
    assert.throws(
      () => acquireLock(file, 'run-dir'),
      (err: Error) =>
        err instanceof RunLocked &&
        /is unreadable \(empty or damaged\)/.test(err.message) &&
        !/process 0|unknown host/.test(err.message),
      name,
    );
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    acquireLock(file, 'run-dir').release(); // a damaged lock older than the grace period is stale
    assert.ok(!existsSync(file), name);
  }
});

test('a lock that exists but cannot be read (a folder in its place) is one line naming it, not an endless loop', () => {
  const dir = tempDir('lock-unreadable');
  const file = join(dir, 'running.json');
  mkdirSync(file);
  // In a child with a time limit: before the fix this loop never returned.
  const code = `import { acquireLock } from ${JSON.stringify(LOCK_MODULE)}; try { acquireLock(${JSON.stringify(file)}, 'run-dir'); console.log('acquired'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'acquireLock returned (no endless retry)');
  assert.match(
    r.stdout.trim(),
    new RegExp(
      `^InputError: ${file}: the run's lock exists but cannot be read \\(is a folder \\(EISDIR\\)\\); remove it if no process runs run-dir$`,
    ),
  );
});
