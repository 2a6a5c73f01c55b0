/**
 * White-box adversarial attacks on a classifier of [0,1] pixel images: FGSM and PGD (L∞ and L2),
 * the settings torchattacks and AutoAttack's APGD-CE use, so numbers compare:
 *
 * - The threat model is in pixel space before normalisation: images x ∈ [0,1]^(H·W·C), perturbed
 *   images x' satisfy ‖x' − x‖ ≤ ε (L∞ or L2 over all pixels and channels of one image) and stay in
 *   [0,1]. Normalisation ((x − mean)/std) is part of the classifier, so ε = 8/255 means 8 grey
 *   levels, as in torchattacks and RobustBench.
 * - Loss: cross-entropy on the logits (no label smoothing), summed over the batch, so each image's
 *   gradient does not depend on the batch size. BatchNorm in eval mode (running statistics).
 * - FGSM (torchattacks.FGSM): x' = clip(x + ε·sign(∇x L), 0, 1).
 * - PGD L∞ (torchattacks.PGD, Madry et al. 2018): start at x + U(−ε, ε)^d clipped to [0,1] (random
 *   start) or at x; `steps` times: x' ← clip(x + clip(x' + α·sign(∇L) − x, −ε, ε), 0, 1).
 * - PGD L2 (torchattacks.PGDL2): random start δ = ε·r·z/‖z‖₂ with z ~ N(0, I), r ~ U(0, 1); each
 *   step x' ← x' + α·∇L/(‖∇L‖₂ + 1e-10), then δ = x' − x is scaled by min(1, ε/‖δ‖₂) and x + δ clipped.
 * - Restarts: an image counts as robust only if it is classified correctly after every restart
 *   (worst case over restarts, as AutoAttack counts).
 * - Step size α: lcconv's default is 2.5·ε/steps (Madry et al.; the `robustness` library), not
 *   torchattacks' fixed 2/255. APGD-CE adapts α and uses 100 steps with 1 restart (standard
 *   version: 5 restarts across its attacks); PGD-10 here is a weaker, cheaper estimate than APGD.
 * All random draws come from seeded streams, so an attack is reproducible.
 */
import * as tf from '@tensorflow/tfjs-core';
import { unitDraws } from '../models/init.js';
import type { Rng } from '../random.js';

/** [B,H,W,C] images in [0,1] → logits [B, classes] (normalisation inside). */
export type Classifier = (x: tf.Tensor4D) => tf.Tensor2D;

export type Norm = 'linf' | 'l2';

export interface PgdOptions {
  norm: Norm;
  epsilon: number;
  steps: number;
  /** α per step, in the norm's units. */
  stepSize: number;
  randomStart: boolean;
}

/** Gradient of the summed cross-entropy loss with respect to the input images. */
export function inputGradient(classify: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const loss = (input: tf.Tensor) => {
      const logits = classify(input as tf.Tensor4D);
      return tf.losses.softmaxCrossEntropy(
        tf.oneHot(labels, logits.shape[1]),
        logits,
        undefined,
        0,
        tf.Reduction.SUM,
      ) as tf.Scalar;
    };
    return tf.grad(loss)(x) as tf.Tensor4D;
  });
}

/** Per-image L2 norm of a [B, …] tensor, shaped [B, 1, 1, 1] to broadcast. */
function imageNorms(t: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(t), [1, 2, 3], true)) as tf.Tensor4D);
}

/** FGSM: one signed-gradient step of size ε, clipped to [0,1]. */
export function fgsm(classify: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D, epsilon: number): tf.Tensor4D {
  return tf.tidy(
    () => tf.clipByValue(tf.add(x, tf.mul(tf.sign(inputGradient(classify, x, labels)), epsilon)), 0, 1) as tf.Tensor4D,
  );
}

/** Projects x' onto the ε-ball around x (in `norm`) intersected with [0,1]. */
function project(x: tf.Tensor4D, adv: tf.Tensor4D, norm: Norm, epsilon: number): tf.Tensor4D {
  return tf.tidy(() => {
    let delta = tf.sub(adv, x) as tf.Tensor4D;
    if (norm === 'linf') delta = tf.clipByValue(delta, -epsilon, epsilon);
    else delta = tf.mul(delta, tf.minimum(1, tf.div(epsilon, tf.add(imageNorms(delta), 1e-12)))) as tf.Tensor4D;
    // Clipping to [0,1] only moves each pixel towards x, so the norm bound still holds.
    return tf.clipByValue(tf.add(x, delta), 0, 1) as tf.Tensor4D;
  });
}

/** The random start: a point of the ε-ball drawn from `rng` (uniform per pixel for L∞; see the header for L2). */
function randomStart(x: tf.Tensor4D, norm: Norm, epsilon: number, rng: Rng): tf.Tensor4D {
  const size = x.size;
  const draws = unitDraws(size, norm === 'linf' ? 'uniform' : 'normal', rng); // U(−1, 1) or N(0, 1)
  if (norm === 'linf') {
    for (let i = 0; i < size; i++) draws[i]! *= epsilon;
  } else {
    const per = size / x.shape[0];
    for (let b = 0; b < x.shape[0]; b++) {
      let sq = 0;
      for (let i = b * per; i < (b + 1) * per; i++) sq += draws[i]! ** 2;
      const scale = (epsilon * rng()) / Math.max(Math.sqrt(sq), 1e-12);
      for (let i = b * per; i < (b + 1) * per; i++) draws[i]! *= scale;
    }
  }
  return tf.tidy(() => tf.clipByValue(tf.add(x, tf.tensor(draws, x.shape)), 0, 1) as tf.Tensor4D);
}

/** PGD from one start; returns the adversarial images. */
export function pgd(
  classify: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: PgdOptions,
  rng: Rng,
): tf.Tensor4D {
  const { norm, epsilon, stepSize } = options;
  let adv = options.randomStart ? randomStart(x, norm, epsilon, rng) : tf.clone(x);
  for (let step = 0; step < options.steps; step++) {
    const next = tf.tidy(() => {
      const g = inputGradient(classify, adv, labels);
      const direction = norm === 'linf' ? tf.sign(g) : tf.div(g, tf.add(imageNorms(g), 1e-10));
      return project(x, tf.add(adv, tf.mul(direction, stepSize)) as tf.Tensor4D, norm, epsilon);
    });
    adv.dispose();
    adv = next;
  }
  return adv;
}

/** 1 where the classifier gets the label right, else 0 ([B] float32). */
export function correctMask(classify: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.equal(tf.argMax(classify(x), 1), labels), 'float32') as tf.Tensor1D);
}

/**
 * Images still classified correctly after `restarts` PGD runs (worst case over restarts), as a
 * [B] 0/1 mask. Each restart draws its own random start from `rng`.
 */
export function pgdRobustMask(
  classify: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: PgdOptions,
  restarts: number,
  rng: Rng,
): tf.Tensor1D {
  let robust = correctMask(classify, x, labels);
  for (let r = 0; r < restarts; r++) {
    const adv = pgd(classify, x, labels, options, rng);
    const next = tf.tidy(() => tf.mul(robust, correctMask(classify, adv, labels)) as tf.Tensor1D);
    tf.dispose([adv, robust]);
    robust = next;
  }
  return robust;
}
