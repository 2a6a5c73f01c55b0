import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  correctMask,
  fgsm,
  inputGradient,
  pgd,
  pgdRobustMask,
  type Classifier,
  type PgdOptions,
} from '../../src/eval/attacks.js';
import { pixelClassifier } from '../../src/eval/evaluate.js';
import { rngFor } from '../../src/random.js';
import { buildNetwork } from '../../src/models/index.js';
import { tinyResNetSpec } from '../fixtures.js';

tf.env().set('PROD', true);

/** A tiny random ResNet (8×8 RGB, W = 4) as a classifier of [0,1] images, with its own predictions as labels. */
function tinySetup(count = 16) {
  const model = buildNetwork(tinyResNetSpec({ numClasses: 4, seed: 3 }));
  const classifier = pixelClassifier(model, { mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.25] });
  const rng = rngFor(1, 'images');
  // Pixels at exactly 0 and 1 too, so clipping to [0,1] is exercised.
  const x = tf.tensor4d(
    Float32Array.from({ length: count * 8 * 8 * 3 }, () => {
      const u = rng();
      return u < 0.1 ? 0 : u > 0.9 ? 1 : u;
    }),
    [count, 8, 8, 3],
  );
  const labels = tf.tidy(() => tf.cast(tf.argMax(classifier.classify(x), 1), 'int32') as tf.Tensor1D);
  return {
    classify: classifier.classify,
    x,
    labels,
    dispose: () => {
      tf.dispose([x, labels]);
      classifier.dispose();
      model.dispose();
    },
  };
}

/**
 * A tiny MLP (192 → 32 → 4, random weights) whose predictions depend strongly on the pixels, with
 * its own predictions as labels: clean accuracy is 1 and an attack has something to flip.
 */
function mlpSetup(count = 32) {
  const rng = rngFor(7, 'mlp');
  const draw = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * rng() - 1) * scale);
  const w1 = tf.tensor2d(draw(192 * 32, Math.sqrt(3 / 192) * 4), [192, 32]);
  const w2 = tf.tensor2d(draw(32 * 4, Math.sqrt(3 / 32)), [32, 4]);
  const classify: Classifier = (x) =>
    tf.matMul(tf.relu(tf.matMul(tf.sub(tf.reshape(x, [x.shape[0], 192]), 0.5), w1)), w2);
  const x = tf.tensor4d(
    Float32Array.from({ length: count * 192 }, () => rng()),
    [count, 8, 8, 3],
  );
  const labels = tf.tidy(() => tf.cast(tf.argMax(classify(x), 1), 'int32') as tf.Tensor1D);
  return { classify, x, labels, dispose: () => tf.dispose([w1, w2, x, labels]) };
}

const accuracy = async (classify: Classifier, x: tf.Tensor4D, y: tf.Tensor1D) => {
  const m = correctMask(classify, x, y);
  const v = await m.mean().data();
  m.dispose();
  return v[0]!;
};

test('PGD accuracy falls monotonically in ε, never above clean, and the attack succeeds at large ε', async () => {
  const { classify, x, labels, dispose } = mlpSetup();
  try {
    const clean = await accuracy(classify, x, labels);
    assert.equal(clean, 1); // labels are the model's own predictions
    const accs: number[] = [];
    for (const eps of [0, 0.5, 1, 2, 4, 8].map((e) => e / 255)) {
      const options: PgdOptions = {
        norm: 'linf',
        epsilon: eps,
        steps: 10,
        stepSize: (2.5 * eps) / 10,
        randomStart: true,
      };
      const mask = pgdRobustMask(classify, x, labels, options, 1, rngFor(0, `pgd/${eps}`));
      accs.push((await mask.mean().data())[0]!);
      mask.dispose();
    }
    assert.equal(accs[0], clean, 'ε = 0 leaves accuracy at clean');
    for (let i = 1; i < accs.length; i++)
      assert.ok(accs[i]! <= accs[i - 1]!, `accuracy rose from ${accs[i - 1]} to ${accs[i]} at a larger ε: ${accs}`);
    assert.ok(accs.at(-1)! < 0.5, `PGD at ε = 8/255 should fool most of the images, got ${accs}`);
    assert.ok(accs[1]! > accs.at(-1)!, `accuracy should fall between ε = 0.5/255 and 8/255, got ${accs}`);
  } finally {
    dispose();
  }
});

