/**
 * Ctrl-C on a real terminal: each command that draws progress runs in a pty (util-linux `script`),
 * gets the ^C byte on the terminal once it has drawn progress (so the tty sends SIGINT to its
 * foreground process group, as a keyboard does), and must exit 130 within seconds, saying what is kept.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const skip = !hasScript && 'util-linux script is not installed (it gives the test a pty)';

/** Terminal control sequences (cursor moves, erase, hide/show cursor) the bars draw with. */
const ANSI = new RegExp(`${String.fromCharCode(27)}(\\[[0-9;?]*[A-Za-z]|[78])`, 'g');

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `lcconv args` in a pty, types Ctrl-C once `ready` shows, and waits for the exit (at most `within` ms after). */
function interruptInPty(
  args: string[],
  ready: RegExp,
  within = 8000,
): Promise<{ code: number | null; output: string; ms: number }> {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, CI: '', COLUMNS: '200', LINES: '50' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let sentAt = 0;
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit ${sentAt ? `${within} ms after Ctrl-C` : 'and no progress'}; output:\n${output}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!sentAt && ready.test(output)) {
        sentAt = performance.now();
        child.stdin.write('\x03'); // the terminal's interrupt character
        setTimeout(() => {
          if (child.exitCode === null) {
            child.kill('SIGKILL');
            clearTimeout(giveUp);
            reject(new Error(`still running ${within} ms after Ctrl-C; output:\n${output}`));
          }
        }, within).unref();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(giveUp);
      resolve({ code, output: output.replace(ANSI, ''), ms: performance.now() - sentAt });
    });
  });
}

const longRun = (dir: string) =>
  writeTinyConfig(join(dir, 'long.yaml'), {
    results_dir: dir,
    'train.epochs': 50,
    'train.batch_size': 8,
    'dataset.synthetic.train_size': 400,
  });

test('run: Ctrl-C in the first epoch exits 130 at once and says nothing is kept', { skip }, async () => {
  const dir = tempDir('pty-run1');
  const r = await interruptInPty(['run', longRun(dir)], /epoch 1\/50 \|/);
  assert.equal(r.code, 130, r.output);
  assert.match(r.output, /interrupted during epoch 1; no epoch finished, so nothing is kept to resume/);
  assert.doesNotMatch(r.output, /epoch 0 is checkpointed/);
});

test('run: Ctrl-C after an epoch exits 130 at once, naming the checkpointed epoch', { skip }, async () => {
  const dir = tempDir('pty-run2');
  const r = await interruptInPty(['run', longRun(dir)], /epoch 2\/50 \|/);
  assert.equal(r.code, 130, r.output);
  assert.match(r.output, /interrupted during epoch 2; epoch 1 is checkpointed; continue with --resume/);
});

test('run: Ctrl-C while a large dataset is generated exits 130 at once, not after the load', { skip }, async () => {
  const dir = tempDir('pty-load');
  // About 3·10^8 generated pixel values: tens of seconds of synchronous work on this machine.
  const config = writeTinyConfig(join(dir, 'big.yaml'), {
    results_dir: dir,
    'dataset.synthetic.train_size': 100_000,
    'dataset.synthetic.image_size': 32,
  });
  const r = await interruptInPty(['run', config], /seeds: /, 5000);
  assert.equal(r.code, 130, r.output);
  assert.ok(r.ms < 5000, `exited ${Math.round(r.ms)} ms after Ctrl-C`);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n !== 'big.yaml'),
    [],
    'nothing was written: no run folder',
  );
});

test('sweep: Ctrl-C under the live board exits 130 at once', { skip }, async () => {
  const dir = tempDir('pty-sweep');
  const config = writeTinyConfig(join(dir, 'sweep.yaml'), {
    results_dir: dir,
    'train.epochs': 50,
    'train.batch_size': 8,
    'dataset.synthetic.train_size': 400,
    sweep: { 'model.kernel_size': [3, 5] },
  });
  const r = await interruptInPty(['sweep', config, '--workers', '1'], /sweep \|/);
  assert.equal(r.code, 130, r.output);
  // It says what is kept and how to go on, and leaves no worker behind to keep training.
  assert.match(r.output, /\d+ stopped/);
  assert.match(r.output, /stopped: rerun 'lcconv sweep .*sweep\.yaml' to resume/);
  await new Promise((ok) => setTimeout(ok, 500));
  const ours = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('--trial') && cmdline.includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    });
  assert.deepEqual(ours, [], 'no sweep worker of this test is still running');
});

test('eval: Ctrl-C during an evaluation exits 130 at once', { skip }, async () => {
  const dir = tempDir('pty-eval');
  const config = writeTinyConfig(join(dir, 'tiny.yaml'), { results_dir: dir, 'dataset.synthetic.test_size': 2000 });
  const trained = lcconv(['run', config, '--quiet']);
  assert.equal(trained.status, 0, trained.stderr);
  const r = await interruptInPty(['eval', join(dir, 'tiny'), '--set', 'eval.restarts=20'], /evaluating /);
  assert.equal(r.code, 130, r.output);
  assert.match(
    r.output,
    /SIGINT: evaluation stopped; every row measured so far is in eval\.csv, and a rerun reuses it/,
  );
});

test('data download: Ctrl-C under the progress bar exits 130 at once, installing nothing', { skip }, async () => {
  // A server that sends a few bytes of a "large" archive, then stalls.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(100 * 2 ** 20) });
    res.write(Buffer.alloc(2 ** 20));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const root = tempDir('pty-download');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
    const r = await interruptInPty(['data', 'download', 'cifar10', '--root', root, '--url', url], /% 1\.0 MiB of/);
    assert.equal(r.code, 130, r.output);
    assert.match(r.output, /download of cifar10 stopped; nothing was installed/);
    assert.ok(!existsSync(join(root, 'cifar-10-batches-bin')));
    assert.deepEqual(readdirSync(root), [], 'no dataset folder and no temporary folder left');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
