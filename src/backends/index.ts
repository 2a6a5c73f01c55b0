/**
 * The one place that decides which tfjs backend trains the model. Every caller (run, bench, doctor)
 * asks `selectBackend`, which probes the candidates in preference order and returns the chosen one
 * together with why each better candidate was skipped, so a run can print and record it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { firstLine, InputError } from '../errors.js';
import './tfjs-runtime.js';
import { installFusedGradients } from './fused-ops.js';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'cpu-native', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * What probing one backend found. `ok: false` carries the reason and, where one exists, the fix;
 * an `ok` probe on a software device may carry the fix that would give it real hardware.
 */
export type Probe =
  | { ok: true; backend: string; device: string; hardware: boolean; details?: Record<string, string>; fix?: string }
  | { ok: false; backend: string; reason: string; fix?: string };

export interface BackendChoice {
  /** tfjs backend name now active (`tf.getBackend()`). */
  backend: string;
  /** Human-readable device, e.g. "CPU (pure JS)" or the GPU adapter name. */
  device: string;
  /** Whether the device is an accelerator (a GPU), not a CPU or a software adapter. */
  hardware: boolean;
  /** Why candidates preferred over the chosen one were skipped, one line each. */
  skipped: string[];
  details?: Record<string, string>;
}

/** One probe per concrete backend: loads it if possible and registers it with tfjs. */
export type Prober = () => Promise<Probe>;

async function probeTensorflow(): Promise<Probe> {
  // tfjs-node-gpu first (CUDA), then tfjs-node (CPU). Both register the 'tensorflow' backend with the
  // same tfjs-core instance lcconv imports, so the rest of the code sees one engine.
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (!pkg.endsWith('-gpu'))
        return { ok: true, backend: 'tensorflow', device: 'TensorFlow (CPU)', hardware: false };
      // The CUDA build falls back to the CPU without a word when CUDA 11.2 / cuDNN 8 cannot be loaded.
      const { CUDA_RECIPE, cudaFacts, cudaMissing } = await import('./cuda.js');
      const missing = cudaMissing(cudaFacts());
      if (missing)
        return {
          ok: true,
          backend: 'tensorflow',
          device: `TensorFlow (CUDA build on the CPU: ${missing})`,
          hardware: false,
          fix: CUDA_RECIPE,
        };
      return { ok: true, backend: 'tensorflow', device: 'TensorFlow (CUDA)', hardware: true };
    } catch (err) {
      // npm drops the package when its libtensorflow download fails, so "not installed" is the usual case.
      const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && firstLine(err).includes(`'${pkg}'`);
      failures.push(`${pkg}: ${missing ? 'not installed' : firstLine(err)}`);
    }
  }
  return {
    ok: false,
    backend: 'tensorflow',
    reason: `libtensorflow binding not available (${failures.join('; ')})`,
    fix: 'npm install @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1) or @tensorflow/tfjs-node, with access to storage.googleapis.com',
  };
}

async function probeCpuNative(): Promise<Probe> {
  const { loadCpuNative } = await import('./cpu-native/index.js');
  return loadCpuNative();
}

async function probeWebGpu(): Promise<Probe> {
  const { loadWebGpu } = await import('./webgpu.js');
  return loadWebGpu();
}

/** Kernels every training step needs; a backend missing one could only fail mid-run. */
const TRAINING_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

/**
 * lcconv does not install @tensorflow/tfjs-backend-wasm (14 MB): 4.22 has no conv filter gradient,
 * so it cannot train the models here. It is still probed if installed by hand.
 */
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

async function probeWasm(): Promise<Probe> {
  try {
    await import(WASM_PACKAGE);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    return {
      ok: false,
      backend: 'wasm',
      reason: `${WASM_PACKAGE} not installed: lcconv leaves it out because it has no Conv2DBackpropFilter kernel, so it cannot train a conv net`,
    };
  }
  const missing = TRAINING_KERNELS.filter((k) => !tf.getKernel(k, 'wasm'));
  if (missing.length > 0) {
    return {
      ok: false,
      backend: 'wasm',
      reason: `tfjs-backend-wasm ${tf.version_core} cannot train: no ${missing.join(', ')} kernel (the filter gradient of every conv)`,
    };
  }
  return { ok: true, backend: 'wasm', device: 'CPU (WebAssembly kernels)', hardware: false };
}

async function probeCpu(): Promise<Probe> {
  return { ok: true, backend: 'cpu', device: 'CPU (pure JavaScript kernels)', hardware: false };
}

export type Probers = Record<ConcreteBackend, Prober>;
type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** The probe table; tests pass their own to `selectBackend`/`probeAll` to fake availability. */
export const PROBERS: Probers = {
  tensorflow: probeTensorflow,
  'cpu-native': probeCpuNative,
  webgpu: probeWebGpu,
  wasm: probeWasm,
  cpu: probeCpu,
};

/**
 * `auto` preference, best first: an accelerator, then the fastest CPU path, then software GPU
 * emulation (WebGPU on llvmpipe trains ResNet-20 at a few img/s, still far above pure JS), pure JS
 * last. A backend appears twice when its probe can report a hardware or a software device.
 */
