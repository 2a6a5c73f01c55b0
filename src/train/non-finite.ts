/**
 * Stopping at the first non-finite training loss without a device read per step. The epoch's
 * running loss total is absorbing (NaN + x = NaN, ∞ + finite = ∞), so counting on the device the
 * steps after which it was still finite gives, whenever the totals are read anyway (progress reads,
 * the end of the epoch), the exact step that went wrong.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A run stopped because its training (or validation) loss became NaN or infinite. */
export class NonFiniteLoss extends Error {
  override name = 'NonFiniteLoss';
  constructor(
    readonly where: string, // "training loss … at epoch 2, step 1" or "validation loss … after epoch 1"
    readonly loss: number,
    readonly lr: number,
  ) {
    super(
      `${where.replace('…', `became ${loss}`)} (learning rate ${lr.toPrecision(3)}); the run stopped and is marked failed: lower train.lr (or check the data)`,
    );
  }
}

/** The count after this step: +1 while the running total `lossSum` is still finite. */
export function countFinite(finiteSteps: tf.Scalar, lossSum: tf.Scalar): tf.Scalar {
  return tf.tidy(() => tf.add(finiteSteps, tf.cast(tf.isFinite(lossSum), 'float32')) as tf.Scalar);
}

/**
 * Throws NonFiniteLoss when the read total `lossSum` is not finite; `finiteSteps` is the device
 * count read with it, and `lrOfStep` the learning rate a step of this epoch used (1-based).
 */
export function checkFinite(
  epoch: number,
  lossSum: number,
  finiteSteps: number,
  lrOfStep: (step: number) => number,
): void {
  if (Number.isFinite(lossSum)) return;
  const step = finiteSteps + 1;
  throw new NonFiniteLoss(`training loss … at epoch ${epoch}, step ${step}`, lossSum, lrOfStep(step));
}
