/** The usable-core count behind cpu-native's default threads and the sweep's per-worker share. */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { cgroupCpuLimit, usableCores } from '../src/cores.js';
import { threadsPerWorker } from '../src/sweep/local.js';

const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;

test('cgroup quota: v2 cpu.max and v1 cfs files, rounded up; unlimited or absent is null', () => {
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 2);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), null);
  assert.equal(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
    4,
  );
  assert.equal(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
    null,
  );
  assert.equal(cgroupCpuLimit(files({})), null);
});

test('usable cores: the fewest of affinity, cgroup quota and SLURM_CPUS_PER_TASK; junk Slurm values ignored', () => {
  assert.equal(usableCores({ affinity: 16, cgroup: null, slurm: undefined }), 16);
  assert.equal(usableCores({ affinity: 16, cgroup: 4, slurm: undefined }), 4);
  assert.equal(usableCores({ affinity: 16, cgroup: 8, slurm: '2' }), 2);
  assert.equal(usableCores({ affinity: 2, cgroup: null, slurm: '8' }), 2);
  assert.equal(usableCores({ affinity: 8, cgroup: null, slurm: 'abc' }), 8);
  // With no arguments it reads this machine: the same as asking with this machine's own sources.
  assert.equal(
    usableCores(),
    usableCores({ affinity: availableParallelism(), cgroup: cgroupCpuLimit(), slurm: process.env.SLURM_CPUS_PER_TASK }),
  );
});

test('sweep workers divide the cores, at least one thread each', () => {
  assert.equal(threadsPerWorker(16, 4), 4);
  assert.equal(threadsPerWorker(2, 1), 2);
  assert.equal(threadsPerWorker(2, 3), 1);
  assert.equal(threadsPerWorker(7, 2), 3);
});
