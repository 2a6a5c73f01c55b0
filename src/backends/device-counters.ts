/**
 * Counts what a GPU step costs beyond arithmetic: compute dispatches (kernel launches) and GPU→CPU
 * reads, on the webgpu backend instance itself (tfjs-backend-webgpu records every program through
 * `recordAndSubmit` and downloads every buffer through `getBufferData`; `readSync` is the
 * synchronous read that cannot work in Node). Used by `lcconv bench` and by the tests that fail
 * when a synchronous read happens during training.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface DeviceCounts {
  /** Compute-shader dispatches recorded. */
  dispatches: number;
  /** Asynchronous GPU→CPU buffer downloads (`await tensor.data()` of data not yet on the CPU). */
  reads: number;
  /** Synchronous reads (`dataSync`, `arraySync`, `bufferSync`) of data still on the GPU. */
  syncReads: number;
}

interface WebGpuInternals {
  recordAndSubmit(...args: unknown[]): unknown;
  getBufferData(...args: unknown[]): Promise<unknown>;
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values: unknown } | undefined };
}

export interface DeviceCounter {
  readonly counts: DeviceCounts;
  /** Restores the backend's own methods. */
  stop(): void;
}

export interface CountOptions {
  /** Throw from a synchronous read of GPU data instead of only counting it (tests). */
  failOnSyncRead?: boolean;
}

/**
 * Starts counting on the registered webgpu backend; null where that backend is not initialised
 * (other backends have no dispatches or device reads to count).
 */
export function countDeviceWork(options: CountOptions = {}): DeviceCounter | null {
  if (!tf.engine().registry.webgpu) return null;
  const backend = tf.findBackend('webgpu') as unknown as WebGpuInternals | null;
  if (!backend || typeof backend.recordAndSubmit !== 'function') return null;
  const counts: DeviceCounts = { dispatches: 0, reads: 0, syncReads: 0 };
  const own = {
    recordAndSubmit: backend.recordAndSubmit,
    getBufferData: backend.getBufferData,
    readSync: backend.readSync,
  };
  backend.recordAndSubmit = function (...args) {
    counts.dispatches++;
    return own.recordAndSubmit.apply(this, args);
  };
  backend.getBufferData = function (...args) {
    counts.reads++;
    return own.getBufferData.apply(this, args);
  };
  backend.readSync = function (dataId) {
    // Data already downloaded (values cached on the CPU) is no device read.
    if (this.tensorMap.get(dataId)?.values == null) {
      counts.syncReads++;
      if (options.failOnSyncRead)
        throw new Error('synchronous GPU read (dataSync/arraySync/bufferSync) on the webgpu backend');
    }
    return own.readSync.call(this, dataId);
  };
  return {
    counts,
    // The wrappers are own properties over the prototype's methods: deleting them restores those.
    stop: () => {
      const b = backend as unknown as Record<string, unknown>;
      for (const name of Object.keys(own)) delete b[name];
    },
  };
}
