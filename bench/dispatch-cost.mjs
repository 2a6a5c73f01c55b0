#!/usr/bin/env node
// The host-side cost of one WebGPU dispatch as lcconv issues them (issue 48): tfjs-backend-webgpu
// builds the uniforms and bind group of each program, records it and submits in batches, and Dawn
// validates and encodes it. On a real GPU a tiny dispatch executes in a few microseconds, so this
// cost, paid on the CPU, is what bounds a step made of many small dispatches. Measured by chaining
// N additions of 1,024-element vectors (tfjs runs smaller ops whose data is on the CPU on the CPU
// instead; one dispatch each, counted): `enqueue` is the loop alone (the GPU works
// behind it), `total` includes waiting for the last result. On a software adapter (llvmpipe) the
// shaders run on the same CPU cores, so `total` is an upper bound of the host cost; `enqueue` is
// closer to it.
//   node bench/dispatch-cost.mjs [N=2000] [REPEATS=5]      (after npm run build)
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork } from '../dist/src/backends/device-counters.js';
import { releaseBackends, selectBackend } from '../dist/src/backends/index.js';

const n = Number(process.argv[2] ?? 2000);
const repeats = Number(process.argv[3] ?? 5);
const choice = await selectBackend('webgpu');
console.log(`webgpu adapter: ${choice.device}; ${n} chained additions of 1,024-element vectors, ${repeats} repeats`);

const SIZE = 1024; // above tfjs-webgpu's CPU hand-off threshold (1,000 elements)
const one = tf.ones([SIZE]);
async function chain(count) {
  const counter = countDeviceWork();
  const t0 = performance.now();
  let y = tf.zeros([SIZE]);
  for (let i = 0; i < count; i++) {
    const next = tf.add(y, one);
    y.dispose();
    y = next;
  }
  const enqueued = performance.now();
  const value = (await y.data())[0];
  const done = performance.now();
  counter?.stop();
  y.dispose();
  if (value !== count) throw new Error(`chain computed ${value}, expected ${count}`);
  return { enqueue: enqueued - t0, total: done - t0, dispatches: counter?.counts.dispatches ?? count };
}

await chain(200); // compile the shader, warm the buffer pool
const rows = [];
for (let r = 0; r < repeats; r++) rows.push(await chain(n));
const us = (ms, d) => ((1000 * ms) / d).toFixed(1);
for (const [i, row] of rows.entries())
  console.log(
    `repeat ${i + 1}: ${row.dispatches} dispatches, enqueue ${us(row.enqueue, row.dispatches)} µs/dispatch, total ${us(row.total, row.dispatches)} µs/dispatch`,
  );
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median: enqueue ${us(median(rows.map((r) => r.enqueue / r.dispatches)), 1)} µs/dispatch, total ${us(median(rows.map((r) => r.total / r.dispatches)), 1)} µs/dispatch`,
);
one.dispose();
releaseBackends();
