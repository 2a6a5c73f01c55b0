import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corruptImage, corruptImages, defocusKernel, poisson } from '../../src/eval/corruptions.js';
import { CORRUPTION_NAMES } from '../../src/config/names.js';
import { rngFor } from '../../src/random.js';

const grey = (h: number, w: number, values: number[]) => ({
  image: Uint8Array.from(values),
  shape: { height: h, width: w, channels: 1 },
});
const noRng = () => {
  throw new Error('a deterministic corruption drew a random number');
};

test('every corruption at every severity is deterministic from the seed, for grey and colour images', () => {
  for (const channels of [1, 3]) {
    const shape = { height: 10, width: 10, channels };
    const rng = rngFor(0, 'img');
    const images = Uint8Array.from({ length: 2 * 10 * 10 * channels }, () => Math.floor(rng() * 256));
    for (const name of CORRUPTION_NAMES) {
      // jpeg-js spends ~0.1 s building tables per encode: one severity is enough to check it repeats.
      for (const severity of name === 'jpeg_compression' ? [5] : [1, 2, 3, 4, 5]) {
        const a = corruptImages(name, severity, images, 2, shape, 7);
        assert.equal(a.length, images.length, `${name} keeps the shape`);
        assert.deepEqual(
          corruptImages(name, severity, images, 2, shape, 7),
          a,
          `${name} ${severity} differs between two calls with one seed`,
        );
        if (name.endsWith('_noise'))
          assert.notDeepEqual(corruptImages(name, severity, images, 2, shape, 8), a, `${name} ignores the seed`);
      }
      assert.notDeepEqual(
        corruptImages(name, 5, images, 2, shape, 7),
        images,
        `${name} at severity 5 changes the images`,
      );
    }
  }
});

test('contrast, brightness and pixelate match hand-computed pixels', () => {
  // contrast severity 1: (x − mean)·0.75 + mean, mean = 138.75, then ×255 truncated.
  const c = grey(2, 2, [0, 100, 200, 255]);
  assert.deepEqual([...corruptImage('contrast', 1, c.image, c.shape, noRng)], [34, 109, 184, 225]);
  // brightness severity 5 (+0.3 on HSV value): (100, 50, 0) has V = 100/255 → 176.5/255, so every
  // channel scales by 1.765: (176.5, 88.25, 0) → (176, 88, 0). Black (S = 0) becomes grey 76.5 → 76.
  const rgb = Uint8Array.from([100, 50, 0, 0, 0, 0]);
  assert.deepEqual(
    [...corruptImage('brightness', 5, rgb, { height: 1, width: 2, channels: 3 }, noRng)],
    [176, 88, 0, 76, 76, 76],
  );
  const b = grey(1, 2, [0, 240]);
  assert.deepEqual([...corruptImage('brightness', 5, b.image, b.shape, noRng)], [76, 255]);
  // pixelate severity 5 on 4×4: box-average to int(4·0.65) = 2 per side, then back to 4×4.
  const p = grey(4, 4, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 151]);
  assert.deepEqual(
    [...corruptImage('pixelate', 5, p.image, p.shape, noRng)],
    [25, 25, 45, 45, 25, 25, 45, 45, 105, 105, 125, 125, 105, 105, 125, 125].map((v, i) =>
      i >= 10 && i % 4 >= 2 ? 126 : v,
    ),
  );
});

test('the blurs match hand-computed kernels on a single bright pixel', () => {
  const impulse = grey(
    9,
    9,
    Array.from({ length: 81 }, (_, i) => (i === 40 ? 255 : 0)),
  );
  // gaussian_blur severity 5, σ = 1: 1-D taps e^(−t²/2)/2.506628 for |t| ≤ 4; centre 0.398943² · 255 = 40.58.
  const g = corruptImage('gaussian_blur', 5, impulse.image, impulse.shape, noRng);
  assert.equal(g[40], 40);
  assert.equal(g[41], 24); // 0.398943 · 0.241971 · 255 = 24.6
  assert.equal(g[50], 14); // 0.241971² · 255 = 14.9
  // defocus_blur severity 1: the disk of radius 0.3 is one pixel; OpenCV's 3×3 Gaussian, σ = 0.4, spreads it:
  // taps (e^−3.125, 1, e^−3.125)/1.087874 = (0.040388, 0.919224, 0.040388).
  const k = defocusKernel(0.3, 0.4);
  assert.equal(k.size, 17);
  assert.ok(Math.abs(k.weights[8 * 17 + 8]! - 0.919224 ** 2) < 1e-5);
  assert.ok(Math.abs(k.weights[8 * 17 + 9]! - 0.919224 * 0.040388) < 1e-5);
  const d = corruptImage('defocus_blur', 1, impulse.image, impulse.shape, noRng);
  assert.equal(d[40], 215); // 0.844973 · 255 = 215.5
  assert.equal(d[41], 9); // 0.037126 · 255 = 9.47
});

