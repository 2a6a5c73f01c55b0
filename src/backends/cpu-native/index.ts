/**
 * The native CPU backend ('cpu-native'): tfjs's pure-JS cpu backend with hot kernels replaced by a
 * oneDNN addon. Until the addon is built this reports why it is unavailable, so `auto` falls back.
 */
import type { Probe } from '../index.js';

export async function loadCpuNative(): Promise<Probe> {
  return {
    ok: false,
    backend: 'cpu-native',
    reason: 'native oneDNN addon is not built in this version',
    fix: 'install libdnnl-dev and g++, then npm rebuild lcconv',
  };
}
