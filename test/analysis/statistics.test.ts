import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  centreAndBorder,
  combineSparsity,
  covarianceSpectrum,
  effectiveRank,
  positionEnergy,
} from '../../src/analysis/statistics.js';
import { unitDraws } from '../../src/models/init.js';
import { rngFor } from '../../src/random.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} ≠ ${b}`);

/** N filters of shape k×k in [k, k, 1, N] layout from a function of (filter, y, x). */
function filters(k: number, n: number, f: (j: number, y: number, x: number) => number): Float32Array {
  const out = new Float32Array(k * k * n);
  for (let p = 0; p < k * k; p++) for (let j = 0; j < n; j++) out[p * n + j] = f(j, Math.floor(p / k), p % k);
  return out;
}

test('energy per position: all at the centre, or uniform', () => {
  const centre = positionEnergy(
    filters(3, 5, (j, y, x) => (y === 1 && x === 1 ? j + 1 : 0)),
    3,
  );
  assert.deepEqual(centreAndBorder(centre, 3), { centre: 1, border: 0 });
  const flat = positionEnergy(
    filters(5, 4, () => 2),
    5,
  );
  for (const e of flat) close(e, 1 / 25);
  const cb = centreAndBorder(flat, 5);
  close(cb.centre, 1 / 25);
  close(cb.border, 16 / 25, 1e-6); // 16 of 25 positions are on the outer ring of a 5×5 kernel
});

test('covariance spectrum: one shared pattern has rank 1; i.i.d. filters are flat (effective rank near k²)', () => {
  const pattern = [1, -2, 0.5, 3, 1, 0, -1, 2, 1];
  const rankOne = covarianceSpectrum(
    filters(3, 50, (j, y, x) => (j % 2 ? -1 : 2) * pattern[y * 3 + x]!),
    3,
  );
  close(rankOne[0]!, 1, 1e-6);
  close(effectiveRank(rankOne), 1, 1e-4);
  const iid = covarianceSpectrum(unitDraws(9 * 20000, 'normal', rngFor(0, 'iid')), 3);
  assert.ok(effectiveRank(iid) > 8.95 && iid[0]! < 0.125, `i.i.d. spectrum ${iid.map((v) => v.toFixed(3))}`);
  close(
    iid.reduce((a, b) => a + b, 0),
    1,
    1e-9,
  );
});

test('LC sparsity on hand-picked weights: thresholds, Hoyer, effective filters per output', () => {
  // 4 inputs × 2 outputs, [input, output] row-major. Output 0: 1, 0.5, 0.05, 0.005; output 1: one-hot.
  const w = [1, 0, 0.5, 0, -0.05, 1, 0.005, 0];
  const s = combineSparsity(w, 4, 2);
  assert.equal(s.inputs, 4);
  close(s.below1pct, 4 / 8); // 0.005 and the three zeros
  close(s.below10pct, 5 / 8); // and 0.05
  const l1 = 2.555,
    l2 = Math.sqrt(2.252525);
  close(s.hoyer, (Math.sqrt(8) - l1 / l2) / (Math.sqrt(8) - 1));
  const s2 = 1 + 0.25 + 0.0025 + 0.000025;
  const s4 = 1 + 0.0625 + 0.00000625 + 0.000000000625;
  close(s.effectiveInputs, ((s2 * s2) / s4 + 1) / 2);
  assert.equal(combineSparsity([0, 0, 3, 0], 4, 1).hoyer, 1);
  close(combineSparsity([1, 1, 1, 1], 4, 1).hoyer, 0);
  close(combineSparsity([1, -1, 1, 1], 4, 1).effectiveInputs, 4);
});
