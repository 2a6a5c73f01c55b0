import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  filterSecondMoments,
  normaliseCovariance,
  smoothCovariance,
  spatialUnitDraws,
  type SpatialInit,
} from '../../src/models/init.js';
import { rngFor } from '../../src/random.js';
import { buildNetwork, type ModelSpec } from '../../src/models/index.js';
import { tinyResNetSpec } from '../fixtures.js';

tf.env().set('PROD', true);

/**
 * Every entry of the sample second-moment matrix of N Gaussian filters has standard error
 * √((Σpp·Σqq + Σpq²)/N); each must lie within 5 of them of Σ (deterministic seed, so no flakiness).
 */
function assertCovarianceMatches(sample: number[][], expected: number[][], n: number): void {
  for (let p = 0; p < expected.length; p++) {
    for (let q = 0; q < expected.length; q++) {
      const se = Math.sqrt((expected[p]![p]! * expected[q]![q]! + expected[p]![q]! ** 2) / n);
      assert.ok(
        Math.abs(sample[p]![q]! - expected[p]![q]!) < 5 * se,
        `Σ[${p}][${q}]: ${sample[p]![q]} vs ${expected[p]![q]} (se ${se})`,
      );
    }
  }
}

test('smooth covariance: exp(-d²/2ℓ²) between kernel positions', () => {
  const c = smoothCovariance(3, 2);
  assert.equal(c.length, 9);
  assert.equal(c[4]![4], 1);
  assert.ok(Math.abs(c[0]![1]! - Math.exp(-1 / 8)) < 1e-12, 'horizontal neighbours, d = 1');
  assert.ok(Math.abs(c[0]![8]! - Math.exp(-8 / 8)) < 1e-12, 'opposite corners, d² = 8');
});

test('Gaussian spatial init: the sample covariance of many filters is the requested one, normalised to mean diagonal 1', () => {
  const n = 64 * 64;
  for (const [k, covariance] of [
    [3, smoothCovariance(3, 1)],
    // An arbitrary covariance with unequal variances (as estimated from a run): B·Bᵀ + I, scaled by 7.
    [
      5,
      (() => {
        const rng = rngFor(1, 'B');
        const b = Array.from({ length: 25 }, () => Array.from({ length: 25 }, () => rng() - 0.5));
        return b.map((row, i) =>
          row.map((_, j) => 7 * (b[i]!.reduce((s, v, m) => s + v * b[j]![m]!, 0) + (i === j ? 1 : 0))),
        );
      })(),
    ],
  ] as const) {
    const init: SpatialInit = { kind: 'gaussian', scheme: 'kaiming_uniform', covariance: covariance as number[][] };
    const draws = spatialUnitDraws([k, k, 64, 64], init, rngFor(0, 'filters'));
    assertCovarianceMatches(filterSecondMoments(draws, k * k), normaliseCovariance(covariance as number[][]), n);
  }
  // i.i.d.: the identity, within the same tolerance (the test can tell the two apart: neighbours of the
  // smooth kernel correlate at exp(-1/2) ≈ 0.61, 39 standard errors away from 0).
  const iid = spatialUnitDraws([3, 3, 64, 64], { kind: 'iid', scheme: 'kaiming_normal' }, rngFor(0, 'filters'));
  assertCovarianceMatches(filterSecondMoments(iid, 9), smoothCovariance(3, 1e-9), n);
});

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => tinyResNetSpec({ width: 8, ...over });
const smooth: SpatialInit = { kind: 'gaussian', scheme: 'kaiming_uniform', covariance: smoothCovariance(3, 1) };

const valuesOf = (m: Map<string, tf.Tensor>) => new Map([...m].map(([name, t]) => [name, [...t.dataSync()]]));

test('spatial init changes the k×k filters only; freezing and counts are unchanged in every mode', () => {
  for (const freeze of ['learned', 'frozen', 'shared'] as const) {
    for (const lcExpansion of [1, 2]) {
      const plain = buildNetwork(spec({ freeze, lcExpansion }));
      const structured = buildNetwork(spec({ freeze, lcExpansion, spatialInit: smooth }));
      try {
        assert.deepEqual(structured.counts, plain.counts, `${freeze} E=${lcExpansion}: counts`);
        assert.deepEqual([...structured.params.learnable.keys()], [...plain.params.learnable.keys()]);
        assert.deepEqual([...structured.params.frozen.keys()], [...plain.params.frozen.keys()]);
        const a = valuesOf(plain.params.learnable);
        const b = valuesOf(structured.params.learnable);
        for (const [name, values] of a) {
          const spatial = /conv\d?\.weight$/.test(name) && !name.includes('shortcut');
          if (spatial) assert.notDeepEqual(b.get(name), values, `${name} follows spatial_init`);
          else assert.deepEqual(b.get(name), values, `${name} keeps the default init`);
        }
      } finally {
        plain.dispose();
        structured.dispose();
      }
    }
  }
});

test('frozen and shared filters of a model follow the requested covariance, at the default variance', () => {
  for (const freeze of ['frozen', 'shared'] as const) {
    const model = buildNetwork(spec({ freeze, width: 16, spatialInit: smooth }));
    try {
      // Unit draws: the bank directly; frozen filters divided by their layer's std 1/√(3·fan_in).
      const unit: Float32Array[] = [];
      if (freeze === 'shared') unit.push(model.params.shared!.tensor.dataSync() as Float32Array);
      for (const t of model.params.frozen.values()) {
        const fanIn = t.shape[0]! * t.shape[1]! * t.shape[2]!;
        unit.push((t.dataSync() as Float32Array).map((v) => v * Math.sqrt(3 * fanIn)));
      }
      const all = new Float32Array(unit.reduce((n, u) => n + u.length, 0));
      const positions = 9;
      // Concatenate per position so filters of all layers pool into one sample.
      let offset = 0;
      const perPosition = all.length / positions;
      const merged = new Float32Array(all.length);
      for (const u of unit) {
        const pairs = u.length / positions;
        for (let p = 0; p < positions; p++)
          merged.set(u.subarray(p * pairs, (p + 1) * pairs), p * perPosition + offset);
        offset += pairs;
      }
      assertCovarianceMatches(filterSecondMoments(merged, positions), smoothCovariance(3, 1), perPosition);
    } finally {
      model.dispose();
    }
  }
});
