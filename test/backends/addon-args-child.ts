/**
 * Child process of cpu-native-addon-args.test.ts: calls every entry point of the native addon with
 * a valid argument list and with mutations of it (missing, extra, wrong type, wrong length, empty),
 * printing one JSON line before and after each call. A crash (SIGSEGV, SIGFPE, abort) kills only
 * this process, and the last "start" line names the call that caused it.
 */
import { loadAddon, type NativeAddon } from '../../src/backends/cpu-native/addon.js';

type Arg = Float32Array | Int32Array | Float32Array[] | number | boolean | null;

/** One entry point: a valid argument list (fresh buffers each time). */
export interface EntryPoint {
  name: keyof NativeAddon;
  valid: () => Arg[];
  /** Argument positions where leaving the value out (undefined) is a valid call (an optional bias, offset, scale). */
  optional?: number[];
}

const f32 = (n: number) => new Float32Array(n).fill(0.5);
const i32 = (...xs: number[]) => Int32Array.from(xs);
// A 3x3 conv over a [2, 5, 5, 3] input to 4 channels, stride 1, padding 1, no bias, no relu.
const conv = () => i32(2, 5, 5, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0);
// A 2x2 stride-2 max pool over a [2, 4, 4, 3] input (the conv layout, channels kept).
const pool = () => i32(2, 4, 4, 3, 2, 2, 3, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0);

export const ENTRY_POINTS: EntryPoint[] = [
  { name: 'abi', valid: () => [] },
  { name: 'info', valid: () => [] },
  { name: 'cacheStats', valid: () => [] },
  { name: 'clearCache', valid: () => [] },
  { name: 'tuneMalloc', valid: () => [] },
  { name: 'setThreads', valid: () => [1] },
  { name: 'setCacheLimit', valid: () => [256] },
  { name: 'convForward', valid: () => [f32(150), f32(108), null, f32(200), conv()] },
  {
    name: 'convForward',
    valid: () => [
      f32(150),
      f32(108),
      f32(4),
      f32(200),
      i32(2, 5, 5, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    ],
  },
  { name: 'convBackwardData', valid: () => [f32(200), f32(108), f32(150), conv()] },
  { name: 'convBackwardWeights', valid: () => [f32(150), f32(200), f32(108), conv()] },
  { name: 'matMul', valid: () => [f32(12), f32(15), null, f32(20), i32(2, 1, 2, 3, 5, 0, 0, 0)], optional: [2] },
  { name: 'matMul', valid: () => [f32(12), f32(15), f32(5), f32(20), i32(2, 1, 2, 3, 5, 0, 0, 1)], optional: [2] },
  { name: 'binary', valid: () => [f32(6), i32(2, 3), f32(3), i32(3), f32(6), i32(2, 3), 0] },
  { name: 'unary', valid: () => [f32(6), f32(6), 0, 0] },
  { name: 'addN', valid: () => [f32(6), [f32(6), f32(6)]] },
  { name: 'reduce', valid: () => [f32(24), i32(2, 3, 4), i32(1, 0, 1), f32(3), 0] },
  { name: 'batchNormTrain', valid: () => [f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), 1e-5] },
  {
    name: 'batchNormTrainGrad',
    valid: () => [f32(24), f32(3), f32(3), f32(3), f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), 1e-5],
  },
  { name: 'batchNormInference', valid: () => [f32(24), f32(3), f32(3), null, null, f32(24), 1e-5] },
  {
    name: 'batchNormInference',
    valid: () => [f32(24), f32(3), f32(3), f32(3), f32(3), f32(24), 1e-5],
    optional: [3, 4],
  },
  { name: 'sgdUpdate', valid: () => [...[0, 1, 2, 3, 4].map(() => [f32(6), f32(4)]), 0.1, 0.9, false, 5e-4] },
  { name: 'maxPool', valid: () => [f32(96), f32(24), pool()] },
  { name: 'maxPoolGrad', valid: () => [f32(24), f32(96), f32(96), pool()] },
];

