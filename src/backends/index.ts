/**
 * The one place that decides which tfjs backend trains the model. Every caller (run, bench, doctor)
 * asks `selectBackend`, which probes the candidates in preference order and returns the chosen one
 * together with why each better candidate was skipped, so a run can print and record it.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'cpu-native', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What probing one backend found. `ok: false` carries the reason and, where one exists, the fix. */
export type Probe =
  | { ok: true; backend: string; device: string; hardware: boolean; details?: Record<string, string> }
  | { ok: false; backend: string; reason: string; fix?: string };

export interface BackendChoice {
  /** tfjs backend name now active (`tf.getBackend()`). */
  backend: string;
  /** Human-readable device, e.g. "CPU (pure JS)" or the GPU adapter name. */
  device: string;
  /** Why candidates preferred over the chosen one were skipped, one line each. */
  skipped: string[];
  details?: Record<string, string>;
}

/** One probe per concrete backend: loads it if possible and registers it with tfjs. */
type Prober = () => Promise<Probe>;

async function probeTensorflow(): Promise<Probe> {
  // tfjs-node-gpu first (CUDA), then tfjs-node (CPU). Both register the 'tensorflow' backend with the
  // same tfjs-core instance we import, so the rest of the code keeps using `@tensorflow/tfjs`.
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      const gpu = pkg.endsWith('-gpu');
      return { ok: true, backend: 'tensorflow', device: gpu ? 'TensorFlow (CUDA build)' : 'TensorFlow (CPU)', hardware: gpu };
    } catch (err) {
      failures.push(`${pkg}: ${firstLine(err)}`);
    }
  }
  return {
    ok: false,
    backend: 'tensorflow',
    reason: `libtensorflow binding not available (${failures.join('; ')})`,
    fix: 'npm install @tensorflow/tfjs-node-gpu (needs CUDA 11 + cuDNN 8) or @tensorflow/tfjs-node, with access to storage.googleapis.com',
  };
}

async function probeCpuNative(): Promise<Probe> {
  const { loadCpuNative } = await import('./cpu-native/index.js');
  return loadCpuNative();
}

async function probeCpu(): Promise<Probe> {
  return { ok: true, backend: 'cpu', device: 'CPU (pure JavaScript kernels)', hardware: false };
}

const PROBERS: Record<Exclude<BackendName, 'auto'>, Prober> = {
  tensorflow: probeTensorflow,
  'cpu-native': probeCpuNative,
  webgpu: async () => ({ ok: false, backend: 'webgpu', reason: 'WebGPU support is not part of this build' }),
  wasm: async () => ({ ok: false, backend: 'wasm', reason: 'WASM support is not part of this build' }),
  cpu: probeCpu,
};

/**
 * `auto` preference: a real accelerator first, then the fastest CPU path, pure JS last.
 * Probes are ordered by (hardware, speed); a software-only probe result is ranked after the hardware ones.
 */
const AUTO_ORDER: Exclude<BackendName, 'auto'>[] = ['tensorflow', 'cpu-native', 'webgpu', 'wasm', 'cpu'];

export class BackendError extends InputError {}

export async function probeAll(): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const name of AUTO_ORDER) out.push(await safeProbe(name));
  return out;
}

async function safeProbe(name: Exclude<BackendName, 'auto'>): Promise<Probe> {
  try {
    return await PROBERS[name]();
  } catch (err) {
    return { ok: false, backend: name, reason: firstLine(err) };
  }
}

/** Ranks a successful probe for `auto`: hardware accelerators first, then AUTO_ORDER position. */
function rank(p: Probe & { ok: true }): number {
  return (p.hardware ? 0 : 100) + AUTO_ORDER.indexOf(p.backend as Exclude<BackendName, 'auto'>);
}

export async function selectBackend(requested: BackendName): Promise<BackendChoice> {
  if (requested !== 'auto') {
    const probe = await safeProbe(requested);
    if (!probe.ok) throw new BackendError(`backend '${requested}' is not available: ${probe.reason}${probe.fix ? ` (fix: ${probe.fix})` : ''}`);
    await activate(probe.backend);
    return { backend: probe.backend, device: probe.device, skipped: [], details: probe.details };
  }
  const probes = await probeAll();
  const usable = probes.filter((p): p is Probe & { ok: true } => p.ok).sort((a, b) => rank(a) - rank(b));
  const chosen = usable[0];
  if (!chosen) throw new BackendError('no tfjs backend could be loaded');
  // Every failed probe could have beaten the chosen one (a failed probe's hardware is unknown).
  const skipped = probes.flatMap((p) => (p.ok ? [] : [`${p.backend}: ${p.reason}`]));
  await activate(chosen.backend);
  return { backend: chosen.backend, device: chosen.device, skipped, details: chosen.details };
}

async function activate(backend: string): Promise<void> {
  // PROD silences tfjs's console advice (e.g. "install tfjs-node"): the choice and why is ours to report.
  tf.env().set('PROD', true);
  const ok = await tf.setBackend(backend);
  if (!ok) throw new BackendError(`backend '${backend}' failed to initialise`);
  await tf.ready();
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
