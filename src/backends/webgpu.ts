/**
 * The 'webgpu' backend in Node: Dawn (the `webgpu` package) provides `navigator.gpu`, and
 * tfjs-backend-webgpu runs its WGSL kernels on it. Dawn tries the native APIs first (Vulkan on
 * Linux); on a machine without a GPU driver it falls back to OpenGL ES over Mesa's llvmpipe, a
 * software adapter, which `auto` ranks below the native CPU paths.
 */
import * as tf from '@tensorflow/tfjs-core';
import { firstLine } from '../errors.js';
import type { Probe } from './index.js';
import { captureStderr } from './stderr-capture.js';
import { basename } from 'node:path';
import { dawnGpuMissing, GPU_FIX, VULKAN_LOADER, type VulkanFacts, vulkanFacts } from './vulkan.js';

/** Debian/Ubuntu packages that give Dawn a (software) OpenGL ES adapter through Mesa's EGL. */
const MESA_FIX =
  'apt-get install libegl1 libegl-mesa0 libgles2 (software adapter via Mesa), or install the GPU driver with Vulkan (libvulkan1 + the vendor ICD)';

/** Adapter names of CPU rasterisers: work, but are not accelerators. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

interface Dawn {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  dawnBackend: string;
  /** What Dawn printed while starting, summarised (`summariseDawnLog`). */
  log: string;
}

let loaded: Dawn | null = null;

/** Loads Dawn, picks an adapter, creates a device and registers tfjs's 'webgpu' backend on it. */
export async function loadWebGpu(): Promise<Probe> {
  if (!loaded) {
    // Without a display server Mesa's EGL finds no platform unless told to render off-screen; it
    // reads this when Dawn first opens EGL, so it must be set before any adapter is requested.
    process.env.EGL_PLATFORM ??= 'surfaceless';
    let webgpu: typeof import('webgpu');
    try {
      webgpu = await import('webgpu');
    } catch (err) {
      return {
        ok: false,
        backend: 'webgpu',
        reason: `the webgpu (Dawn) package does not load: ${firstLine(err)}`,
        fix: 'npm install webgpu',
      };
    }
    Object.assign(globalThis, webgpu.globals);
    // Dawn writes its start-up warnings from C++ straight to stderr (e.g. "Couldn't load Vulkan"
    // with a source location that reads like a crash); hold them and keep a summary for `doctor`.
    const { create } = webgpu;
    const { value: started, captured } = await captureStderr(() => startDawn(create));
    const { messages, rest } = splitDawnOutput(captured ?? '');
    if (rest) process.stderr.write(rest); // anything that is not one of Dawn's warnings stays visible
    const log = summariseDawnLog(started.notes, messages, started.found?.dawnBackend);
    if (!started.found) {
      const pinned = pinnedDawnBackend();
      return {
        ok: false,
        backend: 'webgpu',
        reason: pinned
          ? `Dawn found no ${pinned} adapter (${DAWN_BACKEND_ENV}=${pinned})`
          : 'Dawn found no adapter (no Vulkan driver, no OpenGL ES through EGL)',
        fix: MESA_FIX,
        log,
      };
    }
    const { gpu, adapter, dawnBackend, device } = started.found;
    loaded = { gpu, adapter, device, dawnBackend, log };
    // tfjs-backend-webgpu checks `navigator.gpu` on import and when its backend is constructed.
    // Node 20 has no `navigator`; Node ≥ 21 has one without `gpu`.
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    // Its own registration (on import) requests an adapter without `featureLevel`, which finds none
    // on OpenGL ES; ours hands it the device chosen here.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend(
      'webgpu',
      () => {
        const backend = new WebGPUBackend(device, adapter.info);
        // Without the timestamp-query feature (Dawn's GL backend, browsers' default) its first
        // profile prints "Start Chrome browser with flag ..."; kernel times are simply 0 then.
        (backend as unknown as { hasTimestampQueryWarned: boolean }).hasTimestampQueryWarned = true;
        return backend;
      },
      3,
    );
    const { registerWebGpuKernels } = await import('./webgpu-kernels.js'); // imports tfjs-backend-webgpu: after navigator.gpu
    registerWebGpuKernels(device.limits.maxStorageBuffersPerShaderStage);
  }
  const { adapter, dawnBackend, log } = loaded;
  const { name, driver, software } = describeAdapter(adapter);
  const info = adapter.info;
  return {
    ok: true,
    backend: 'webgpu',
    device: `${[name, driver].filter(Boolean).join(', ') || 'unnamed adapter'} (Dawn ${dawnBackend}${software ? ', software adapter' : ''})`,
    hardware: !software,
    ...(software ? { fix: GPU_FIX } : {}),
    log,
    details: {
      dawn_backend: dawnBackend,
      adapter_vendor: info.vendor,
      adapter_device: info.device,
      adapter_description: info.description,
    },
  };
}