test('the noises have the published strengths', () => {
  const n = 64 * 64;
  const mid = grey(64, 64, Array(n).fill(128));
  const stats = (v: Uint8Array) => {
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return { mean, std: Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length) };
  };
  // gaussian severity 1: σ = 0.04 · 255 = 10.2 grey levels (truncation lowers the mean by ½).
  const gs = stats(corruptImage('gaussian_noise', 1, mid.image, mid.shape, rngFor(0, 'g')));
  assert.ok(Math.abs(gs.std - 10.2) < 0.6 && Math.abs(gs.mean - 127.5) < 0.8, JSON.stringify(gs));
  // shot severity 5: Poisson(x·50)/50 at x = 128/255 has std √(x/50) · 255 = 25.5.
  const ss = stats(corruptImage('shot_noise', 5, mid.image, mid.shape, rngFor(0, 's')));
  assert.ok(Math.abs(ss.std - 25.5) < 1.5 && Math.abs(ss.mean - 127.5) < 1.5, JSON.stringify(ss));
  // impulse severity 5: 7% of values become 0 or 255, half each.
  const imp = corruptImage('impulse_noise', 5, mid.image, mid.shape, rngFor(0, 'i'));
  const salt = imp.filter((v) => v === 255).length / n;
  const pepper = imp.filter((v) => v === 0).length / n;
  assert.ok(Math.abs(salt + pepper - 0.07) < 0.012 && Math.abs(salt - pepper) < 0.015, `${salt} ${pepper}`);
});

test('Poisson draws have mean and variance λ, small and large', () => {
  for (const lambda of [0.5, 4, 30, 400]) {
    const rng = rngFor(1, `p${lambda}`);
    const draws = Array.from({ length: 20000 }, () => poisson(lambda, rng));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length;
    assert.ok(Math.abs(mean - lambda) < 0.05 * lambda + 0.02, `λ = ${lambda}: mean ${mean}`);
    assert.ok(Math.abs(variance - lambda) < 0.08 * lambda + 0.05, `λ = ${lambda}: variance ${variance}`);
    assert.ok(draws.every((d) => Number.isInteger(d) && d >= 0));
  }
});

test('JPEG round trip: stronger compression loses more, grey images stay grey', () => {
  const rng = rngFor(2, 'jpeg');
  const smooth = grey(
    16,
    16,
    Array.from({ length: 256 }, (_, i) => Math.floor(8 * (i % 16) + 4 * Math.floor(i / 16) + 20 * rng())),
  );
  const err = (severity: number) => {
    const out = corruptImage('jpeg_compression', severity, smooth.image, smooth.shape, noRng);
    return out.reduce((s, v, i) => s + Math.abs(v - smooth.image[i]!), 0) / out.length;
  };
  const [q80, q40] = [err(1), err(5)];
  assert.ok(q80 > 0 && q80 < q40, `mean |error| q80 ${q80}, q40 ${q40}`);
  assert.ok(q40 < 12, 'JPEG keeps the image recognisable');
});

test('JPEG of many images at once equals JPEG of each alone (the mosaic is exact)', () => {
  for (const shape of [
    { height: 10, width: 13, channels: 3 },
    { height: 8, width: 8, channels: 1 },
  ]) {
    const rng = rngFor(3, 'mosaic');
    const pixels = shape.height * shape.width * shape.channels;
    const images = Uint8Array.from({ length: 5 * pixels }, () => Math.floor(rng() * 256));
    const together = corruptImages('jpeg_compression', 3, images, 5, shape, 0);
    for (let i = 0; i < 5; i++) {
      const alone = corruptImage('jpeg_compression', 3, images.subarray(i * pixels, (i + 1) * pixels), shape, noRng);
      assert.deepEqual(
        together.subarray(i * pixels, (i + 1) * pixels),
        alone,
        `image ${i} of ${JSON.stringify(shape)}`,
      );
    }
  }
});
