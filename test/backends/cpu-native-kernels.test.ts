/**
 * Parity of the 'cpu-native' kernels with tfjs's pure-JS 'cpu' kernels, values and gradients, on
 * seeded random shapes. Tolerance: |native - js| <= 1e-4 + 1e-4·|js| (oneDNN's summation order
 * differs from the JS loops at the ~1e-6 level; gradients sum over more terms). Skips only when the
 * addon is not built.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadCpuNative } from '../../src/backends/cpu-native/index.js';
import { assertParity, pick, randomData, rng, type Input } from './parity-helpers.js';

const probe = await loadCpuNative();
const skip = probe.ok ? false : `cpu-native unavailable: ${probe.reason}`;

const input = (rand: () => number, shape: number[]): Input => ({ shape, data: randomData(rand, shape) });

test('conv2d: random shapes, strides 1/2, same/valid/numeric padding, dilation', { skip }, async () => {
  const rand = rng(1);
  for (let i = 0; i < 14; i++) {
    const k = pick(rand, [1, 3, 5]);
    const stride = pick(rand, [1, 2] as const);
    const dilation = stride === 1 && k > 1 ? pick(rand, [1, 2] as const) : 1;
    const pad = pick(rand, ['same', 'valid', 0, 1, 2] as const);
    const [n, h, w, c, oc] = [
      1 + Math.floor(rand() * 3),
      5 + Math.floor(rand() * 6),
      5 + Math.floor(rand() * 6),
      1 + Math.floor(rand() * 5),
      1 + Math.floor(rand() * 6),
    ];
    if (pad === 'valid' && (h < (k - 1) * dilation + 1 || w < (k - 1) * dilation + 1)) continue;
    const what = `conv2d x[${n},${h},${w},${c}] f[${k},${k},${c},${oc}] s${stride} d${dilation} pad ${pad}`;
    await assertParity(
      what,
      (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad, 'NHWC', dilation),
      // tfjs has no conv gradient for dilation > 1, so dilated cases compare values only.
      [input(rand, [n, h, w, c]), input(rand, [k, k, c, oc])],
      100 + i,
      { grads: dilation === 1 },
    );
  }
});

test('conv2d 1x1 stride 2 over even sizes (ResNet shortcut; oneDNN 2.6.3 heap corruption regression)', {
  skip,
}, async () => {
  const rand = rng(11);
  // Odd sizes too: the filter gradient gathers x[:, ::2, ::2, :], whose last row is not a full stride.
  for (const [h, w, c, oc] of [
    [10, 10, 5, 6],
    [10, 10, 3, 7],
    [10, 10, 16, 32],
    [9, 7, 12, 5],
    [5, 4, 1, 8],
  ] as const) {
    // Explicit bottom/right padding: the padded rows must not be read as input (they are zeros).
    const bottomRight: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ];
    for (const pad of ['valid', 'same', 0, bottomRight] as const) {
      await assertParity(
        `conv2d 1x1 s2 x[3,${h},${w},${c}] -> ${oc} pad ${JSON.stringify(pad)}`,
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, pad),
        [input(rand, [3, h, w, c]), input(rand, [1, 1, c, oc])],
        150,
      );
    }
  }
});

test('convs with an empty output fall back to the JS kernel (oneDNN rejects zero sizes)', { skip }, async () => {
  const rand = rng(12);
  await assertParity(
    'conv2d x[2,6,4,4] f[5,5,4,2] s2 pad 0 (output width 0)',
    (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 0),
    [input(rand, [2, 6, 4, 4]), input(rand, [5, 5, 4, 2])],
    160,
    { grads: false },
  );
});

test('depthwiseConv2d: channel multipliers 1/2, strides 1/2, padding', { skip }, async () => {
  const rand = rng(2);
  for (let i = 0; i < 10; i++) {
    const k = pick(rand, [3, 5]);
    const stride = pick(rand, [1, 2] as const);
    const pad = pick(rand, ['same', 'valid', 1] as const);
    const [n, h, w, c, m] = [
      1 + Math.floor(rand() * 2),
      6 + Math.floor(rand() * 5),
      6 + Math.floor(rand() * 5),
      1 + Math.floor(rand() * 6),
      pick(rand, [1, 2]),
    ];
    const what = `depthwise x[${n},${h},${w},${c}] f[${k},${k},${c},${m}] s${stride} pad ${pad}`;
    await assertParity(
      what,
      (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad),
      [input(rand, [n, h, w, c]), input(rand, [k, k, c, m])],
      200 + i,
    );
  }
});

test('fused conv2d with bias and relu (tf.layers path)', { skip }, async () => {
  const rand = rng(3);
  for (const [stride, pad, activation] of [
    [1, 'same', 'relu'],
    [2, 'same', 'linear'],
    [1, 'valid', 'relu'],
  ] as const) {
    await assertParity(
      `fused conv s${stride} ${pad} ${activation}`,
      (x, f, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: stride, pad, activation }),
      [input(rand, [2, 8, 8, 3]), input(rand, [3, 3, 3, 5]), input(rand, [5])],
      300 + stride,
    );
  }
});

test('matMul: transposes, batches, broadcast batch, fused bias+relu', { skip }, async () => {
  const rand = rng(4);
  // tfjs's BatchMatMul gradient does not reduce a broadcast batch, so those compare values only.
  const cases: [number[], number[], boolean, boolean][] = [
    [[4, 6], [6, 3], false, false],
    [[6, 4], [6, 3], true, false],
    [[4, 6], [3, 6], false, true],
    [[6, 4], [3, 6], true, true],
    [[2, 4, 5], [2, 5, 3], false, false],
    [[2, 4, 5], [1, 5, 3], false, false],
    [[1, 4, 5], [3, 5, 2], false, false],
    [[32, 64], [64, 10], false, false],
    [[1, 1, 4, 5], [3, 5, 2], false, false], // leading 1s: the output keeps rank 4, [1, 3, 4, 2]
  ];
  for (const [as, bs, ta, tb] of cases) {
    const broadcastBatch = as.length !== bs.length || (as.length === 3 && as[0] !== bs[0]);
    await assertParity(
      `matMul ${as} x ${bs} tA=${ta} tB=${tb}`,
      (a, b) => tf.matMul(a!, b!, ta, tb),
      [input(rand, as), input(rand, bs)],
      400,
      { grads: !broadcastBatch },
    );
  }
  await assertParity(
    'fused matMul + bias + relu',
    (a, b, bias) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' }),
    [input(rand, [8, 5]), input(rand, [5, 7]), input(rand, [7])],
    401,
  );
});

test('binary ops with broadcasting (values and reduced gradients)', { skip }, async () => {
  const rand = rng(5);
  const shapes: [number[], number[]][] = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[1], [2, 3]],
    [
      [2, 1, 4],
      [1, 3, 1],
    ],
    [[], [3, 2]],
    [[4, 5, 5, 8], [8]],
    [
      [4, 5, 5, 8],
      [4, 1, 1, 8],
    ],
    [
      [3, 1],
      [1, 5],
    ],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  for (const [as, bs] of shapes) {
    for (const [name, op] of ops) {
      const a = input(rand, as),
        b = input(rand, bs);
      // Keep divisors away from zero so the gradient check measures the kernel, not conditioning.
      if (name === 'div') b.data = b.data.map((v) => (v < 0 ? v - 0.5 : v + 0.5));
      // tfjs's Maximum, Minimum and SquaredDifference gradients do not reduce over broadcast axes:
      // values only there.
      const grads = !['maximum', 'minimum', 'squaredDifference'].includes(name) || tf.util.arraysEqual(as, bs);
      await assertParity(`${name} [${as}] [${bs}]`, (x, y) => op(x!, y!), [a, b], 500, { grads });
    }
  }
});

test('unary ops (values and gradients)', { skip }, async () => {
  const rand = rng(6);
  const positive = (i: Input): Input => ({ shape: i.shape, data: i.data.map((v) => Math.abs(v) + 0.1) });
  const ops: [string, (x: tf.Tensor) => tf.Tensor, boolean][] = [
    ['relu', tf.relu, false],
    ['neg', tf.neg, false],
    ['exp', tf.exp, false],
    ['log', tf.log, true],
    ['sqrt', tf.sqrt, true],
    ['rsqrt', tf.rsqrt, true],
    ['square', tf.square, false],
    ['abs', tf.abs, false],
    ['step', (x) => tf.step(x, 0.3), false],
    ['reciprocal', tf.reciprocal, true],
    ['sigmoid', tf.sigmoid, false],
    ['tanh', tf.tanh, false],
    ['relu6', (x) => tf.relu6(tf.mul(x, 8)), false], // both sides of 0 and of 6
    ['erf', tf.erf, false],
  ];
  for (const [name, op, needsPositive] of ops) {
    const x = input(rand, [3, 4, 5]);
    await assertParity(name, (t) => op(t!), [needsPositive ? positive(x) : x], 600);
  }
});

test('maxPool and its gradient, bit for bit: 2×2/2 (VGG, ResNet-9), 3×3/2 same (the ResNet stem, overlapping windows), 1×1/2, valid and same; equal', {
  skip,
}, async () => {
  const rand = rng(11);
  const cases: [number[], number, number, 'valid' | 'same'][] = [
    [[2, 8, 8, 3], 2, 2, 'valid'],
    [[2, 9, 7, 4], 3, 2, 'same'],
    [[1, 6, 6, 2], 3, 1, 'same'],
    [[2, 7, 7, 3], 2, 2, 'same'],
    [[1, 5, 5, 2], 1, 2, 'valid'],
  ];
  for (const [shape, size, stride, pad] of cases) {
    // Ties included: rounded values make several maxima per window, where the first must win.
    const x = input(rand, shape);
    const tied = { shape, data: x.data.map((v) => Math.round(v * 3) / 3) };
    for (const data of [x, tied])
      await assertParity(
        `maxPool ${shape} ${size}/${stride} ${pad}`,
        (t) => tf.maxPool(t as tf.Tensor4D, size, stride, pad),
        [data],
        710,
        {
          atol: 0,
          rtol: 0,
        },
      );
  }
  // Equal into tfjs's bool, broadcasting (tf.max's gradient builds its mask with it).
  const a = input(rand, [2, 3, 4]);
  const b = { shape: [1, 3, 1], data: Float32Array.from([a.data[0]!, 0.5, a.data[8]!]) };
  await assertParity('equal', (p, q) => tf.cast(tf.equal(p!, q!), 'float32'), [a, b], 711, { grads: false });
});

test('reductions: sum / mean / max over axis sets, keepDims; addN', { skip }, async () => {
  const rand = rng(7);
  const axesList: (number | number[])[] = [0, 1, 2, 3, -1, [0, 1, 2], [1, 2], [0, 3], [0, 1, 2, 3]];
  for (const axes of axesList) {
    for (const keepDims of [false, true]) {
      const x = input(rand, [3, 4, 5, 6]);
      await assertParity(`sum ${axes} keep=${keepDims}`, (t) => tf.sum(t!, axes, keepDims), [x], 700);
      await assertParity(`mean ${axes} keep=${keepDims}`, (t) => tf.mean(t!, axes, keepDims), [x], 701);
      await assertParity(`max ${axes} keep=${keepDims}`, (t) => tf.max(t!, axes, keepDims), [x], 702);
    }
  }
  await assertParity(
    'addN',
    (a, b, c) => tf.addN([a!, b!, c!]),
    [input(rand, [4, 5]), input(rand, [4, 5]), input(rand, [4, 5])],
    703,
  );
});

test('int32 tensors fall back to the JS kernels and keep their dtype', { skip }, async () => {
  await tf.setBackend('cpu-native');
  const s = tf.sum(tf.tensor([1, 2, 3], [3], 'int32'));
  const a = tf.add(tf.tensor([1, 2], [2], 'int32'), tf.tensor([3, 4], [2], 'int32'));
  if (s.dtype !== 'int32' || (await s.data())[0] !== 6 || a.dtype !== 'int32' || (await a.data())[1] !== 6)
    throw new Error('int32 fallback broken');
  tf.dispose([s, a]);
});

test('the overridden kernels are the native ones, not the inherited JS ones', { skip }, async () => {
  const { nativeCacheStats } = await import('../../src/backends/cpu-native/index.js');
  for (const name of [
    tf.Conv2D,
    tf.Conv2DBackpropFilter,
    tf.Add,
    tf.Sum,
    tf.Relu,
    tf.BatchMatMul,
    tf.MaxPool,
    tf.MaxPoolGrad,
    tf.Equal,
    tf.Relu6,
    tf.Erf,
  ]) {
    if (tf.getKernel(name, 'cpu-native')?.kernelFunc === tf.getKernel(name, 'cpu')?.kernelFunc)
      throw new Error(`${name} is not overridden`);
  }
  // The conv cases above went through oneDNN primitives.
  if (nativeCacheStats().misses === 0) throw new Error('no oneDNN primitive was ever created');
});

test("relu's gradient is the fused op everywhere: native kernel on cpu-native, composite (step × dy) on cpu", {
  skip,
}, async () => {
  const kernelsOf = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor([-1, 2, -3, 4]);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x));
    x.dispose();
    return info.kernels.map((k) => k.name);
  };
  const native = await kernelsOf('cpu-native');
  const js = await kernelsOf('cpu');
  if (!native.includes('LcconvReluGrad') || native.includes('Step')) throw new Error(`cpu-native ran ${native}`);
  if (!js.includes('LcconvReluGrad') || !js.includes('Step')) throw new Error(`cpu ran ${js}`);
});