test('PGD perturbations stay within ε (L∞ and L2) and inside [0,1]', async () => {
  const { classify, x, labels, dispose } = tinySetup(8);
  try {
    for (const [norm, eps] of [
      ['linf', 8 / 255],
      ['linf', 0.3],
      ['l2', 0.5],
      ['l2', 3],
    ] as const) {
      for (const randomStart of [true, false]) {
        const adv = pgd(
          classify,
          x,
          labels,
          { norm, epsilon: eps, steps: 5, stepSize: eps, randomStart },
          rngFor(2, norm),
        );
        const delta = await tf.sub(adv, x).data();
        const values = await adv.data();
        assert.ok(Math.min(...values) >= 0 && Math.max(...values) <= 1, `${norm} adversarial images leave [0,1]`);
        const per = delta.length / 8;
        for (let b = 0; b < 8; b++) {
          const d = delta.subarray(b * per, (b + 1) * per);
          const size =
            norm === 'linf'
              ? Math.max(...Array.from(d, Math.abs))
              : Math.sqrt(Array.from(d).reduce((s: number, v: number) => s + v * v, 0));
          assert.ok(
            size <= eps * (1 + 1e-5) + 1e-7,
            `${norm} ‖δ‖ = ${size} > ε = ${eps} (image ${b}, random start ${randomStart})`,
          );
          if (norm === 'linf' && eps === 0.3) assert.ok(size > eps * 0.5, 'a large-ε attack moves the image');
        }
        adv.dispose();
      }
    }
  } finally {
    dispose();
  }
});

test('FGSM equals one PGD step of size ε without random start', async () => {
  const { classify, x, labels, dispose } = tinySetup(8);
  try {
    const eps = 4 / 255;
    const a = fgsm(classify, x, labels, eps);
    const b = pgd(
      classify,
      x,
      labels,
      { norm: 'linf', epsilon: eps, steps: 1, stepSize: eps, randomStart: false },
      rngFor(0, 'unused'),
    );
    const diff = await tf.max(tf.abs(tf.sub(a, b))).data();
    assert.ok(diff[0]! < 1e-6, `max difference ${diff[0]}`);
    const moved = await tf.max(tf.abs(tf.sub(a, x))).data();
    assert.ok(Math.abs(moved[0]! - eps) < 1e-6, 'FGSM moves pixels by exactly ε where not clipped');
    tf.dispose([a, b]);
  } finally {
    dispose();
  }
});

test('PGD is reproducible from its seed and differs with another seed', async () => {
  const { classify, x, labels, dispose } = tinySetup(4);
  try {
    const options: PgdOptions = { norm: 'l2', epsilon: 0.5, steps: 2, stepSize: 0.25, randomStart: true };
    const run = async (seed: number) => {
      const adv = pgd(classify, x, labels, options, rngFor(seed, 'pgd'));
      const v = await adv.data();
      adv.dispose();
      return v;
    };
    assert.deepEqual(await run(1), await run(1));
    assert.notDeepEqual(await run(1), await run(2));
  } finally {
    dispose();
  }
});

for (const [what, setup] of [
  ['tiny ResNet', () => tinySetup(4)],
  ['MLP', () => mlpSetup(4)],
] as const)
  test(`the input gradient of a ${what} matches a central finite difference of the loss`, async () => {
    const { classify, x, labels, dispose } = setup();
    try {
      const g = inputGradient(classify, x, labels);
      const rng = rngFor(5, 'direction');
      const d = tf.tensor4d(
        Float32Array.from({ length: x.size }, () => rng() - 0.5),
        x.shape,
      );
      const loss = async (input: tf.Tensor4D) => {
        const l = tf.tidy(() => {
          const logits = classify(input);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), logits, undefined, 0, tf.Reduction.SUM);
        });
        const v = (await l.data())[0]!;
        l.dispose();
        return v;
      };
      const h = 1e-3;
      const plus = tf.add(x, tf.mul(d, h)) as tf.Tensor4D;
      const minus = tf.sub(x, tf.mul(d, h)) as tf.Tensor4D;
      const numeric = ((await loss(plus)) - (await loss(minus))) / (2 * h);
      const analytic = (await tf.sum(tf.mul(g, d)).data())[0]!;
      assert.ok(Math.abs(analytic) > 1e-3, `the gradient should not vanish (${analytic})`);
      assert.ok(
        Math.abs(numeric - analytic) <= 2e-2 * Math.max(Math.abs(analytic), 1e-2),
        `directional derivative: finite difference ${numeric}, gradient ${analytic}`,
      );
      tf.dispose([g, d, plus, minus]);
    } finally {
      dispose();
    }
  });
