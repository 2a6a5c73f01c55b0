/**
 * Fused ops: one op the model and optimizer call (`batchNormTrain`, `sgdUpdate`, and Relu's
 * gradient), run as one tfjs kernel. A backend with a fast version registers a kernel under the
 * op's name (cpu-native: oneDNN; webgpu: WGSL); on every other backend the op's composite form
 * (plain tf ops, below) is registered as its kernel the first time the op runs there. So callers
 * never ask which backend is active, and each op's gradient is registered once, here, for every
 * backend alike: it calls the fused gradient op, whose kernel is again native or composite.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Train-mode BatchNorm, NHWC: inputs {x, gamma, beta}, attrs {epsilon} -> [y, mean, variance]. */
export const BATCH_NORM_TRAIN = 'LcconvBatchNormTrain';
/**
 * Its gradient: inputs {x, gamma, mean, variance, dy, dMean, dVariance}, attrs {epsilon}
 * -> [dx, dGamma, dBeta].
 */
export const BATCH_NORM_TRAIN_GRAD = 'LcconvBatchNormTrainGrad';

/**
 * BatchNorm's running-statistics update, PyTorch's running = (1 − m)·running + m·batch (the
 * variance's m carrying the unbiasing n/(n − 1)): inputs {running, batch}, attrs {keep, take}
 * -> keep·running + take·batch. One kernel where the composite is three ops (mul, mul, add).
 */
export const RUNNING_UPDATE = 'LcconvRunningUpdate';

export interface RunningUpdateAttrs {
  keep: number;
  take: number;
}

/** Relu's gradient dy * step(x) in one pass: inputs {dy, x} (same shape) -> dx. */
export const RELU_GRAD = 'LcconvReluGrad';

/** Relu6's gradient (MobileNetV2), dy where 0 < x <= 6 else 0, in one pass: inputs {dy, x} -> dx. */
export const RELU6_GRAD = 'LcconvRelu6Grad';

/**
 * torch.optim.SGD's update for n parameters in one op: inputs {p0, g0, m0, p1, g1, m1, …}
 * (parameter, gradient, momentum buffer; float32, same shape per i), attrs
 * {n, lr, momentum, nesterov, weightDecay} -> [p0', m0', p1', m1', …]:
 *   d = g + wd·p;  m' = momentum·m + d;  d = nesterov ? d + momentum·m' : m';  p' = p − lr·d
 */
export const SGD_UPDATE = 'LcconvSgdUpdate';

export interface SgdUpdateAttrs {
  n: number;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

type Composite = (inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const AXES_NHW = [0, 1, 2];

const COMPOSITES: Record<string, Composite> = {
  [BATCH_NORM_TRAIN]: ({ x, gamma, beta }, { epsilon }) => {
    const { mean, variance } = tf.moments(x!, AXES_NHW);
    return [
      tf.batchNorm4d(
        x as tf.Tensor4D,
        mean as tf.Tensor1D,
        variance as tf.Tensor1D,
        beta as tf.Tensor1D,
        gamma as tf.Tensor1D,
        epsilon as number,
      ),
      mean,
      variance,
    ];
  },
  [BATCH_NORM_TRAIN_GRAD]: ({ x, gamma, mean, variance, dy, dMean, dVariance }, { epsilon }) => {
    // The closed form of the gradient through the batch statistics (biased variance).
    const count = x!.size / gamma!.size;
    const rstd = tf.rsqrt(tf.add(variance!, epsilon as number));
    const centered = tf.sub(x!, mean!);
    const xhat = tf.mul(centered, rstd);
    const dBeta = tf.sum(dy!, AXES_NHW);
    const dGamma = tf.sum(tf.mul(dy!, xhat), AXES_NHW);
    const inner = tf.sub(tf.sub(dy!, tf.div(dBeta, count)), tf.mul(xhat, tf.div(dGamma, count)));
    const dx = tf.add(
      tf.add(tf.mul(inner, tf.mul(gamma!, rstd)), tf.div(dMean!, count)),
      tf.mul(centered, tf.mul(dVariance!, 2 / count)),
    );
    return [dx, dGamma, dBeta];
  },
  // The same ops, in the same order, as the update was written before it was one op: the same bits.
  [RUNNING_UPDATE]: ({ running, batch }, { keep, take }) =>
    tf.add(tf.mul(running!, keep as number), tf.mul(batch!, take as number)),
  [RELU_GRAD]: ({ dy, x }) => tf.mul(dy!, tf.step(x!)),
  // tfjs's own Relu6 gradient, op for op.
  [RELU6_GRAD]: ({ dy, x }) => tf.mul(dy!, tf.cast(tf.mul(tf.lessEqual(x!, 6), tf.step(x!)), 'float32')),
  [SGD_UPDATE]: (inputs, attrs) => {
    const { n, lr, momentum, nesterov, weightDecay } = attrs as unknown as SgdUpdateAttrs;
    const out: tf.Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const [p, g, m] = [inputs[`p${i}`]!, inputs[`g${i}`]!, inputs[`m${i}`]!];
      const d = weightDecay > 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
      const next = tf.add(tf.mul(m, momentum), d);
      const step = nesterov ? tf.add(d, tf.mul(next, momentum)) : next;
      out.push(tf.sub(p, tf.mul(step, lr)), next);
    }
    return out;
  },
};

/** Registers the composite form as `name`'s kernel on `backend` where it has none of its own. */
function ensureKernel(name: string, backend: string): void {
  if (tf.getKernel(name, backend)) return;
  const composite = COMPOSITES[name]!;
  tf.registerKernel({
    kernelName: name,
    backendName: backend,
    // Inside a kernel the engine records nothing on the gradient tape: the op's own gradient applies.
    kernelFunc: ({ inputs, attrs }) =>
      tf.tidy(() => composite(inputs as tf.NamedTensorMap, attrs as Record<string, unknown>)) as
        | tf.TensorInfo
        | tf.TensorInfo[],
  });
}

function runFused(
  name: string,
  inputs: tf.NamedTensorMap,
  attrs: Record<string, unknown> = {},
): tf.Tensor | tf.Tensor[] {
  ensureKernel(name, tf.getBackend());
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
}

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Per-channel batch mean, shape [C]. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance, shape [C]. */
  variance: tf.Tensor1D;
}

