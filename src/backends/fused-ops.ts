/**
 * Names of fused ops that a backend may implement natively, shared by the models that call them
 * (src/models/batchnorm.ts) and the backends that register them (cpu-native). A model checks
 * `tf.getKernel(name, tf.getBackend())` and uses its composite form where the kernel is absent.
 */

/** Train-mode BatchNorm, NHWC: inputs {x, gamma, beta}, attrs {epsilon} -> [y, mean, variance]. */
export const BATCH_NORM_TRAIN = 'LcconvBatchNormTrain';
/**
 * Its gradient: inputs {x, gamma, mean, variance, dy, dMean, dVariance}, attrs {epsilon}
 * -> [dx, dGamma, dBeta].
 */
export const BATCH_NORM_TRAIN_GRAD = 'LcconvBatchNormTrainGrad';

/** Relu's gradient dy * step(x) in one pass: inputs {dy, x} (same shape) -> dx. */
export const RELU_GRAD = 'LcconvReluGrad';

/**
 * One SGD step over n parameters, as torch.optim.SGD: d = g + wd·p; m' = momentum·m + d;
 * d = nesterov ? d + momentum·m' : m'; p' = p − lr·d. Inputs p0, g0, m0, p1, g1, m1, … (float32,
 * same shape per i); attrs {n, lr, momentum, nesterov, weightDecay}; outputs [p0', m0', p1', m1', …].
 */
export const SGD_UPDATE = 'LcconvSgdUpdate';
