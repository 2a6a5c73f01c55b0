/**
 * WGSL kernels of the fused ops (src/backends/fused-ops.ts) for the 'webgpu' backend, written as
 * tfjs-backend-webgpu programs: tfjs generates each shader's bindings (`result`, one array per
 * variable name) and uniforms, compiles it once per shape and records it in its command stream.
 * A program has one output, so an op with several outputs runs one program per output:
 *   BatchNorm forward: mean, variance, y (3 dispatches; the composite takes ~12)
 *   BatchNorm gradient: dBeta, dGamma, dx (3; the composite's autodiff ~30)
 *   BatchNorm running statistics: 1 per statistic (the composite: 3)
 *   Relu gradient: 1 (2);  Relu6 gradient: 1 (5);  SGD: momentum buffer and parameter, 2 per parameter (8)
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  RELU6_GRAD,
  RELU_GRAD,
  RUNNING_UPDATE,
  type RunningUpdateAttrs,
  SGD_UPDATE,
  type SgdUpdateAttrs,
} from './fused-ops.js';

type Uniform = { type: 'float32' | 'int32'; data: number[] };

/** An elementwise program over `shape`: `body` computes `value` for flat `index`. */
function elementwise(
  key: string,
  shape: number[],
  variableNames: string[],
  uniforms: string,
  body: string,
): WebGPUProgram {
  const dispatchLayout = webgpu_util.flatDispatchLayout(shape);
  const workgroupSize: [number, number, number] = [64, 1, 1];
  return {
    outputShape: shape,
    shaderKey: key,
    dispatchLayout,
    variableNames,
    workgroupSize,
    size: true,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, shape, workgroupSize),
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
          setOutputAtIndex(index, value);
        }
      }`,
  } as WebGPUProgram;
}

const REDUCE_THREADS = 64;

/**
 * Per-channel sums over an NHWC tensor: one workgroup per channel, each thread strides over the
 * N·H·W positions, then a tree reduction in workgroup memory. `term` is the summand at flat index `i`
 * for channel `c`; the sum is multiplied by `scale`.
 */
function channelSum(
  key: string,
  channels: number,
  variableNames: string[],
  uniforms: string,
  term: string,
  scale: string,
): WebGPUProgram {
  const outputShape = [channels];
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout,
    variableNames,
    workgroupSize: [REDUCE_THREADS, 1, 1],
    dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, [1, 1, 1]),
    uniforms: `channels : i32, count : i32, ${uniforms}`,
    getUserCode: () => `
      var<workgroup> partial : array<f32, ${REDUCE_THREADS}>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        var acc = 0.0;
        for (var row = i32(localId.x); row < uniforms.count; row = row + ${REDUCE_THREADS}) {
          let i = row * uniforms.channels + c;
          acc = acc + (${term});
        }
        partial[localId.x] = acc;
        workgroupBarrier();
        for (var stride = ${REDUCE_THREADS / 2}u; stride > 0u; stride = stride >> 1u) {
          if (localId.x < stride) {
            partial[localId.x] = partial[localId.x] + partial[localId.x + stride];
          }
          workgroupBarrier();
        }
        if (localId.x == 0u) {
          setOutputAtIndex(c, partial[0] * ${scale});
        }
      }`,
  } as WebGPUProgram;
}

type Inputs = Record<string, tf.TensorInfo>;

const f32 = (v: number): Uniform => ({ type: 'float32', data: [v] });
const i32 = (v: number): Uniform => ({ type: 'int32', data: [v] });

function batchNormForward(backend: WebGPUBackend, { x, gamma, beta }: Inputs, epsilon: number): tf.TensorInfo[] {
  const c = x!.shape[3]!;
  const dims = [i32(c), i32(x!.shape[0]! * x!.shape[1]! * x!.shape[2]!)];
  const mean = backend.runWebGPUProgram(
    channelSum('lcconv_bn_mean', c, ['x'], '', 'x[i]', '(1.0 / f32(uniforms.count))'),
    [x!],
    'float32',
    dims,
  );
  const variance = backend.runWebGPUProgram(
    channelSum(
      'lcconv_bn_var',
      c,
      ['x', 'mean'],
      '',
      '(x[i] - mean[c]) * (x[i] - mean[c])',
      '(1.0 / f32(uniforms.count))',
    ),
    [x!, mean],
    'float32',
    dims,
  );
  const y = backend.runWebGPUProgram(
    elementwise(
      'lcconv_bn_norm',
      x!.shape,
      ['x', 'mean', 'variance', 'gamma', 'beta'],
      'channels : i32, epsilon : f32,',
      `
      let c = index % uniforms.channels;
      let value = (x[index] - mean[c]) * inverseSqrt(variance[c] + uniforms.epsilon) * gamma[c] + beta[c];`,
    ),
    [x!, mean, variance, gamma!, beta!],
    'float32',
    [i32(c), f32(epsilon)],
  );
  return [y, mean, variance];
}

function batchNormBackward(
  backend: WebGPUBackend,
  { x, gamma, mean, variance, dy, dMean, dVariance }: Inputs,
  epsilon: number,
): tf.TensorInfo[] {
  const c = x!.shape[3]!;
  const dims = [i32(c), i32(x!.shape[0]! * x!.shape[1]! * x!.shape[2]!)];
  const dBeta = backend.runWebGPUProgram(
    channelSum('lcconv_bn_dbeta', c, ['dy'], '', 'dy[i]', '1.0'),
    [dy!],
    'float32',
    dims,
  );
  const dGamma = backend.runWebGPUProgram(
    channelSum(
      'lcconv_bn_dgamma',
      c,
      ['x', 'mean', 'variance', 'dy'],
      'epsilon : f32,',
      'dy[i] * (x[i] - mean[c]) * inverseSqrt(variance[c] + uniforms.epsilon)',
      '1.0',
    ),
    [x!, mean!, variance!, dy!],
    'float32',
    [...dims, f32(epsilon)],
  );
  // dx = γ·rstd·(dy − ΣdY/M − x̂·Σ(dY·x̂)/M) + dMean/M + dVariance·2(x − mean)/M
  const dx = backend.runWebGPUProgram(
    elementwise(
      'lcconv_bn_dx',
      x!.shape,
      ['x', 'gamma', 'mean', 'variance', 'dy', 'dMean', 'dVariance', 'dBeta', 'dGamma'],
      'channels : i32, count : f32, epsilon : f32,',
      `
      let c = index % uniforms.channels;
      let rstd = inverseSqrt(variance[c] + uniforms.epsilon);
      let centered = x[index] - mean[c];
      let xhat = centered * rstd;
      let inner = dy[index] - dBeta[c] / uniforms.count - xhat * dGamma[c] / uniforms.count;
      let value = gamma[c] * rstd * inner + dMean[c] / uniforms.count + dVariance[c] * 2.0 * centered / uniforms.count;`,
    ),
    [x!, gamma!, mean!, variance!, dy!, dMean!, dVariance!, dBeta, dGamma],
    'float32',
    [i32(c), f32(dims[1]!.data[0]!), f32(epsilon)],
  );
  return [dx, dGamma, dBeta];
}

function runningUpdate(backend: WebGPUBackend, { running, batch }: Inputs, { keep, take }: RunningUpdateAttrs) {
  return backend.runWebGPUProgram(
    elementwise(
      'lcconv_bn_running',
      running!.shape,
      ['running', 'batch'],
      'keep : f32, take : f32,',
      'let value = running[index] * uniforms.keep + batch[index] * uniforms.take;',
    ),
    [running!, batch!],
    'float32',
    [f32(keep), f32(take)],
  );
}

function reluGrad(backend: WebGPUBackend, { dy, x }: Inputs): tf.TensorInfo {
  return backend.runWebGPUProgram(
    elementwise('lcconv_relu_grad', x!.shape, ['dy', 'x'], '', 'let value = select(0.0, dy[index], x[index] > 0.0);'),
    [dy!, x!],
    'float32',
  );
}

function relu6Grad(backend: WebGPUBackend, { dy, x }: Inputs): tf.TensorInfo {
  return backend.runWebGPUProgram(
    elementwise(
      'lcconv_relu6_grad',
      x!.shape,
      ['dy', 'x'],
      '',
      'let value = select(0.0, dy[index], x[index] > 0.0 && x[index] <= 6.0);',
    ),
    [dy!, x!],
    'float32',
  );
}

function sgdUpdate(backend: WebGPUBackend, inputs: Inputs, attrs: SgdUpdateAttrs): tf.TensorInfo[] {
  const { n, lr, momentum, nesterov, weightDecay } = attrs;
  const out: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const [p, g, m] = [inputs[`p${i}`]!, inputs[`g${i}`]!, inputs[`m${i}`]!];
    const next = backend.runWebGPUProgram(
      elementwise(
        'lcconv_sgd_momentum',
        p.shape,
        ['p', 'g', 'm'],
        'momentum : f32, weightDecay : f32,',
        'let value = uniforms.momentum * m[index] + g[index] + uniforms.weightDecay * p[index];',
      ),
      [p, g, m],
      'float32',
      [f32(momentum), f32(weightDecay)],
    );
    const param = backend.runWebGPUProgram(
      elementwise(
        'lcconv_sgd_param',
        p.shape,
        ['p', 'g', 'next'],
        'lr : f32, momentum : f32, weightDecay : f32, nesterov : f32,',
        `
        let d = g[index] + uniforms.weightDecay * p[index];
        let step = select(next[index], d + uniforms.momentum * next[index], uniforms.nesterov > 0.5);
        let value = p[index] - uniforms.lr * step;`,
      ),
      [p, g, next],
      'float32',
      [f32(lr), f32(momentum), f32(weightDecay), f32(nesterov ? 1 : 0)],
    );
    out.push(param, next);
  }
  return out;
}

/** Storage buffers the widest program binds: BatchNorm's dx reads 9 inputs and writes 1. */
const STORAGE_BUFFERS_NEEDED = 10;

/**
 * Registers the WGSL kernels for 'webgpu' (replacing earlier registrations, e.g. of a composite).
 * A device with fewer storage buffers per shader than BatchNorm's gradient binds keeps its composite.
 */
export function registerWebGpuKernels(storageBuffers: number): void {
  const kernels: tf.KernelConfig[] = [
    {
      kernelName: BATCH_NORM_TRAIN,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) =>
        batchNormForward(backend as WebGPUBackend, inputs as Inputs, Number(attrs!.epsilon)),
    },
    {
      kernelName: BATCH_NORM_TRAIN_GRAD,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) =>
        batchNormBackward(backend as WebGPUBackend, inputs as Inputs, Number(attrs!.epsilon)),
    },
    {
      kernelName: RUNNING_UPDATE,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) =>
        runningUpdate(backend as WebGPUBackend, inputs as Inputs, attrs as unknown as RunningUpdateAttrs),
    },
    {
      kernelName: RELU_GRAD,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend }) => reluGrad(backend as WebGPUBackend, inputs as Inputs),
    },
    {
      kernelName: RELU6_GRAD,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend }) => relu6Grad(backend as WebGPUBackend, inputs as Inputs),
    },
    {
      kernelName: SGD_UPDATE,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) =>
        sgdUpdate(backend as WebGPUBackend, inputs as Inputs, attrs as unknown as SgdUpdateAttrs),
    },
  ];
  for (const k of kernels) {
    if (k.kernelName === BATCH_NORM_TRAIN_GRAD && storageBuffers < STORAGE_BUFFERS_NEEDED) continue;
    if (tf.getKernel(k.kernelName, 'webgpu')) tf.unregisterKernel(k.kernelName, 'webgpu');
    tf.registerKernel(k);
  }
}
