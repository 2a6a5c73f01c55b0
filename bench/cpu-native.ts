/**
 * Standalone timing of one CIFAR ResNet-20 training step (batch 32, 32x32x3, width 16, open_lth
 * layout: 3 stages x 3 basic blocks, 1x1 stride-2 projection shortcuts) on 'cpu' vs 'cpu-native'.
 * Not a test and not `lcconv bench`: it builds the net from tf ops directly so it measures backends.
 *
 *   node dist/bench/cpu-native.js --backend cpu-native --freeze learned --threads 1 --steps 10
 *   node dist/bench/cpu-native.js --backend cpu-native --profile    # per-kernel time of one step
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadCpuNative, setNativeThreads } from '../src/backends/cpu-native/index.js';
import { batchNormTrain } from '../src/models/batchnorm.js';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu-native' },
    freeze: { type: 'string', default: 'learned' }, // learned | frozen (conv filters constants)
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    profile: { type: 'boolean', default: false },
  },
});
const BATCH = Number(opts.batch);
const WIDTH = 16;
const BLOCKS_PER_STAGE = 3; // depth 20 = 6*3 + 2
const LR = 0.01, MOMENTUM = 0.9, EPS = 1e-5;

interface Conv { filter: tf.Tensor4D; stride: number }
interface Bn { gamma: tf.Variable<tf.Rank.R1>; beta: tf.Variable<tf.Rank.R1> }
interface Block { conv1: Conv; bn1: Bn; conv2: Conv; bn2: Bn; shortcut?: { conv: Conv; bn: Bn } }

function kaiming(shape: [number, number, number, number]): tf.Tensor4D {
  const fanIn = shape[0] * shape[1] * shape[2];
  return tf.randomUniform(shape, -Math.sqrt(1 / fanIn), Math.sqrt(1 / fanIn)) as tf.Tensor4D;
}

function conv(k: number, cin: number, cout: number, stride: number, learned: boolean): Conv {
  const f = kaiming([k, k, cin, cout]);
  return { filter: learned ? (tf.variable(f) as unknown as tf.Tensor4D) : f, stride };
}

function bn(c: number): Bn {
  return { gamma: tf.variable(tf.ones([c])) as tf.Variable<tf.Rank.R1>, beta: tf.variable(tf.zeros([c])) as tf.Variable<tf.Rank.R1> };
}

function build(learned: boolean) {
  const stem = { conv: conv(3, 3, WIDTH, 1, learned), bn: bn(WIDTH) };
  const blocks: Block[] = [];
  let cin = WIDTH;
  for (let stage = 0; stage < 3; stage++) {
    const cout = WIDTH * 2 ** stage;
    for (let b = 0; b < BLOCKS_PER_STAGE; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      blocks.push({
        conv1: conv(3, cin, cout, stride, learned), bn1: bn(cout),
        conv2: conv(3, cout, cout, 1, learned), bn2: bn(cout),
        shortcut: stride !== 1 || cin !== cout ? { conv: conv(1, cin, cout, stride, learned), bn: bn(cout) } : undefined,
      });
      cin = cout;
    }
  }
  const fc = tf.variable(tf.randomNormal([cin, 10], 0, 0.1)) as tf.Variable<tf.Rank.R2>;
  return { stem, blocks, fc };
}

const applyConv = (x: tf.Tensor4D, c: Conv) => tf.conv2d(x, c.filter, c.stride, c.filter.shape[0] === 1 ? 'valid' : 'same');
const applyBn = (x: tf.Tensor4D, b: Bn) => batchNormTrain(x, b.gamma, b.beta, EPS).y;

function forward(net: ReturnType<typeof build>, x: tf.Tensor4D): tf.Tensor2D {
  let h = tf.relu(applyBn(applyConv(x, net.stem.conv), net.stem.bn));
  for (const blk of net.blocks) {
    const out = applyBn(applyConv(tf.relu(applyBn(applyConv(h, blk.conv1), blk.bn1)), blk.conv2), blk.bn2);
    const skip = blk.shortcut ? applyBn(applyConv(h, blk.shortcut.conv), blk.shortcut.bn) : h;
    h = tf.relu(tf.add(out, skip)) as tf.Tensor4D;
  }
  return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, net.fc);
}

async function main() {
  if (opts.backend === 'cpu-native') {
    const probe = await loadCpuNative();
    if (!probe.ok) throw new Error(`cpu-native unavailable: ${probe.reason}`);
    setNativeThreads(Number(opts.threads));
  }
  await tf.setBackend(opts.backend!);
  const learned = opts.freeze === 'learned';
  const net = build(learned);
  const x = tf.randomNormal([BATCH, 32, 32, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32') as tf.Tensor1D, 10);
  const velocity = new Map<string, tf.Tensor>();

  const step = async () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, forward(net, x)) as tf.Scalar);
      for (const [name, g] of Object.entries(grads)) {
        const v = tf.engine().registeredVariables[name]!;
        const prev = velocity.get(name);
        const next = prev ? tf.add(tf.mul(prev, MOMENTUM), g) : g; // SGD with momentum, PyTorch form
        if (prev) prev.dispose();
        velocity.set(name, tf.keep(next));
        v.assign(tf.sub(v, tf.mul(next, LR)));
      }
      return value;
    });
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };

  if (opts.profile) {
    await step();
    const info = await tf.profile(() => { void step(); });
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs);
      e.calls += 1;
      byKernel.set(k.name, e);
    }
    const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
    console.log(`kernel time of one step: ${total.toFixed(1)} ms in ${info.kernels.length} kernel calls`);
    for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
      console.log(`${name.padEnd(32)} ${e.ms.toFixed(1).padStart(9)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)} % ${String(e.calls).padStart(5)} calls`);
    }
    return;
  }
  for (let i = 0; i < Number(opts.warmup); i++) await step();
  const times: number[] = [];
  let last = 0;
  for (let i = 0; i < Number(opts.steps); i++) {
    const t0 = performance.now();
    last = await step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(JSON.stringify({
    backend: opts.backend, freeze: opts.freeze, threads: opts.backend === 'cpu-native' ? Number(opts.threads) : 1, batch: BATCH,
    steps: times.length, medianStepMs: +median.toFixed(1), imagesPerSec: Number((BATCH / (median / 1000)).toPrecision(3)),
    minStepMs: +times[0]!.toFixed(1), finalLoss: +last.toFixed(4), numTensors: tf.memory().numTensors,
  }));
}

await main();
