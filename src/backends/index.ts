/**
 * The one place that decides which tfjs backend trains the model. Every caller (run, bench, doctor)
 * asks `selectBackend`, which probes the candidates in preference order and returns the chosen one
 * together with why each better candidate was skipped, so a run can print and record it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BACKEND_CHOICES } from '../config/choices.js';
import { usableCores } from '../cores.js';
import { firstLine, InputError } from '../errors.js';
import './tfjs-runtime.js';
import { installFusedGradients } from './fused-ops.js';
import { dawnGpuMissing, GPU_FIX, vulkanFacts } from './vulkan.js';

/** The names a config or --backend may give: the one list, in config/choices.ts (the schema's enum). */
export type BackendName = (typeof BACKEND_CHOICES)[number];

/**
 * What probing one backend found. `ok: false` carries the reason and, where one exists, the fix;
 * an `ok` probe on a software device may carry the fix that would give it real hardware.
 */
export type Probe =
  | {
      ok: true;
      backend: string;
      device: string;
      hardware: boolean;
      details?: Record<string, string>;
      fix?: string;
      /** What the backend's native library printed while loading (Dawn's warnings), in one line; doctor shows it. */
      log?: string;
    }
  | { ok: false; backend: string; reason: string; fix?: string; log?: string };

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
  /** What the choice changed from what was asked, one line each (threads clamped to the usable cores). */
  notes?: string[];
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

export interface ProbeOptions {
  /** Load every backend, even one that cannot win `auto` (doctor shows them all). */
  all?: boolean;
  /** Why Dawn could reach no GPU here, or null; tests fake the machine. Default: vulkan.ts's file checks. */
  dawnGpuMissing?: () => string | null;
}

/**
 * Probes in `PROBE_ORDER` and returns the probes in that order, except that, unless `all`, WebGPU is
 * probed last and only if it can win (`webGpuCannotWin`): loading Dawn costs time and prints warnings
 * to the terminal from native code, which is pointless when its best is a software adapter below a
 * CPU backend that already loaded.
 */
export async function probeAll(probers: Probers = PROBERS, options: ProbeOptions = {}): Promise<Probe[]> {
  const found = new Map<ConcreteBackend, Probe>();
  for (const name of PROBE_ORDER) if (options.all || name !== 'webgpu') found.set(name, await safeProbe(name, probers));
  if (!options.all) {
    const why = webGpuCannotWin((options.dawnGpuMissing ?? defaultDawnGpuMissing)(), [...found.values()]);
    found.set(
      'webgpu',
      why
        ? { ok: false, backend: 'webgpu', reason: `not loaded: ${why}`, fix: GPU_FIX }
        : await safeProbe('webgpu', probers),
    );
  }
  return PROBE_ORDER.map((name) => found.get(name)!);
}

function defaultDawnGpuMissing(): string | null {
  return dawnGpuMissing(vulkanFacts());
}

/**
 * The one place that decides whether `auto` loads Dawn: not when Dawn can reach no GPU here
 * (`gpuMissing`, from file checks) and a backend that ranks above a software adapter already
 * loaded, since then WebGPU cannot win. Returns why it is left out, or null to load it.
 */
export function webGpuCannotWin(gpuMissing: string | null, others: Probe[]): string | null {
  if (gpuMissing === null) return null;
  const softwareWebGpu = AUTO_ORDER.findIndex((c) => c.backend === 'webgpu' && !c.hardware);
  const better = others.find((p): p is Probe & { ok: true } => p.ok && rank(p) < softwareWebGpu);
  return better
    ? `${gpuMissing}, so Dawn could offer only a software adapter, which ranks below ${better.backend}`
    : null;
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

export interface Diagnosis {
  probes: Probe[];
  choice: ReturnType<typeof chooseBackend> | { error: string };
  /** Why `auto` in a run does not even load Dawn here (`webGpuCannotWin`), or null when it does. */
  webGpuLeftOut: string | null;
}

/**
 * What `auto` sees: every probe, Dawn included, and the choice made from them (or why there is
 * none). `doctor` prints this; the choice equals a run's, which may not load Dawn to make it.
 */
export async function diagnose(
  probers: Probers = PROBERS,
  dawnGpuMissingHere: () => string | null = defaultDawnGpuMissing,
): Promise<Diagnosis> {
  const probes = await probeAll(probers, { all: true });
  const webGpuLeftOut = webGpuCannotWin(
    dawnGpuMissingHere(),
    probes.filter((p) => p.backend !== 'webgpu'),
  );
  try {
    return { probes, choice: chooseBackend(probes), webGpuLeftOut };
  } catch (err) {
    return { probes, choice: { error: firstLine(err) }, webGpuLeftOut };
  }
}

export interface SelectOptions {
  /** CPU threads for cpu-native (the config's `threads`); unset keeps $LCCONV_THREADS or the usable cores. */
  threads?: number;
  /** As in `ProbeOptions`: tests fake whether Dawn could reach a GPU. */
  dawnGpuMissing?: () => string | null;
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
    ({ chosen, skipped } = chooseBackend(await probeAll(probers, { dawnGpuMissing: options.dawnGpuMissing })));
  }
  await activate(chosen.backend);
  const notes: string[] = [];
  if (chosen.backend === 'cpu-native' && options.threads !== undefined) {
    const usable = usableCores();
    if (options.threads > usable)
      notes.push(
        `threads: ${options.threads} asked for, but this process may use ${usable} CPU cores: using ${usable}`,
      );
    chosen = await withThreads(Math.min(options.threads, usable));
  }
  return {
    backend: chosen.backend,
    device: chosen.device,
    hardware: chosen.hardware,
    skipped,
    details: chosen.details,
    notes,
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
  const ok = await tf.setBackend(backend);
  if (!ok) throw new BackendError(`backend '${backend}' failed to initialise`);
  await tf.ready();
  installFusedGradients();
}
