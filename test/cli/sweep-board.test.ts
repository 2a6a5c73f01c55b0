import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderBoard, SweepBoard } from '../../src/cli/sweep-board.js';
import { EPOCH_COLUMNS } from '../../src/runs/records.js';
import { sweepTrials } from '../../src/sweep/trials.js';
import { tempDir, tinyConfig } from '../fixtures.js';

test('sweep board: a total bar, then one line per running trial with its epoch and accuracy', () => {
  const lines = renderBoard({
    total: 12,
    done: 3,
    failed: 1,
    elapsedSeconds: 75,
    running: [
      { index: 4, runId: 'frozen-k5-E1-seed0-abc', epoch: 2, epochs: 4, acc: 0.4567 },
      { index: 5, runId: 'learned-k5-E1-seed0-def', epoch: 0, epochs: 4, acc: null },
    ],
  });
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^sweep \|█{8}░{22}\| 3\/12 trials done \(1 failed\), 2 running, 75 s elapsed$/);
  assert.equal(lines[1], '  trial 4 frozen-k5-E1-seed0-abc: epoch 2/4, acc 45.67%');
  assert.equal(lines[2], '  trial 5 learned-k5-E1-seed0-def: epoch 0/4');
});

test('sweep board: follows trials through the watcher and reads their progress from metrics.csv', () => {
  const results = tempDir('board');
  const trials = sweepTrials(tinyConfig([`results_dir=${results}`, 'train.epochs=3', 'sweep.model.kernel_size=[3,5]']));
  const written: string[] = [];
  const out = {
    columns: 200,
    write: (s: string) => {
      written.push(s);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const board = new SweepBoard(out, trials.length);
  try {
    board.trial(trials[0]!, 'started');
    mkdirSync(trials[0]!.identity.dir, { recursive: true });
    writeFileSync(
      join(trials[0]!.identity.dir, 'metrics.csv'),
      `${EPOCH_COLUMNS.join(',')}\n1,0.1,1,0.5,1,0.625,0.625,1,1,10,10\n`,
    );
    board.trial(trials[1]!, 'started');
    const state = board.state();
    assert.deepEqual(
      state.running.map((t) => [t.index, t.epoch, t.epochs, t.acc]),
      [
        [0, 1, 3, 0.625],
        [1, 0, 3, null],
      ],
    );
    board.trial(trials[0]!, 'finished');
    board.log('[worker 0] trial 0: finished');
    assert.deepEqual([board.state().done, board.state().running.length], [1, 1]);
    const screen = written.join('');
    assert.match(
      screen,
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the board is drawn with terminal escapes
      /\x1b\[\d+A\x1b\[0J\[worker 0\] trial 0: finished\nsweep \|/,
      'a log line replaces the board, which is redrawn below it',
    );
    assert.match(screen, /trial 0 .*: epoch 1\/3, acc 62\.50%/);
  } finally {
    board.stop();
  }
});
