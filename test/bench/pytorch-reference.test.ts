/**
 * The PyTorch reference runs with the malloc settings lcconv's native backend gives itself, unless
 * the caller chose their own, so neither side of a benchmark pays page faults the other does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceEnv } from '../../src/bench/pytorch-reference.js';

test('the reference gets lcconv malloc settings (mmap 64 MiB, trim 256 MiB) by default', () => {
  const env = referenceEnv({ PATH: '/usr/bin' });
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(env.GLIBC_TUNABLES, 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456');
});

test("a caller's GLIBC_TUNABLES or LCCONV_KEEP_MALLOC=1 is left alone", () => {
  assert.equal(referenceEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' }).GLIBC_TUNABLES, 'glibc.malloc.arena_max=1');
  assert.equal(referenceEnv({ LCCONV_KEEP_MALLOC: '1' }).GLIBC_TUNABLES, undefined);
});
