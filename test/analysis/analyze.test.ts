import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { analyzeLayers, defaultPictureLayers } from '../../src/analysis/analyze.js';
import { layerWeights } from '../../src/models/effective-filters.js';
import { writeRunPlots } from '../../src/analysis/plots.js';
import { buildNetwork, spatialConvsOf, type ModelSpec } from '../../src/models/index.js';
import { tempDir } from '../fixtures.js';
import { assertPaperSized } from '../results/paper-size.js';

tf.env().set('PROD', true);

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  arch: 'resnet8',
  width: 4,
  kernelSize: 3,
  lcExpansion: 2,
  lcDepthwise: false,
  lcCompute: 'auto',
  freeze: 'frozen',
  init: 'kaiming_uniform',
  spatialInit: { kind: 'iid', scheme: 'kaiming_uniform' },
  inChannels: 1,
  numClasses: 3,
  seed: 0,
  ...over,
});

test('analyze a hand-built model: known sparsity, energy, spectrum and counts; pictures render', async () => {
  const s = spec({ freeze: 'learned' });
  const convs = spatialConvsOf(s);
  const model = buildNetwork(s);
  const initial = buildNetwork(s);
  try {
    // Stem: every k×k filter a centre-only spike, combined one-hot: output o uses only expanded channel o.
    const stem = convs[0]!;
    const k = 3,
      expanded = 8,
      out = 4;
    model.params.learnable.get(`${stem.name}.weight`)!.assign(
      tf.tensor4d(
        Array.from({ length: 9 * expanded }, (_, i) => (Math.floor(i / expanded) === 4 ? 1 + (i % expanded) : 0)),
        [k, k, 1, expanded],
      ),
    );
    model.params.learnable.get(`${stem.name}.combine.weight`)!.assign(
      tf.tensor4d(
        Array.from({ length: expanded * out }, (_, i) => (Math.floor(i / out) === i % out ? 2 : 0)),
        [1, 1, expanded, out],
      ),
    );
    const trained = await layerWeights(model, convs);
    const init = await layerWeights(initial, convs);
    const analysis = analyzeLayers(trained, init, model.counts, 1234, defaultPictureLayers(convs.map((c) => c.name)));

    const stemStats = analysis.layers[0]!;
    assert.equal(stemStats.layer, 'stem.conv');
    assert.equal(stemStats.mode, 'learned');
    assert.equal(stemStats.centre_energy, 1);
    assert.equal(stemStats.border_energy, 0);
    assert.ok(Math.abs(stemStats.top_eigen_share - 1) < 1e-9 && Math.abs(stemStats.effective_rank - 1) < 1e-6);
    assert.equal(stemStats.lc_inputs, 8);
    assert.equal(stemStats.lc_effective_filters, 1, 'one-hot: each output uses one filter');
    assert.equal(stemStats.lc_below_1pct, 28 / 32);
    assert.ok(
      Math.abs(stemStats.lc_hoyer! - (Math.sqrt(32) - 8 / 4) / (Math.sqrt(32) - 1)) < 1e-9,
      '4 equal non-zeros of 32: ‖w‖₁/‖w‖₂ = 2',
    );
    // At init (i.i.d.), energy is spread: the centre holds far less than all of it.
    assert.ok(stemStats.init_centre_energy < 0.5 && stemStats.init_effective_rank > 2);
    assert.equal(analysis.layers.length, convs.length);
    assert.equal(analysis.spectra.filter((r) => r.layer === 'stem.conv').length, 9);
    assert.deepEqual(analysis.counts, {
      ...model.counts,
      checkpoint_bytes: 1234,
      stored_bytes: 4 * model.counts.stored,
    });
    // Pictured: stem + first conv of each stage, each with its effective filters (LC block).
    assert.deepEqual(
      [...new Set(analysis.filterCells.map((c) => c.panel.split(' · ')[0]))],
      ['stem.conv', 'stage1.block1.conv1', 'stage2.block1.conv1', 'stage3.block1.conv1'],
    );
    assert.ok(analysis.filterCells.every((c) => c.value >= -1 && c.value <= 1));

    const dir = tempDir('analyze');
    const written = await writeRunPlots(dir, 'hand-built', analysis);
    assert.deepEqual(
      written.map((f) => f.slice(dir.length + 1)),
      ['filters.svg', 'lc_weights.svg', 'spectrum.svg', 'energy.svg'],
    );
    for (const f of written) {
      assert.match(readFileSync(f, 'utf8'), /<svg[\s\S]*mark-(rect|line)/);
      assertPaperSized(f); // both widths, the filter picture included
    }
    // The panel label, one part per line.
    assert.match(readFileSync(join(dir, 'filters.svg'), 'utf8'), /stem\.conv<\/tspan><tspan[^>]*>learned k×k filters/);
  } finally {
    model.dispose();
    initial.dispose();
  }
});
