/**
 * An epoch's summed loss and correct predictions, kept on the device: each step adds its sums
 * there, so the loop never waits for the GPU. Progress is read without blocking (`peek`, every N
 * steps; the values arrive while later steps run), and the epoch's means with one read (`finish`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { countFinite } from './non-finite.js';

/** Steps between the training loop's non-blocking progress reads. */
export const PROGRESS_EVERY = 10;

export interface Totals {
  /** Mean loss and accuracy over the `seen` images so far. */
  loss: number;
  acc: number;
  seen: number;
  /** Steps after which the loss total was still finite: the first bad step is this + 1 (non-finite.ts). */
  finiteSteps: number;
}

export class EpochTotals {
  private lossSum: tf.Scalar = tf.keep(tf.scalar(0));
  private correct: tf.Scalar = tf.keep(tf.scalar(0));
  private finiteSteps: tf.Scalar = tf.keep(tf.scalar(0));
  private seen = 0;
  private pending: Promise<void> | null = null;

  /** Adds one step's summed loss and correct count (both disposed here). */
  add(step: { lossSum: tf.Scalar; correct: tf.Scalar }, size: number): void {
    const [lossSum, correct] = tf.tidy(() => [
      tf.keep(tf.add(this.lossSum, step.lossSum) as tf.Scalar),
      tf.keep(tf.add(this.correct, step.correct) as tf.Scalar),
    ]);
    const finiteSteps = tf.keep(countFinite(this.finiteSteps, lossSum!));
    tf.dispose([this.lossSum, this.correct, this.finiteSteps, step.lossSum, step.correct]);
    this.lossSum = lossSum!;
    this.correct = correct!;
    this.finiteSteps = finiteSteps;
    this.seen += size;
  }

  /**
   * Starts a non-blocking read of the totals so far; `onRead` gets them once the device delivers
   * (the place to notice a non-finite loss early). Skipped while the previous read is in flight,
   * so a slow device never queues reads.
   */
  peek(onRead: (totals: Totals) => void): void {
    if (this.pending) return;
    const seen = this.seen;
    const snapshot = tf.stack([this.lossSum, this.correct, this.finiteSteps]);
    this.pending = snapshot.data().then((v) => {
      snapshot.dispose();
      this.pending = null;
      onRead({ loss: v[0]! / seen, acc: v[1]! / seen, seen, finiteSteps: v[2]! });
    });
  }

  /** The epoch's mean loss and accuracy: its one blocking read. Disposes the totals. */
  async finish(): Promise<Totals> {
    await this.pending;
    const both = tf.stack([this.lossSum, this.correct, this.finiteSteps]);
    this.dispose();
    const [l, c, f] = await both.data();
    both.dispose();
    return { loss: l! / this.seen, acc: c! / this.seen, seen: this.seen, finiteSteps: f! };
  }

  dispose(): void {
    tf.dispose([this.lossSum, this.correct, this.finiteSteps]);
  }
}
