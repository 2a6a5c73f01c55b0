/**
 * The native CPU backend ('cpu-native'): tfjs's pure-JS cpu backend (MathBackendCPU, plus a pool of
 * output arrays: backend.ts) with the kernels that dominate a ResNet training step replaced by a
 * oneDNN addon (native/). Every cpu kernel is registered for 'cpu-native' first, so anything
 * without a native version still works.
 */
import * as tf from '@tensorflow/tfjs-core';
import { usableCores } from '../../cores.js';
import type { Probe } from '../index.js';
import { NativeCpuBackend } from './backend.js';
import { loadAddon, type NativeAddon, type PrimitiveCacheStats } from './addon.js';
import { installFusedGradients } from '../fused-ops.js';
import { batchNormKernels } from './batchnorm-kernels.js';
import { convKernels } from './conv-kernels.js';
import { eltwiseKernels } from './eltwise-kernels.js';
import { matMulKernels } from './matmul-kernels.js';
import { reduceKernels } from './reduce-kernels.js';
import { poolKernels } from './pool-kernels.js';
import { sgdKernels } from './sgd-kernels.js';

export const BACKEND_NAME = 'cpu-native';

let active: NativeAddon | undefined;

export interface LoadOptions {
  /** Where to look for the addon instead of native/build/Release (tests use a missing path). */
  addonPath?: string;
}

export async function loadCpuNative(options: LoadOptions = {}): Promise<Probe> {
  const threads = threadsFromEnv();
  if (typeof threads === 'string')
    return { ok: false, backend: BACKEND_NAME, reason: threads, fix: 'set LCCONV_THREADS to a positive integer' };
  const load = loadAddon(options.addonPath);
  if (!load.ok) return { ok: false, backend: BACKEND_NAME, reason: load.reason, fix: load.fix };
  if (!active) {
    register(load.addon);
    setNativeThreads(threads); // once: a later probe (doctor) must not undo setNativeThreads
  }
  const info = load.addon.info();
  return {
    ok: true,
    backend: BACKEND_NAME,
    device: `CPU (oneDNN ${info.onednn}, ${info.isa}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
    hardware: false,
    details: { onednn: info.onednn, isa: info.isa, threads: String(info.threads) },
  };
}

/** Threads for oneDNN primitives and large elementwise loops; takes effect on the next kernel. */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  requireActive().setThreads(n);
}

/** The bounded oneDNN primitive cache: size, limit, hits, misses, evictions. */
export function nativeCacheStats(): PrimitiveCacheStats {
  return requireActive().cacheStats();
}

export function setNativeCacheLimit(limit: number): void {
  requireActive().setCacheLimit(limit);
}

function requireActive(): NativeAddon {
  if (!active) throw new Error(`backend '${BACKEND_NAME}' is not loaded (call loadCpuNative first)`);
  return active;
}

function threadsFromEnv(): number | string {
  const raw = process.env.LCCONV_THREADS;
  // Default: every core the process may use. (The prototype's 2 threads were slower than 1 while
  // OpenMP workers spin-waited; addon.ts makes them sleep. docs/benchmarks.md, "Threads", says how
  // to measure the scaling, which the shared machine did not allow.)
  if (raw === undefined || raw === '') return usableCores();
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : `LCCONV_THREADS must be a positive integer, got '${raw}'`;
}

function register(addon: NativeAddon): void {
  // Priority below 'cpu' (1): registering must never change which backend tfjs picks by itself.
  tf.registerBackend(
    BACKEND_NAME,
    () => {
      addon.tuneMalloc();
      return new NativeCpuBackend();
    },
    0,
  );
  for (const config of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...config, backendName: BACKEND_NAME });
  const natives = [
    ...convKernels(addon),
    ...matMulKernels(addon),
    ...eltwiseKernels(addon),
    ...reduceKernels(addon),
    ...batchNormKernels(addon),
    ...sgdKernels(addon),
    ...poolKernels(addon),
  ];
  for (const config of natives) {
    if (tf.getKernel(config.kernelName, BACKEND_NAME)) tf.unregisterKernel(config.kernelName, BACKEND_NAME);
    tf.registerKernel(config);
  }
  installFusedGradients();
  active = addon;
}
