import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUDA_LIBRARIES, cudaFacts, cudaMissing } from '../../src/backends/cuda.js';

test('tfjs-node-gpu counts as a GPU only with the driver, the CUDA 11 runtime and cuDNN 8', () => {
  const all = new Set(CUDA_LIBRARIES);
  assert.equal(cudaMissing({ driver: true, libraries: all }), null);
  assert.match(cudaMissing({ driver: false, libraries: all })!, /no NVIDIA driver/);
  // CUDA 12 only: the 11.0 runtime soname is what libtensorflow 2.9 opens.
  assert.match(
    cudaMissing({ driver: true, libraries: new Set(['libcudart.so.12', 'libcudnn.so.8']) })!,
    /^libcudart\.so\.11\.0 not found/,
  );
  assert.match(cudaMissing({ driver: true, libraries: new Set(['libcudart.so.11.0']) })!, /^libcudnn\.so\.8 not found/);
});

test('cudaFacts looks the CUDA sonames up where the dynamic loader would', () => {
  const dir = new URL('.', import.meta.url).pathname;
  const facts = cudaFacts({
    cache: Buffer.from('\0libcudnn.so.8\0/usr/lib/libcudnn.so.8\0'),
    libraryPath: dir,
    folders: [],
  });
  assert.deepEqual([...facts.libraries], ['libcudnn.so.8']);
  assert.equal(typeof facts.driver, 'boolean');
});