/** An adapter as `doctor` names it: vendor and device, the driver (or GL version), and whether it is a CPU rasteriser. */
function describeAdapter(adapter: GPUAdapter): { name: string; driver: string; software: boolean } {
  const info = adapter.info;
  const fallback =
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  return {
    name: [info.vendor, info.device].filter(Boolean).join(' ') || info.architecture,
    // Dawn's GL backend reports the renderer (e.g. llvmpipe) as `device` and the GL version as `description`.
    driver: info.description.replace(/^OpenGL version /, ''),
    software: fallback || SOFTWARE_ADAPTER.test(`${info.device} ${info.description} ${info.architecture}`),
  };
}

/** One of Dawn's backends on this machine: the adapter it offers, or why none. */
export type DawnAdapter =
  | { dawnBackend: string; found: true; name: string; driver: string; software: boolean }
  | { dawnBackend: string; found: false; reason: string };

/**
 * The adapter each of Dawn's backends offers here (native first, then OpenGL ES), whatever
 * LCCONV_DAWN_BACKEND says: `doctor` lists them side by side with the way to pick each. Requests
 * adapters only (no device), after `loadWebGpu` has loaded the package.
 */
export async function listDawnAdapters(): Promise<DawnAdapter[]> {
  const { create } = await import('webgpu');
  const facts = vulkanFacts();
  const nativeCanLoad = nativeMayLoad(facts);
  const { value, captured } = await captureStderr(async () => {
    const found: DawnAdapter[] = [];
    for (const attempt of [NATIVE_ATTEMPT, OPENGLES_ATTEMPT]) {
      const adapter = nativeCanLoad || attempt !== NATIVE_ATTEMPT ? await tryAttempt(create, attempt) : null;
      if (adapter) found.push({ dawnBackend: adapter.dawnBackend, found: true, ...describeAdapter(adapter.adapter) });
      else
        found.push({
          dawnBackend: attempt === NATIVE_ATTEMPT ? platformNativeBackend() : attempt.dawnBackend,
          found: false,
          reason: noAdapterReason(attempt, facts),
        });
    }
    return found;
  });
  const { rest } = splitDawnOutput(captured ?? ''); // Dawn's warnings are the probe's log already
  if (rest) process.stderr.write(rest);
  return value;
}

/** Whether Dawn's native attempt can succeed at all: Metal and D3D12 always may; Vulkan needs its loader. */
const nativeMayLoad = (facts: VulkanFacts) => facts.platform === 'darwin' || facts.platform === 'win32' || facts.loader;

function noAdapterReason(attempt: Attempt, facts: VulkanFacts): string {
  if (attempt === OPENGLES_ATTEMPT) return 'no OpenGL ES through EGL';
  if (facts.platform === 'darwin' || facts.platform === 'win32') return 'Dawn found no adapter';
  // No loader or no driver: vulkan.ts says which, with the folders searched.
  if (!facts.loader || facts.icds.length === 0) return dawnGpuMissing(facts)!;
  return `Dawn accepted none of the Vulkan drivers (${facts.icds.map((p) => basename(p)).join(', ')})`;
}

