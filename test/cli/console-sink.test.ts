import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsoleSink, formatSeconds, runTiming } from '../../src/cli/console-sink.js';
import { runStart } from '../fixtures.js';

/** A stream that says it is a terminal and keeps what is written. */
function fakeTerminal() {
  const chunks: string[] = [];
  const stream = {
    isTTY: true,
    columns: 250,
    write: (c: string) => {
      chunks.push(String(c));
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

const START = runStart();

test('progress bar: run and arm, elapsed and ETA, and an evaluating state', async () => {
  const term = fakeTerminal();
  const sink = new ConsoleSink(term.stream, 'normal');
  sink.start(START);
  try {
    sink.step({ epoch: 1, step: 5, steps: 10, lr: 0.1, loss: 1.5, acc: 0.4, imagesPerSecond: 100 });
    await new Promise((r) => setTimeout(r, 120)); // past the bar's redraw throttle
    sink.step({ epoch: 1, step: 10, steps: 10, lr: 0.1, loss: 1.2, acc: 0.5, imagesPerSecond: 100 });
    await new Promise((r) => setTimeout(r, 120));
    sink.evaluating();
    const text = term.text();
    assert.match(text, /frozen k=3 E=8 seed 2 \| epoch 1\/4 \|/);
    assert.match(text, /\d+ s elapsed, ETA (\d+ s|\?)/);
    assert.match(text, /10\/10 steps, evaluating…/);
  } finally {
    sink.epoch({
      epoch: 1,
      lr: 0.1,
      train_loss: 1.2,
      train_acc: 0.5,
      val_loss: 1,
      val_acc: 0.6,
      best_val_acc: 0.6,
      epoch_seconds: 1,
      images_per_second: 100,
      learnable_params: 5,
      frozen_params: 5,
    }); // stops the bar and its redraw timer
  }
});

test('elapsed and ETA: time left at the average step time so far', () => {
  assert.deepEqual(runTiming(30, 10, 40), { run_elapsed: '30 s', run_eta: '90 s' });
  assert.deepEqual(runTiming(0, 0, 40), { run_elapsed: '0 s', run_eta: '?' });
  assert.equal(formatSeconds(125), '2m05s');
  assert.equal(formatSeconds(3725), '1h02m');
});
