/**
 * The native addon checks its arguments at the N-API boundary (native/src/args.h): every entry
 * point, called with missing, extra, mistyped, short, long or empty arguments, throws a TypeError
 * or RangeError that names the function, and never crashes the process. The calls run in a child
 * process (addon-args-child.ts) so a crash fails this test instead of killing the runner. Also
 * checks that op codes and packed layouts agree between abi.ts and native/src/abi.h.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TS_ABI } from '../../src/backends/cpu-native/abi.js';
import { loadAddon, type NativeAddon } from '../../src/backends/cpu-native/addon.js';
import { ENTRY_POINTS } from './addon-args-child.js';

const load = loadAddon();
const skip = load.ok ? false : `cpu-native addon unavailable: ${load.reason}`;
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'addon-args-child.js');

interface Done {
  done: string;
  name: string;
  expectValid: boolean;
  error?: { type: string; message: string };
}

test('op codes and packed layouts are the same in abi.ts and native/src/abi.h', { skip }, () => {
  if (!load.ok) return;
  assert.deepEqual(load.addon.abi(), TS_ABI);
});

test('every exported function is exercised by the bad-argument test', { skip }, () => {
  if (!load.ok) return;
  const exported = Object.keys(load.addon as unknown as Record<string, unknown>).sort();
  const covered = [...new Set(ENTRY_POINTS.map((e) => e.name as keyof NativeAddon))].sort();
  assert.deepEqual(covered, exported);
});

test('bad arguments to any addon function throw a TypeError/RangeError naming it, never crash', { skip }, () => {
  const child = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 60_000 });
  const lines = child.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { start?: string } & Partial<Done>);
  const started = lines.filter((l) => l.start).at(-1)?.start;
  assert.equal(
    child.status,
    0,
    `child died (${child.signal ?? `exit ${child.status}`}) during ${started}:\n${child.stderr.slice(-2000)}`,
  );
  const done = lines.filter((l): l is Done => typeof l.done === 'string');
  assert.ok(done.length > 250, `only ${done.length} calls ran`);
  const wrong: string[] = [];
  for (const d of done) {
    if (d.expectValid) {
      if (d.error) wrong.push(`${d.done}: threw ${d.error.type}: ${d.error.message}`);
    } else if (!d.error) {
      wrong.push(`${d.done}: did not throw`);
    } else if (!['TypeError', 'RangeError'].includes(d.error.type) || !d.error.message.startsWith(`${d.name}: `)) {
      wrong.push(
        `${d.done}: threw ${d.error.type} '${d.error.message}' (want a TypeError/RangeError starting '${d.name}: ')`,
      );
    }
  }
  assert.deepEqual(wrong, []);
});
