/**
 * How many CPU cores this process may use: the fewest of the CPUs its affinity mask allows
 * (os.availableParallelism), its cgroup's CPU quota (containers, systemd slices) and Slurm's
 * SLURM_CPUS_PER_TASK. cpu-native's default thread count, and what sweep workers divide.
 * No tfjs import: the sweep parent reads it without loading a backend.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** ceil(quota / period) of cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`; null when unlimited or unreadable. */
export function cgroupCpuLimit(read: (path: string) => string | null = readOptional): number | null {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2 && v2[0] !== 'max') return quotaCores(Number(v2[0]), Number(v2[1]));
  const quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us');
  const period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us');
  return quota !== null && period !== null ? quotaCores(Number(quota), Number(period)) : null;
}

function quotaCores(quota: number, period: number): number | null {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0
    ? Math.max(1, Math.ceil(quota / period))
    : null;
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export interface CoreSources {
  affinity: number;
  cgroup: number | null;
  slurm: string | undefined;
}

/** The cores this process may use (≥ 1). */
export function usableCores(
  sources: CoreSources = {
    affinity: availableParallelism(),
    cgroup: cgroupCpuLimit(),
    slurm: process.env.SLURM_CPUS_PER_TASK,
  },
): number {
  const limits = [sources.affinity];
  if (sources.cgroup !== null) limits.push(sources.cgroup);
  const slurm = Number(sources.slurm);
  if (sources.slurm && Number.isInteger(slurm) && slurm >= 1) limits.push(slurm);
  return Math.max(1, Math.min(...limits));
}
