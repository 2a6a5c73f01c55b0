/**
 * Op codes and packed-argument layouts of the native addon, mirroring native/src/abi.h (each list's
 * index is the code or position). The addon reports its own lists (`abi()`), and
 * test/backends/cpu-native-abi.test.ts checks that the two sides agree.
 */

export const BINARY_OPS = [
  'add',
  'sub',
  'mul',
  'div',
  'maximum',
  'minimum',
  'squaredDifference',
  'reluGrad',
  'relu6Grad',
  'equal',
] as const;
export const UNARY_OPS = [
  'relu',
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'abs',
  'step',
  'reciprocal',
  'sigmoid',
  'tanh',
  'relu6',
  'erf',
] as const;
export const REDUCE_OPS = ['sum', 'mean', 'max'] as const;

/** convForward / convBackwardData / convBackwardWeights: the `geometry` Int32Array, in this order. */
export const CONV_GEOMETRY = [
  'batch',
  'inHeight',
  'inWidth',
  'inChannels',
  'outHeight',
  'outWidth',
  'outChannels',
  'filterHeight',
  'filterWidth',
  'strideHeight',
  'strideWidth',
  'dilationHeight',
  'dilationWidth',
  'padTop',
  'padLeft',
  'padBottom',
  'padRight',
  'groups',
  'bias',
  'relu',
] as const;

/** matMul: the `shape` Int32Array, in this order. */
export const MATMUL_SHAPE = ['batchA', 'batchB', 'm', 'k', 'n', 'transposeA', 'transposeB', 'relu'] as const;

export type BinaryOp = (typeof BINARY_OPS)[number];
export type UnaryOp = (typeof UNARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** What the addon's `abi()` returns; the test compares it with the lists above. */
export interface AddonAbi {
  binaryOps: string[];
  unaryOps: string[];
  reduceOps: string[];
  convGeometry: string[];
  matMulShape: string[];
}

export const TS_ABI: AddonAbi = {
  binaryOps: [...BINARY_OPS],
  unaryOps: [...UNARY_OPS],
  reduceOps: [...REDUCE_OPS],
  convGeometry: [...CONV_GEOMETRY],
  matMulShape: [...MATMUL_SHAPE],
};

/** The code of an op: its index in its list. */
export function opCode<T extends string>(ops: readonly T[], op: T): number {
  return ops.indexOf(op);
}

/** Packs named fields into the Int32Array the addon reads, in `layout`'s order (booleans as 0/1). */
export function pack<F extends string>(layout: readonly F[], fields: Record<F, number | boolean>): Int32Array {
  return Int32Array.from(layout, (name) => Number(fields[name]));
}
