/** Loading tfjs the way lcconv does prints nothing of tfjs's own (its Node.js banner, advice). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/provenance.js';

test('the first tensor on the cpu backend prints no "Hi, looks like you are running TensorFlow.js in Node.js" banner', () => {
  // Before any backend is selected, as a model builder or a test would create tensors.
  const runtime = join(PACKAGE_ROOT, 'dist', 'src', 'backends', 'tfjs-runtime.js');
  const script = `
    await import(${JSON.stringify(runtime)});
    const tf = await import('@tensorflow/tfjs-core');
    await tf.setBackend('cpu');
    tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync();
    process.stdout.write(tf.getBackend());
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: PACKAGE_ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'cpu');
  assert.doesNotMatch(r.stderr, /Hi, looks like/);
  assert.equal(r.stderr, '');
});