export interface Call {
  name: string;
  label: string;
  args: unknown[];
  /** true: the valid call, which must succeed; false: must throw a TypeError or RangeError. */
  valid: boolean;
}

/** The valid call and every mutation of it. */
export function calls(entry: EntryPoint): Call[] {
  const name = entry.name;
  const out: Call[] = [{ name, label: 'valid', args: entry.valid(), valid: true }];
  const bad = (label: string, mutate: (args: unknown[]) => unknown[], valid = false) =>
    out.push({ name, label, args: mutate(entry.valid()), valid });
  const n = entry.valid().length;
  bad('an extra argument', (a) => [...a, 0]);
  if (n === 0) return out;
  bad('no arguments', () => []);
  bad('the last argument missing', (a) => a.slice(0, -1));
  entry.valid().forEach((v, i) => {
    const at = (label: string, value: unknown, valid = false) =>
      bad(`argument ${i} ${label}`, (a) => a.map((x, j) => (j === i ? value : x)), valid);
    at('a string', 'x');
    if (v === null) {
      at('a Float32Array where none is expected or of the wrong length', f32(7));
      return;
    }
    at('undefined', undefined, entry.optional?.includes(i));
    if (v instanceof Float32Array) {
      at('as Float64Array', new Float64Array(v.length));
      at('as Int32Array', new Int32Array(v.length));
      at('one element short', v.subarray(1));
      at('one element long', new Float32Array(v.length + 1));
      if (v.length > 0) at('empty', new Float32Array(0));
    } else if (v instanceof Int32Array) {
      at('as Float32Array', Float32Array.from(v));
      at('one element short', v.subarray(1));
      at(
        'with a negative entry',
        Int32Array.from(v, (x, j) => (j === 0 ? -1 : x)),
      );
      at(
        'with a huge entry',
        Int32Array.from(v, (x, j) => (j === 0 ? 2 ** 31 - 1 : x)),
      );
    } else if (Array.isArray(v)) {
      at('empty', []);
      at('with a short element', [...v.slice(1), f32(1)]);
      at('with a Float64Array element', [new Float64Array(6)]);
    } else if (typeof v === 'number') {
      at('NaN', Number.NaN);
      at('-1.5', -1.5);
      at('2^40', 2 ** 40);
    } else if (typeof v === 'boolean') {
      at('a number', 1);
    }
  });
  return out;
}

/** Some numeric mutations are valid values for some arguments (alpha, epsilon); skip those. */
const ACCEPTS_ANY_FINITE = new Set(['unary:3', 'sgdUpdate:5', 'sgdUpdate:6', 'sgdUpdate:8']);
const ACCEPTS_NONNEGATIVE = new Set(['batchNormTrain:6', 'batchNormTrainGrad:10', 'batchNormInference:6']);

function expectedValid(c: Call): boolean {
  if (c.valid) return true;
  const m = /^argument (\d+) (-1\.5|2\^40)$/.exec(c.label);
  if (!m) return false;
  const key = `${c.name}:${m[1]}`;
  return ACCEPTS_ANY_FINITE.has(key) || (ACCEPTS_NONNEGATIVE.has(key) && m[2] === '2^40');
}

function main(): void {
  const load = loadAddon();
  if (!load.ok) {
    console.log(JSON.stringify({ skip: load.reason }));
    return;
  }
  const addon = load.addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const entry of ENTRY_POINTS) {
    for (const c of calls(entry)) {
      const id = `${c.name}(${c.label})`;
      console.log(JSON.stringify({ start: id }));
      let error: { type: string; message: string } | undefined;
      try {
        addon[c.name]!(...c.args);
      } catch (err) {
        error = { type: (err as Error).constructor.name, message: (err as Error).message };
      }
      console.log(JSON.stringify({ done: id, name: c.name, expectValid: expectedValid(c), error }));
    }
  }
  addon.setThreads!(1);
}

main();
