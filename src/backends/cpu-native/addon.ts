/**
 * Loads the compiled oneDNN addon (native/build/Release/lcconv_native.node) and types its API.
 * When it is missing, reads the reason scripts/build-native.mjs recorded, so the probe can say why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddonAbi } from './abi.js';

/**
 * The functions exported by native/src/addon.cc; buffers are written in place, nothing is returned.
 * Each checks its arguments (native/src/args.h) and throws a TypeError or RangeError naming itself
 * and the argument; op codes and packed layouts are abi.ts's.
 */
export interface NativeAddon {
  /** Op codes and packed layouts as the addon knows them (checked against abi.ts by a test). */
  abi(): AddonAbi;
  info(): { onednn: string; isa: string; threads: number; runtime: string };
  setThreads(n: number): void;
  /** Keeps activation-sized allocations on glibc's heap (see addon.cc); false if LCCONV_KEEP_MALLOC=1. */
  tuneMalloc(): boolean;
  cacheStats(): PrimitiveCacheStats;
  setCacheLimit(n: number): void;
  clearCache(): void;
  /** geometry: CONV_GEOMETRY in abi.ts. */
  convForward(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    geometry: Int32Array,
  ): void;
  convBackwardData(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dFilter: Float32Array, geometry: Int32Array): void;
  /** shape: MATMUL_SHAPE in abi.ts. */
  matMul(a: Float32Array, b: Float32Array, bias: Float32Array | null, out: Float32Array, shape: Int32Array): void;
  binary(
    a: Float32Array,
    aShape: Int32Array,
    b: Float32Array,
    bShape: Int32Array,
    out: Float32Array,
    outShape: Int32Array,
    op: number,
  ): void;
  unary(x: Float32Array, out: Float32Array, op: number, alpha: number): void;
  addN(out: Float32Array, xs: Float32Array[]): void;
  reduce(x: Float32Array, shape: Int32Array, reducedMask: Int32Array, out: Float32Array, op: number): void;
  batchNormTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    epsilon: number,
  ): void;
  batchNormTrainGrad(
    x: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dy: Float32Array,
    dMean: Float32Array,
    dVariance: Float32Array,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
    epsilon: number,
  ): void;
  /** y = (x - mean)·scale/√(variance + ε) + offset per channel (last axis); null offset = 0, null scale = 1. */
  batchNormInference(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    y: Float32Array,
    epsilon: number,
  ): void;
  /** The fused SGD step over n parameters (src/backends/fused-ops.ts SGD_UPDATE); entry i of the five lists share a length. */
  /** geometry: CONV_GEOMETRY in abi.ts (channels in = out, groups 1). */
  maxPool(x: Float32Array, out: Float32Array, geometry: Int32Array): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  sgdUpdate(
    params: Float32Array[],
    grads: Float32Array[],
    moms: Float32Array[],
    outParams: Float32Array[],
    outMoms: Float32Array[],
    lr: number,
    momentum: number,
    nesterov: boolean,
    weightDecay: number,
  ): void;
}

export interface PrimitiveCacheStats {
  size: number;
  limit: number;
  hits: number;
  misses: number;
  evictions: number;
}

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string; fix: string };

// The build runs from `prepare`, not an install script, so `npm rebuild` would not redo it.
const FIX = 'apt-get install g++ libdnnl-dev && npm run build:native';

/** Repository root: this file runs as dist/src/backends/cpu-native/addon.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const DEFAULT_ADDON_PATH = join(ROOT, 'native', 'build', 'Release', 'lcconv_native.node');

/**
 * `path` overrides where the addon is looked for (tests point it at a missing file to check the
 * fallback); LCCONV_NATIVE_ADDON does the same from the environment.
 */
export function loadAddon(path: string = process.env.LCCONV_NATIVE_ADDON ?? DEFAULT_ADDON_PATH): AddonLoad {
  if (!existsSync(path)) return { ok: false, reason: `native oneDNN addon not built: ${whyNotBuilt(path)}`, fix: FIX };
  // GNU OpenMP (Debian's libdnnl runtime) reads this once, when the addon pulls libgomp in. Its
  // default spin-waiting made 2 threads 3-10x slower than 1 whenever another process shared the
  // 2-core machine (docs/benchmarks-cpu-native.md); sleeping workers cost nothing measurable.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    addon.info(); // fails here, not mid-training, if libdnnl.so went missing after the build
    return { ok: true, addon, path };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `native oneDNN addon failed to load: ${msg.split('\n')[0]}`, fix: FIX };
  }
}

/** scripts/build-native.mjs records a skipped build in <build>/status.json, beside <build>/Release/. */
function whyNotBuilt(path: string): string {
  const statusPath = join(dirname(dirname(path)), 'status.json');
  if (existsSync(statusPath)) {
    try {
      const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { ok?: boolean; reason?: string };
      if (status.ok === false && status.reason) return status.reason;
    } catch {
      // an unreadable status file says no more than a missing one
    }
  }
  return `${path} does not exist (npm run build:native was not run or was skipped)`;
}