/**
 * Dawn's start: an adapter and a device on it. Everything Dawn prints to stderr happens in here,
 * so this is the window `captureStderr` holds. `notes` says what was not tried, and why.
 */
async function startDawn(
  create: (options: string[]) => GPU,
): Promise<{ found: (Awaited<ReturnType<typeof requestAdapter>> & { device: GPUDevice }) | null; notes: string[] }> {
  // Without the Vulkan loader Dawn's native attempt on Linux can only fail (and say so on stderr).
  const facts = vulkanFacts();
  const native = nativeMayLoad(facts);
  const notes = native ? [] : [`no Vulkan loader (${VULKAN_LOADER})`];
  const found = await requestAdapter(create, native);
  if (!found) return { found: null, notes };
  // The limits tfjs-backend-webgpu asks for in its own registration (base.ts), to allow big buffers.
  const l = found.adapter.limits;
  const device = await found.adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      // The fused BatchNorm gradient binds 10 storage buffers; WebGPU's default allows 8.
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  return { found: { ...found, device }, notes };
}

/**
 * `LCCONV_DAWN_BACKEND=vulkan|opengles` pins Dawn to one of its backends (unset: native first, then
 * OpenGL ES), so the WebGPU tests can run on each where both exist (lavapipe beside Mesa's GLES:
 * docs/backends.md). Anything else is an error, said once.
 */
export const DAWN_BACKEND_ENV = 'LCCONV_DAWN_BACKEND';
const DAWN_BACKENDS = ['vulkan', 'opengles'] as const;

export function pinnedDawnBackend(): (typeof DAWN_BACKENDS)[number] | null {
  const value = process.env[DAWN_BACKEND_ENV];
  if (!value) return null;
  if (!(DAWN_BACKENDS as readonly string[]).includes(value))
    throw new Error(`${DAWN_BACKEND_ENV}=${value}: expected ${DAWN_BACKENDS.join(' or ')}, or unset`);
  return value as (typeof DAWN_BACKENDS)[number];
}

interface Attempt {
  options: string[];
  request: GPURequestAdapterOptions;
  /** 'native' is whatever Dawn's default picks: Vulkan on Linux, Metal, D3D12. */
  dawnBackend: string;
}
/** Dawn's own default order (Vulkan / Metal / D3D12), at the core feature level. */
const NATIVE_ATTEMPT: Attempt = {
  options: [],
  request: { powerPreference: 'high-performance' },
  dawnBackend: 'native',
};
const VULKAN_ATTEMPT: Attempt = { ...NATIVE_ATTEMPT, options: ['backend=vulkan'] };
/** OpenGL ES exists only at the compatibility feature level. */
const OPENGLES_ATTEMPT: Attempt = {
  options: ['backend=opengles'],
  request: { featureLevel: 'compatibility' } as GPURequestAdapterOptions,
  dawnBackend: 'opengles',
};

async function tryAttempt(
  create: (options: string[]) => GPU,
  { options, request, dawnBackend }: Attempt,
): Promise<{ gpu: GPU; adapter: GPUAdapter; dawnBackend: string } | null> {
  const gpu = create(options);
  const adapter = await gpu.requestAdapter(request).catch(() => null);
  return adapter
    ? { gpu, adapter, dawnBackend: dawnBackend === 'native' ? nativeBackendName(adapter) : dawnBackend }
    : null;
}

/** Native APIs first, then OpenGL ES in compatibility mode; or the one LCCONV_DAWN_BACKEND pins. */
async function requestAdapter(
  create: (options: string[]) => GPU,
  tryNative: boolean,
): Promise<{ gpu: GPU; adapter: GPUAdapter; dawnBackend: string } | null> {
  const pinned = pinnedDawnBackend();
  const attempts =
    pinned === 'vulkan'
      ? [VULKAN_ATTEMPT]
      : pinned === 'opengles'
        ? [OPENGLES_ATTEMPT]
        : [...(tryNative ? [NATIVE_ATTEMPT] : []), OPENGLES_ATTEMPT];
  for (const attempt of attempts) {
    const found = await tryAttempt(create, attempt);
    if (found) return found;
  }
  return null;
}

