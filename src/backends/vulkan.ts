/**
 * Whether Dawn could reach a GPU here, decided from files alone, without loading Dawn (which
 * prints warnings while it looks). On Linux Dawn's only GPU path is Vulkan: it needs the Vulkan
 * loader (libvulkan.so.1) and a driver's ICD manifest in the folders the loader searches; without
 * them it can offer at most Mesa's software OpenGL ES adapter. macOS (Metal) and Windows (D3D12)
 * are not checked: there Dawn is assumed to have a GPU path.
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { findSharedLibraries, type LoaderPaths, loaderPaths } from './shared-libraries.js';

export const VULKAN_LOADER = 'libvulkan.so.1';

/** What turns Dawn's software adapter into a GPU one on Linux. */
export const GPU_FIX =
  "for a GPU adapter install its Vulkan driver: libvulkan1 and the vendor ICD (NVIDIA: the driver's nvidia_icd.json)";

/** ICD manifests of CPU implementations of Vulkan: they work, but are not accelerators. */
const SOFTWARE_ICD = /lvp_icd|lavapipe|swiftshader/i;

export interface VulkanFacts {
  platform: NodeJS.Platform;
  /** The loader finds libvulkan.so.1. */
  loader: boolean;
  /** ICD manifest paths (the loader's search folders, or VK_DRIVER_FILES / VK_ICD_FILENAMES when set). */
  icds: string[];
  /** The folders searched, for the message. */
  icdFolders: string[];
}

/**
 * The Vulkan loader's ICD search folders on Linux, from the XDG variables it reads (defaults as
 * in its documentation: ~/.config, /etc/xdg, /usr/local/etc, /etc, ~/.local/share, /usr/local/share, /usr/share).
 */
export function icdFolders(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const list = (value: string | undefined, fallback: string) => (value || fallback).split(':').filter(Boolean);
  const roots = [
    ...list(env.XDG_CONFIG_HOME, join(home, '.config')),
    ...list(env.XDG_CONFIG_DIRS, '/etc/xdg'),
    '/usr/local/etc',
    '/etc',
    ...list(env.XDG_DATA_HOME, join(home, '.local', 'share')),
    ...list(env.XDG_DATA_DIRS, '/usr/local/share:/usr/share'),
  ];
  return [...new Set(roots.map((r) => join(r, 'vulkan', 'icd.d')))];
}

export function vulkanFacts(
  env: NodeJS.ProcessEnv = process.env,
  paths: LoaderPaths = loaderPaths(),
  platform: NodeJS.Platform = process.platform,
): VulkanFacts {
  const folders = icdFolders(env);
  // These variables replace the search (or add to it), naming manifests or folders of them.
  const named = [env.VK_DRIVER_FILES, env.VK_ICD_FILENAMES, env.VK_ADD_DRIVER_FILES]
    .flatMap((v) => (v ?? '').split(':'))
    .filter(Boolean);
  const icds = [...named, ...folders.flatMap(manifestsIn)];
  return { platform, loader: findSharedLibraries([VULKAN_LOADER], paths).size > 0, icds, icdFolders: folders };
}

function manifestsIn(folder: string): string[] {
  try {
    return readdirSync(folder)
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(folder, f));
  } catch {
    return []; // a missing folder is the usual case
  }
}

/** Why Dawn can offer only a software adapter here, or null when it may find a GPU. */
export function dawnGpuMissing(f: VulkanFacts): string | null {
  if (f.platform === 'darwin' || f.platform === 'win32') return null;
  if (!f.loader) return `no Vulkan loader (${VULKAN_LOADER} not found)`;
  const hardware = f.icds.filter((p) => !SOFTWARE_ICD.test(basename(p)));
  if (hardware.length > 0) return null;
  if (f.icds.length > 0)
    return `only software Vulkan drivers (${f.icds.map((p) => basename(p)).join(', ')}), no GPU driver ICD`;
  return `no Vulkan driver ICD (no *.json in ${f.icdFolders.join(', ')})`;
}
