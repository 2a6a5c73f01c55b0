/**
 * The 'cpu-native' backend object: tfjs's MathBackendCPU, whose data map native kernels read and
 * write in place, plus a BufferPool for the kernels' output arrays. The hooks below are the only
 * places tensor data enters (write, move), leaves (readSync, which read and bufferSync call) and
 * dies (disposeData) in the cpu backend, which is what lets the pool know when an array is private.
 */
import { totalmem } from 'node:os';
import type * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BufferPool } from './buffer-pool.js';

/**
 * Free arrays kept for reuse. A training step frees about what the next one allocates (its
 * activations and gradients), so this bounds the pool at a step's working set on large models and
 * never lets it take more than an eighth of the machine.
 */
const POOL_LIMIT_BYTES = Math.min(2 * 1024 ** 3, totalmem() / 8);

export class NativeCpuBackend extends MathBackendCPU {
  readonly pool: BufferPool;

  /** @param poison see BufferPool: NaN-fill freed arrays (LCCONV_POOL_POISON=1, for tests). */
  constructor(poison = process.env.LCCONV_POOL_POISON === '1') {
    super();
    this.pool = new BufferPool(POOL_LIMIT_BYTES, poison);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    this.pool.registered(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: tf.DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    this.pool.registered(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    this.pool.readOut(this.held(dataId));
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.held(dataId);
    const disposed = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.pool.released(values);
    return disposed;
  }

  /**
   * The values this backend holds for `dataId`, or undefined. Not `this.data.get`: for an id it does
   * not hold, that asks the engine to move the data here, which reads it through readSync, which
   * would ask again without end (tfjs-core's memory and registry specs make such ids). The hooks
   * only look; what the cpu backend then does with the id is its own.
   */
  private held(dataId: tf.DataId): tf.backend_util.BackendValues | undefined {
    return this.data.has(dataId) ? this.data.get(dataId)?.values : undefined;
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}