export const AUTO_ORDER: { backend: ConcreteBackend; hardware: boolean }[] = [
  { backend: 'tensorflow', hardware: true }, // libtensorflow with CUDA
  { backend: 'webgpu', hardware: true }, // Dawn on a GPU (Vulkan / Metal / D3D12)
  { backend: 'tensorflow', hardware: false }, // libtensorflow on CPU
  { backend: 'cpu-native', hardware: false }, // oneDNN kernels
  { backend: 'webgpu', hardware: false }, // Dawn on a software adapter (Mesa llvmpipe)
  { backend: 'wasm', hardware: false },
  { backend: 'cpu', hardware: false },
];

export class BackendError extends InputError {}

export async function probeAll(probers: Probers = PROBERS): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const name of PROBE_ORDER) out.push(await safeProbe(name, probers));
  return out;
}

/** Each backend once, in the order of its best `AUTO_ORDER` place. */
const PROBE_ORDER: ConcreteBackend[] = [...new Set(AUTO_ORDER.map((c) => c.backend))];

async function safeProbe(name: ConcreteBackend, probers: Probers): Promise<Probe> {
  try {
    return await probers[name]();
  } catch (err) {
    return { ok: false, backend: name, reason: firstLine(err) };
  }
}

/** Position of a successful probe in `AUTO_ORDER` (lower is better). */
export function rank(p: Probe & { ok: true }): number {
  const i = AUTO_ORDER.findIndex((c) => c.backend === p.backend && c.hardware === p.hardware);
  return i >= 0 ? i : AUTO_ORDER.length;
}

/**
 * The `auto` decision on probe results, without side effects: the best-ranked usable probe, and
 * for every place above it in AUTO_ORDER why it was not taken.
 */
export function chooseBackend(probes: Probe[]): { chosen: Probe & { ok: true }; skipped: string[] } {
  const usable = probes.filter((p): p is Probe & { ok: true } => p.ok).sort((a, b) => rank(a) - rank(b));
  const chosen = usable[0];
  if (!chosen)
    throw new BackendError(
      `no tfjs backend could be loaded: ${probes
        .map((p) => (p.ok ? '' : `${p.backend}: ${p.reason}`))
        .filter(Boolean)
        .join('; ')}`,
    );
  const skipped: string[] = [];
  const reported = new Set<string>([chosen.backend]);
  for (const place of AUTO_ORDER.slice(0, rank(chosen))) {
    const p = probes.find((q) => q.backend === place.backend);
    if (!p || reported.has(p.backend)) continue;
    reported.add(p.backend);
    // A usable probe above the chosen place loaded, but on the other kind of device (e.g. software).
    skipped.push(p.ok ? `${p.backend}: ${p.device} ranks below ${chosen.backend}` : `${p.backend}: ${p.reason}`);
  }
  return { chosen, skipped };
}

/** What `auto` sees: every probe and the choice made from them (or why there is none). `doctor` prints this. */
export async function diagnose(
  probers: Probers = PROBERS,
): Promise<{ probes: Probe[]; choice: ReturnType<typeof chooseBackend> | { error: string } }> {
  const probes = await probeAll(probers);
  try {
    return { probes, choice: chooseBackend(probes) };
  } catch (err) {
    return { probes, choice: { error: firstLine(err) } };
  }
}

export interface SelectOptions {
  /** CPU threads for cpu-native (the config's `threads`); unset keeps $LCCONV_THREADS or the usable cores. */
  threads?: number;
}

export async function selectBackend(
  requested: BackendName,
  probers: Probers = PROBERS,
  options: SelectOptions = {},
): Promise<BackendChoice> {
  let chosen: Probe & { ok: true };
  let skipped: string[] = [];
  if (requested !== 'auto') {
    const probe = await safeProbe(requested, probers);
    if (!probe.ok)
      throw new BackendError(
        `backend '${requested}' is not available: ${probe.reason}${probe.fix ? ` (fix: ${probe.fix})` : ''}`,
      );
    chosen = probe;
  } else {
    ({ chosen, skipped } = chooseBackend(await probeAll(probers)));
  }
  await activate(chosen.backend);
  if (chosen.backend === 'cpu-native' && options.threads !== undefined) chosen = await withThreads(options.threads);
  return {
    backend: chosen.backend,
    device: chosen.device,
    hardware: chosen.hardware,
    skipped,
    details: chosen.details,
  };
}

/** Sets cpu-native's thread count and re-reads its probe, whose device line names the count. */
async function withThreads(threads: number): Promise<Probe & { ok: true }> {
  const { loadCpuNative, setNativeThreads } = await import('./cpu-native/index.js');
  setNativeThreads(threads);
  const probe = await loadCpuNative();
  if (!probe.ok) throw new BackendError(`backend 'cpu-native' failed after loading: ${probe.reason}`);
  return probe;
}

/** Frees what probing acquired (the WebGPU device), so the process can exit; call once at the end. */
export async function releaseBackends(): Promise<void> {
  const { releaseWebGpu } = await import('./webgpu.js');
  releaseWebGpu();
}

async function activate(backend: string): Promise<void> {
  // PROD silences tfjs's console advice (e.g. "install tfjs-node"): the choice and why is ours to report.
  tf.env().set('PROD', true);
  const ok = await tf.setBackend(backend);
  if (!ok) throw new BackendError(`backend '${backend}' failed to initialise`);
  await tf.ready();
  installFusedGradients();
}
