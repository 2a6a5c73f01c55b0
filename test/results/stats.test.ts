import assert from 'node:assert/strict';
import { test } from 'node:test';
import { difference, meanStd } from '../../src/results/stats.js';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} ≠ ${b}`);
const seeds = (values: number[], first = 0) => new Map(values.map((v, i) => [first + i, v]));

test('meanStd uses the sample std and reports n', () => {
  assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0, n: 1 });
  const r = meanStd([0.8, 0.9]);
  assert.ok(Math.abs(r.mean - 0.85) < 1e-12 && Math.abs(r.std - Math.SQRT1_2 * 0.1) < 1e-12 && r.n === 2);
});

test('difference: paired t-interval when both arms ran the same seeds', () => {
  // per-seed differences 1, 2, 3: mean 2, sd 1, n 3; t(0.975, 2) = 4.302653 (tables)
  const d = difference(seeds([2, 4, 6]), seeds([1, 2, 3]));
  assert.equal(d.method, 'paired');
  close(d.delta, 2);
  close(d.ci95![0], 2 - 4.302653 / Math.sqrt(3));
  close(d.ci95![1], 2 + 4.302653 / Math.sqrt(3));
});

test('difference: Welch interval when the seeds differ', () => {
  // equal n = 3 and variance 1: se = √(2/3), Welch dof = 4, t(0.975, 4) = 2.776445 (tables)
  const d = difference(seeds([1, 2, 3]), seeds([2, 3, 4], 10));
  assert.equal(d.method, 'welch');
  close(d.delta, -1);
  close(d.ci95![0], -1 - 2.776445 * Math.sqrt(2 / 3));
  close(d.ci95![1], -1 + 2.776445 * Math.sqrt(2 / 3));
});

test('difference: no interval with one seed in either arm', () => {
  const d = difference(seeds([0.5]), seeds([0.4, 0.6]));
  close(d.delta, 0);
  assert.equal(d.ci95, null);
  assert.equal(d.method, null);
});