/** A line that starts one of Dawn's log messages; its continuation lines are indented ("    at ..."). */
const DAWN_MESSAGE = /^(Warning|Info|Debug): (.*)$/;
/**
 * What a Mesa driver prints while Dawn probes it (lower-case level, as Mesa's loader and WSI write
 * it), e.g. lavapipe's `error: XDG_RUNTIME_DIR is invalid or not set in the environment.`: a reason
 * an API was not used, as Dawn's own warnings are, not an error of the command.
 */
const DRIVER_MESSAGE = /^(error|warning|info): (.*)$/;
/** A continuation of a Dawn message: its source location, Dawn's error context (" - While …"), a blank line. */
const CONTINUATION = /^(\s+at |\s*- While |\s*$)/;

/**
 * Splits what was written to stderr during Dawn's start into Dawn's and the drivers' messages (first
 * line each, without the level) and the rest, verbatim. Dawn's warnings, infos and debug lines and
 * the drivers' lower-case ones count, with their continuation lines: anything else (Dawn's `Error:`,
 * another library's output) is returned in `rest` to be printed.
 */
export function splitDawnOutput(text: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  const rest: string[] = [];
  let inMessage = false;
  for (const line of text.split('\n')) {
    const m = DAWN_MESSAGE.exec(line) ?? DRIVER_MESSAGE.exec(line);
    if (m) {
      const message = m[2]!.trim();
      if (!messages.includes(message)) messages.push(message); // a driver repeats itself per instance
      inMessage = true;
    } else if (inMessage && CONTINUATION.test(line)) {
      // the message's source location or context, or the blank line after it
    } else {
      inMessage = false;
      rest.push(line);
    }
  }
  const restText = rest.join('\n');
  return { messages, rest: restText.trim() === '' ? '' : restText.endsWith('\n') ? restText : `${restText}\n` };
}

/**
 * One line for `doctor`: what was not tried, what Dawn warned about and which API it ended on,
 * e.g. "Dawn: no Vulkan loader (libvulkan.so.1), using OpenGL ES; limits lowered: ...".
 */
export function summariseDawnLog(notes: string[], messages: string[], dawnBackend: string | undefined): string {
  const parts = [...notes];
  const lowered: string[] = [];
  for (const message of messages) {
    const vulkan = /^Couldn't load Vulkan: ([^:]+)/.exec(message);
    const limit = /^(\w+) artificially reduced from (\d+) to (\d+)/.exec(message);
    if (vulkan) parts.push(`no Vulkan loader (${vulkan[1]})`);
    else if (limit) lowered.push(`${limit[1]} ${limit[2]}→${limit[3]}`);
    else parts.push(message);
  }
  const using =
    dawnBackend === undefined ? 'no adapter found' : `using ${dawnBackend === 'opengles' ? 'OpenGL ES' : dawnBackend}`;
  const head = [...new Set(parts)].join(', ');
  return `Dawn: ${head ? `${head}, ` : ''}${using}${lowered.length ? `; limits lowered: ${lowered.join(', ')}` : ''}`;
}

/** The API Dawn's native attempt uses on this platform. */
function platformNativeBackend(): string {
  return process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan';
}

function nativeBackendName(adapter: GPUAdapter): string {
  return (adapter.info as GPUAdapterInfo & { backendType?: string }).backendType ?? platformNativeBackend();
}

/**
 * Frees the GPU device so Node can exit: dawn.node keeps the process alive while the object from
 * `create` is referenced (https://issues.chromium.org/issues/387965810).
 */
export function releaseWebGpu(): void {
  if (!loaded) return;
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  loaded.device.destroy();
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && nav.gpu === loaded.gpu) delete nav.gpu;
  loaded = null;
}
