/**
 * A sweep's grid: the product of the `sweep:` block's value lists (keys in the order written, the
 * last varying fastest), minus the points an `exclude:` rule matches. Pure: configs in, configs out;
 * the loader validates every swept value through the schema (checkSweep) before this runs.
 */
import { ConfigError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { defaultWidth } from './names.js';

/** The seeds an experiment runs: `seeds`, else the single `seed`. */
export function seedsOf(config: Config): number[] {
  return config.seeds ?? [config.seed];
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The same config with learned k×k filters: the baseline "learned at the same E". */
export function learnedOf(config: Config): Config {
  return { ...config, freeze: 'learned' };
}

/**
 * Standard training, the baseline of the paper's claims: a plain ResNet of the same architecture,
 * width, k, data and schedule with learned k×k filters, no LC block (E = 1, not depthwise), and the
 * k×k filters initialised as by default (model.spatial_init and its parameters at their defaults).
 */
export function standardOf(config: Config): Config {
  const defaults = ConfigSchema.parse({}).model;
  const { spatial_init_from: _from, ...model } = config.model;
  return {
    ...config,
    freeze: 'learned',
    model: {
      ...model,
      lc_expansion: 1,
      lc_depthwise: false,
      spatial_init: defaults.spatial_init,
      spatial_init_length_scale: defaults.spatial_init_length_scale,
    },
  };
}

/**
 * The arms an experiment trains: its own, then (with compare_to_standard) the learned arm at the
 * same E and standard training, each only once (for a learned E = 1 config they are all the same).
 */
export function armsOf(config: Config): Config[] {
  const arms = [config];
  if (!config.compare_to_standard) return arms;
  for (const arm of [learnedOf(config), standardOf(config)]) {
    if (!arms.some((a) => sameValue(a, arm))) arms.push(arm);
  }
  return arms;
}

/** Keys a sweep may not vary: they decide where the sweep lives or are the sweep itself. */
const NOT_SWEEPABLE = ['name', 'results_dir', 'seeds', 'sweep', 'slurm'];

export interface SweepAxis {
  key: string; // config key path, e.g. model.kernel_size
  values: unknown[];
}

interface GridPoint {
  /** The swept keys' values at this point, in axis order. */
  params: Record<string, unknown>;
  /** The full config of this point: `sweep` removed, one `seed`, no `seeds`. */
  config: Config;
}

/** Keys of the `sweep:` block that configure the sweep instead of naming an axis. */
const SWEEP_SETTINGS = ['exclude', 'max_trials'];

/** The grid's axes. `seeds: [...]` without a swept `seed` is an implicit last axis, so a sweep runs every seed. */
function sweepAxes(config: Config): SweepAxis[] {
  const axes = Object.entries(config.sweep ?? {})
    .filter(([key]) => !SWEEP_SETTINGS.includes(key))
    .map(([key, values]) => ({ key, values: values as unknown[] }));
  if (!axes.some((a) => a.key === 'seed')) axes.push({ key: 'seed', values: seedsOf(config) });
  return axes;
}

/**
 * Names JavaScript gives every object: as a key they reach Object.prototype (`__proto__.x` would set
 * `x` on every object of the process), so no key path may use them.
 */
export const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Sets `value` at the dotted `path` of a plain object, creating groups as needed. */
export function setKeyPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const reserved = keys.find((k) => RESERVED_KEYS.includes(k));
  if (reserved !== undefined) throw new Error(`${reserved} is not a config key`);
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) throw new Error(`${key} is not a group of keys`);
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Applies `params` to the base config (sweep block dropped) and validates the result. */
function pointConfig(config: Config, params: Record<string, unknown>): ReturnType<typeof ConfigSchema.safeParse> {
  const raw = structuredClone(config) as Record<string, unknown>;
  delete raw.sweep;
  delete raw.seeds;
  for (const [key, value] of Object.entries(params)) setKeyPath(raw, key, value);
  // A point that changes the architecture takes that architecture's default width, unless the sweep
  // sets the width too or the base config's width is not its own architecture's default.
  if ('model.arch' in params && !('model.width' in params) && config.model.width === defaultWidth(config.model.arch))
    delete (raw.model as Record<string, unknown>).width;
  return ConfigSchema.safeParse(raw, { reportInput: true });
}

export interface SweepIssue {
  path: (string | number)[]; // into the YAML document, e.g. ['sweep', 'model.kernel_size', 2]
  message: string;
  issue?: import('zod').z.core.$ZodIssue;
}

/** The first problem with a sweep block, or null: unknown or forbidden keys, invalid values, bad exclude rules. */
export function checkSweep(config: Config): SweepIssue | null {
  const sweep = config.sweep;
  if (!sweep) return null;
  const keys = Object.keys(sweep).filter((k) => !SWEEP_SETTINGS.includes(k));
  if (keys.length === 0)
    return {
      path: ['sweep'],
      message: 'no key to sweep (map a config key path to a list of values, e.g. model.kernel_size: [3, 5])',
    };
  for (const key of keys) {
    if (NOT_SWEEPABLE.includes(key.split('.')[0]!))
      return {
        path: ['sweep', key],
        message: `cannot be swept (${NOT_SWEEPABLE.join(', ')} fix where a sweep lives; sweep seed instead of seeds)`,
      };
    const nested = keys.find((other) => other !== key && other.startsWith(`${key}.`));
    if (nested) return { path: ['sweep', key], message: `overlaps the swept key ${nested}` };
    if (key === 'seed' && config.seeds)
      return { path: ['sweep', key], message: 'both seeds and sweep.seed are set; keep one' };
  }
  // Counted before any value is checked or expanded: a few short lists can multiply into millions
  // of trials, and each value's check below builds a whole config.
  const axes = sweepAxes(config);
  const size = axes.reduce((n, a) => n * a.values.length, 1);
  if (size > sweep.max_trials) {
    return {
      path: ['sweep'],
      message: `${axes.map((a) => a.values.length).join(' × ')} = ${size.toLocaleString('en-US')} grid points, more than sweep.max_trials = ${sweep.max_trials.toLocaleString('en-US')}; raise it (lcconv sweep --max-trials N) if you mean it`,
    };
  }
  for (const key of keys) {
    const values = sweep[key] as unknown[];
    const seen = new Map<string, number>();
    for (let i = 0; i < values.length; i++) {
      let parsed: ReturnType<typeof pointConfig>;
      try {
        parsed = pointConfig(config, { [key]: values[i] });
      } catch (err) {
        return { path: ['sweep', key], message: `not a config key path (${(err as Error).message})` };
      }
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        if (issue.code === 'unrecognized_keys')
          return {
            path: ['sweep', key],
            message: `not a config key path (unknown key ${[...issue.path, issue.keys[0]].join('.')})`,
          };
        return { path: ['sweep', key, i], message: issue.message, issue };
      }
      const canonical = JSON.stringify(values[i]); // sameValue's identity, in a map: linear, not quadratic
      if (seen.has(canonical)) return { path: ['sweep', key, i], message: `repeats the value ${canonical}` };
      seen.set(canonical, i);
    }
  }
  const swept = axes.map((a) => a.key);
  for (let r = 0; r < sweep.exclude.length; r++) {
    const rule = sweep.exclude[r]!;
    if (Object.keys(rule).length === 0)
      return { path: ['sweep', 'exclude', r], message: 'empty rule (it would drop every point)' };
    for (const key of Object.keys(rule)) {
      if (!swept.includes(key))
        return { path: ['sweep', 'exclude', r, key], message: `not a swept key (swept: ${swept.join(', ')})` };
    }
  }
  if (sweep.exclude.length > 0 && gridParams(axes, sweep.exclude).next().done) {
    return {
      path: ['sweep', 'exclude'],
      message: `the rules drop all ${size.toLocaleString('en-US')} grid points, leaving no trial`,
    };
  }
  return null;
}

/** The swept values of each grid point not excluded, in order (last axis fastest), one at a time. */
function* gridParams(axes: SweepAxis[], exclude: Record<string, unknown>[]): Generator<Record<string, unknown>> {
  const at = axes.map(() => 0);
  for (;;) {
    const params = Object.fromEntries(axes.map((a, i) => [a.key, a.values[at[i]!]]));
    if (!exclude.some((rule) => Object.entries(rule).every(([k, v]) => sameValue(params[k], v)))) yield params;
    let i = axes.length - 1;
    while (i >= 0 && ++at[i]! === axes[i]!.values.length) at[i--] = 0;
    if (i < 0) return;
  }
}

/** Every grid point, in order, without the excluded ones. */
export function expandGrid(config: Config): GridPoint[] {
  return [...gridParams(sweepAxes(config), config.sweep?.exclude ?? [])].map((params) => {
    const parsed = pointConfig(config, params);
    if (!parsed.success)
      throw new ConfigError(
        { keyPath: 'sweep' },
        `grid point ${JSON.stringify(params)} is invalid at ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message} (drop it with an exclude rule)`,
      );
    return { params, config: parsed.data as Config }; // the schema's overwrite has set model.width
  });
}
