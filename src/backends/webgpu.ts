/**
 * The 'webgpu' backend in Node: Dawn (the `webgpu` package) provides `navigator.gpu`, and
 * tfjs-backend-webgpu runs its WGSL kernels on it. Dawn tries the native APIs first (Vulkan on
 * Linux); on a machine without a GPU driver it falls back to OpenGL ES over Mesa's llvmpipe, a
 * software adapter, which `auto` ranks below the native CPU paths.
 */
import * as tf from '@tensorflow/tfjs-core';
import { firstLine } from '../errors.js';
import type { Probe } from './index.js';

/** Debian/Ubuntu packages that give Dawn a (software) OpenGL ES adapter through Mesa's EGL. */
const MESA_FIX =
  'apt-get install libegl1 libegl-mesa0 libgles2 (software adapter via Mesa), or install the GPU driver with Vulkan (libvulkan1 + the vendor ICD)';

/** What turns a software adapter into a GPU one: Dawn uses Vulkan on Linux. */
const GPU_FIX =
  "for a GPU adapter install its Vulkan driver: libvulkan1 and the vendor ICD (NVIDIA: the driver's nvidia_icd.json)";

/** Adapter names of CPU rasterisers: work, but are not accelerators. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

interface Dawn {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  dawnBackend: string;
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
    const found = await requestAdapter(webgpu.create);
    if (!found) {
      return {
        ok: false,
        backend: 'webgpu',
        reason: 'Dawn found no adapter (no Vulkan driver, no OpenGL ES through EGL)',
        fix: MESA_FIX,
      };
    }
    const { gpu, adapter, dawnBackend } = found;
    // The limits tfjs-backend-webgpu asks for in its own registration (base.ts), to allow big buffers.
    const l = adapter.limits;
    const device = await adapter.requestDevice({
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
    loaded = { gpu, adapter, device, dawnBackend };
    // tfjs-backend-webgpu checks `navigator.gpu` on import and when its backend is constructed.
    // Node 20 has no `navigator`; Node ≥ 21 has one without `gpu`.
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    // Its own registration (on import) requests an adapter without `featureLevel`, which finds none
    // on OpenGL ES; ours hands it the device chosen here.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 3);
    const { registerWebGpuKernels } = await import('./webgpu-kernels.js'); // imports tfjs-backend-webgpu: after navigator.gpu
    registerWebGpuKernels(device.limits.maxStorageBuffersPerShaderStage);
  }
  const { adapter, dawnBackend } = loaded;
  const info = adapter.info;
  // Dawn's GL backend reports the renderer (e.g. llvmpipe) as `device` and the GL version as `description`.
  const name =
    [[info.vendor, info.device].filter(Boolean).join(' '), info.description.replace(/^OpenGL version /, '')]
      .filter(Boolean)
      .join(', ') ||
    info.architecture ||
    'unnamed adapter';
  const fallback =
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  const software = fallback || SOFTWARE_ADAPTER.test(`${info.device} ${info.description} ${info.architecture}`);
  return {
    ok: true,
    backend: 'webgpu',
    device: `${name} (Dawn ${dawnBackend}${software ? ', software adapter' : ''})`,
    hardware: !software,
    ...(software ? { fix: GPU_FIX } : {}),
    details: {
      dawn_backend: dawnBackend,
      adapter_vendor: info.vendor,
      adapter_device: info.device,
      adapter_description: info.description,
    },
  };
}

/** Native APIs first (Dawn's default order: Vulkan / Metal / D3D12), then OpenGL ES in compatibility mode. */
async function requestAdapter(
  create: (options: string[]) => GPU,
): Promise<{ gpu: GPU; adapter: GPUAdapter; dawnBackend: string } | null> {
  const attempts: { options: string[]; request: GPURequestAdapterOptions; dawnBackend: string }[] = [
    { options: [], request: { powerPreference: 'high-performance' }, dawnBackend: 'native' },
    {
      options: ['backend=opengles'],
      request: { featureLevel: 'compatibility' } as GPURequestAdapterOptions,
      dawnBackend: 'opengles',
    },
  ];
  for (const { options, request, dawnBackend } of attempts) {
    const gpu = create(options);
    const adapter = await gpu.requestAdapter(request).catch(() => null);
    if (adapter)
      return { gpu, adapter, dawnBackend: dawnBackend === 'native' ? nativeBackendName(adapter) : dawnBackend };
  }
  return null;
}

function nativeBackendName(adapter: GPUAdapter): string {
  const platform = process.platform;
  const guess = platform === 'darwin' ? 'metal' : platform === 'win32' ? 'd3d12' : 'vulkan';
  return (adapter.info as GPUAdapterInfo & { backendType?: string }).backendType ?? guess;
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