/** Train-mode BatchNorm over NHWC activations with the batch's statistics (returned for the running update). */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainResult {
  installFusedGradients();
  const [y, mean, variance] = runFused(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** keep·running + take·batch: a running statistic's next value (not differentiated: it feeds no loss). */
export function runningUpdate(running: tf.Tensor, batch: tf.Tensor, attrs: RunningUpdateAttrs): tf.Tensor {
  return runFused(RUNNING_UPDATE, { running, batch }, { ...attrs }) as tf.Tensor;
}

/** One SGD update of every (p, g, m) triple; returns [p', m'] per triple. */
export function sgdUpdate(
  triples: [tf.Tensor, tf.Tensor, tf.Tensor][],
  attrs: Omit<SgdUpdateAttrs, 'n'>,
): [tf.Tensor, tf.Tensor][] {
  const inputs: tf.NamedTensorMap = {};
  triples.forEach(([p, g, m], i) => {
    Object.assign(inputs, { [`p${i}`]: p, [`g${i}`]: g, [`m${i}`]: m });
  });
  const out = runFused(SGD_UPDATE, inputs, { ...attrs, n: triples.length }) as tf.Tensor[];
  return triples.map((_, i) => [out[2 * i]!, out[2 * i + 1]!]);
}

let gradientsInstalled = false;

/**
 * The fused ops' gradients, and Relu's and Relu6's through RELU_GRAD and RELU6_GRAD (their
 * composites are tfjs's own ops, so every backend computes the same values; only the kernel differs).
 * tfjs has one gradient registry for all backends; this is the one place that changes it.
 */
export function installFusedGradients(): void {
  if (gradientsInstalled) return;
  gradientsInstalled = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    // dys arrive for all three outputs (tfjs fills unused ones with zeros), so the gradient is exact.
    gradFunc: (dys, saved, attrs) => {
      const [dy, dMean, dVariance] = dys as tf.Tensor[];
      const [x, gamma, mean, variance] = saved;
      const [dx, dGamma, dBeta] = runFused(
        BATCH_NORM_TRAIN_GRAD,
        { x: x!, gamma: gamma!, mean: mean!, variance: variance!, dy: dy!, dMean: dMean!, dVariance: dVariance! },
        attrs as Record<string, unknown>,
      ) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! };
    },
  });
  for (const [kernel, fused] of [
    [tf.Relu, RELU_GRAD],
    [tf.Relu6, RELU6_GRAD],
  ] as const) {
    const stock = tf.getGradient(kernel);
    if (!stock) throw new Error(`tfjs has no registered gradient for ${kernel}`);
    tf.unregisterGradient(kernel); // re-registering without this logs an override warning
    tf.registerGradient({
      ...stock,
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        if (x!.dtype !== 'float32' || Array.isArray(dy)) return stock.gradFunc(dy, saved, attrs);
        return { x: () => runFused(fused, { dy, x: x! }) as tf.Tensor };
      },
    });
  }
}
