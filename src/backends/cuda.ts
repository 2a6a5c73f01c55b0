/**
 * Whether tfjs-node-gpu can really use a CUDA device. Its libtensorflow 2.9.1 loads the CUDA 11.2
 * runtime and cuDNN 8 at run time and, when either is missing, silently computes on the CPU; a
 * GPU driver alone (or CUDA 12 only) is not enough. So before the 'tensorflow' backend counts as
 * a GPU, the driver's device node and both libraries must be there.
 */
import { existsSync } from 'node:fs';
import { findSharedLibraries, type LoaderPaths, loaderPaths } from './shared-libraries.js';

/** Sonames libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens: CUDA 11.x runtime and cuDNN 8. */
export const CUDA_LIBRARIES = ['libcudart.so.11.0', 'libcudnn.so.8'];

export const CUDA_RECIPE =
  "tfjs-node-gpu 4.22 needs an NVIDIA driver plus the CUDA 11.2 and cuDNN 8.1 libraries on the library path (e.g. LD_LIBRARY_PATH); with only CUDA 12, use WebGPU through Vulkan (libvulkan1 and the driver's ICD)";

export interface CudaFacts {
  /** The NVIDIA driver's control device exists (/dev/nvidiactl). */
  driver: boolean;
  /** Which of CUDA_LIBRARIES the dynamic loader can find. */
  libraries: Set<string>;
}

/** Why CUDA is not usable, or null when it is. */
export function cudaMissing(facts: CudaFacts): string | null {
  if (!facts.driver) return 'no NVIDIA driver (/dev/nvidiactl missing)';
  const missing = CUDA_LIBRARIES.filter((lib) => !facts.libraries.has(lib));
  return missing.length ? `${missing.join(' and ')} not found on the library path` : null;
}

/** What this machine has: the driver's device node and which of CUDA_LIBRARIES the loader finds. */
export function cudaFacts(paths: LoaderPaths = loaderPaths()): CudaFacts {
  return { driver: existsSync('/dev/nvidiactl'), libraries: findSharedLibraries(CUDA_LIBRARIES, paths) };
}
