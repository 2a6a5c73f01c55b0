import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointEpoch } from '../../src/runs/files.js';
import { BIN, tempDir, tinyYaml } from '../fixtures.js';

const EPOCHS = 6;
const CONFIG = tinyYaml({
  name: 'resume',
  'dataset.augment': true,
  'dataset.synthetic.train_size': 192,
  freeze: 'frozen',
  'train.epochs': EPOCHS,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runDirOf = (results: string) => {
  const exp = join(results, 'resume');
  const runs = existsSync(exp) ? readdirSync(exp).filter((d) => d.startsWith('frozen-')) : [];
  return runs.length ? join(exp, runs[0]!) : null;
};
const epochOf = (dir: string | null): number => (dir ? (checkpointEpoch(dir) ?? 0) : 0);
/** Starts `lcconv run`, waits for a checkpoint of at least `epoch`, sends `signal`; resolves with the exit. */
async function runUntil(args: string[], results: string, epoch: number, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, sig) => r({ code, signal: sig })),
  );
  let seen = epochOf(runDirOf(results));
  while (child.exitCode === null && seen < epoch) {
    await sleep(10);
    seen = epochOf(runDirOf(results));
  }
  child.kill(signal);
  return { ...(await exit), seen, stderr };
}
const metricsRows = (dir: string) =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
/** The columns that must agree between runs (not the timings). */
const computed = (rows: string[][]) => rows.map((r) => r.slice(0, 7).join(','));

test('SIGKILL mid-run, then --resume (and a Ctrl-C in between) ends with exactly the uninterrupted metrics', {
  timeout: 600_000,
}, async () => {
  const dir = tempDir('resume');
  const config = join(dir, 'resume.yaml');
  writeFileSync(config, CONFIG);
  const straight = join(dir, 'straight');
  const killed = join(dir, 'killed');

  const a = spawnSync(process.execPath, [BIN, 'run', config, '--set', `results_dir=${straight}`], { encoding: 'utf8' });
  assert.equal(a.status, 0, a.stderr);

  // 1. SIGKILL once epoch 1 is checkpointed: no summary, a consistent checkpoint.
  const k = await runUntil([config, '--set', `results_dir=${killed}`], killed, 1, 'SIGKILL');
  assert.equal(k.signal, 'SIGKILL', `killed, not finished (${k.stderr})`);
  const runDir = runDirOf(killed)!;
  assert.equal(existsSync(join(runDir, 'summary.json')), false);
  const afterKill = epochOf(runDir);
  assert.ok(afterKill >= 1 && afterKill < EPOCHS, `checkpoint at epoch ${afterKill}`);
  // A kill between the CSV row and the checkpoint leaves a row past the checkpoint: simulate it.
  const rows = metricsRows(runDir);
  appendFileSync(join(runDir, 'metrics.csv'), `${[afterKill + 1, ...rows[0]!.slice(1)].join(',')}\n`);

  // 2. Resume, then Ctrl-C (SIGINT) after one more epoch: exit 130, CSV rows = checkpointed epochs.
  const i = await runUntil([config, '--set', `results_dir=${killed}`, '--resume'], killed, afterKill + 1, 'SIGINT');
  assert.equal(i.code, 130, `stopped by Ctrl-C with exit 130 (${i.stderr})`);
  assert.match(i.stderr, /interrupted during epoch \d+; epoch \d+ is checkpointed; continue with --resume/);
  const afterInt = epochOf(runDir);
  assert.ok(afterInt > afterKill && afterInt < EPOCHS, `resumed past ${afterKill}, stopped at ${afterInt}`);
  assert.deepEqual(
    metricsRows(runDir).map((r) => Number(r[0])),
    Array.from({ length: afterInt }, (_, e) => e + 1),
    'one row per checkpointed epoch',
  );

  // 3. Resume to the end: identical to the uninterrupted run (cpu backend: exact).
  const r = spawnSync(process.execPath, [BIN, 'run', config, '--set', `results_dir=${killed}`, '--resume'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(readFileSync(join(runDirOf(straight)!, 'summary.json'), 'utf8'));
  const got = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  for (const key of ['final_val_acc', 'final_val_loss', 'best_val_acc', 'best_epoch', 'final_train_acc'])
    assert.equal(got[key], want[key], key);
  assert.deepEqual(computed(metricsRows(runDir)), computed(metricsRows(runDirOf(straight)!)));
});
