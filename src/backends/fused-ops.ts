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
