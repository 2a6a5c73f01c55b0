/**
 * listRuns, the one reader of an experiment folder's run directories (report, eval, analyze, export
 * and sweep --status all list through it): each run's state, summary, config and damage, from its
 * files alone; folders that are not runs are not listed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRuns, readRun } from '../../src/runs/scan.js';
import { tempDir } from '../fixtures.js';

const SUMMARY = {
  status: 'finished',
  run_id: 'r',
  freeze: 'frozen',
  seed: 0,
  kernel_size: 3,
  lc_expansion: 1,
  final_val_acc: 0.5,
  best_val_acc: 0.5,
  epochs: 1,
};

function run(folder: string, name: string, files: Record<string, string>): string {
  const dir = join(folder, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

test('listRuns gives each run directory its state, summary, config and damage; other folders are not runs', () => {
  const folder = tempDir('list-runs');
  const config = 'name: x\nseed: 0\n';
  const metrics = 'epoch,val_acc\n1,0.5\n';
  run(folder, 'a-finished', {
    'config.yaml': config,
    'metrics.csv': metrics,
    'summary.json': JSON.stringify({ ...SUMMARY, run_id: 'a-finished' }),
  });
  run(folder, 'b-failed', { 'config.yaml': config, 'error.json': JSON.stringify({ message: 'out of memory' }) });
  run(folder, 'c-interrupted', { 'config.yaml': config, 'metrics.csv': metrics });
  run(folder, 'd-bad-summary', { 'config.yaml': config, 'summary.json': '{"status": "fini' });
  run(folder, 'e-bad-config', {
    'config.yaml': 'name: [unclosed\n',
    'metrics.csv': metrics,
    'summary.json': JSON.stringify({ ...SUMMARY, run_id: 'e-bad-config' }),
  });
  run(folder, 'f-cut-metrics', {
    'config.yaml': config,
    'metrics.csv': 'epoch,val_acc\n',
    'summary.json': JSON.stringify({ ...SUMMARY, run_id: 'f-cut-metrics' }),
  });
  mkdirSync(join(folder, 'analysis')); // lcconv's own folder, not a run
  run(folder, 'sweep', { 'config-1234.yaml': config });

  const listed = listRuns(folder);
  assert.deepEqual(
    listed.map((r) => [r.name, r.state]),
    [
      ['a-finished', 'finished'],
      ['b-failed', 'failed'],
      ['c-interrupted', 'interrupted'],
      ['d-bad-summary', 'damaged'],
      ['e-bad-config', 'damaged'],
      ['f-cut-metrics', 'damaged'],
    ],
  );
  const [finished, failed, , badSummary, badConfig, cut] = listed;
  assert.equal(finished!.summary?.run_id, 'a-finished');
  assert.deepEqual(finished!.config, { name: 'x', seed: 0 });
  assert.equal(finished!.damage, null);
  assert.equal(failed!.error?.message, 'out of memory');
  assert.match(badSummary!.damage!, /summary\.json: damaged \(not valid JSON\)/);
  assert.match(badConfig!.damage!, /config\.yaml: not valid YAML/);
  assert.equal(badConfig!.summary, null, 'a damaged run offers no summary to compute with');
  assert.match(cut!.damage!, /metrics\.csv/);
  assert.deepEqual(listRuns(join(folder, 'nothing-here')), []);
  assert.equal(readRun(join(folder, 'not-yet')).state, 'pending');
});
