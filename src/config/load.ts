/**
 * Reads a YAML experiment, applies `--set key.path=value` overrides and validates against the one
 * schema. Every failure becomes a ConfigError naming the file, the line (when YAML knows it) and the
 * key path, e.g. `configs/a.yaml:12 model.kernel_size: must be odd, got 4`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { checkSweep, RESERVED_KEYS } from './grid.js';
import { ConfigSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** Where it came from, for messages and provenance. */
  file?: string;
}

/**
 * A command-line override: `key.path=value` (`--set`), or a value list built from another flag
 * (`--grid key=v1,v2` → `sweep.key=[v1, v2]`) with `flag` naming that flag's argument in errors.
 */
export type Override = string | { spec: string; flag: string };

/**
 * Alias uses a config may expand to (the yaml package's guard against "billion laughs": a few
 * nested aliases that expand to gigabytes). Real configs use a handful.
 */
const MAX_ALIAS_COUNT = 100;

/** The document as plain data, with alias expansion bounded. */
function toPlain(doc: Document, where: { file?: string; keyPath?: string }): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!/alias/i.test((err as Error).message)) throw err;
    throw new ConfigError(
      where,
      `YAML aliases expand beyond ${MAX_ALIAS_COUNT} copies (${(err as Error).message}); write the values out or use fewer aliases`,
    );
  }
}

/** Parses `key.path=value`; the value is read as YAML so `2`, `true`, `[3,5]` get their types. */
export function parseOverride(spec: string, flag = `--set ${spec}`): { path: string[]; value: unknown } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ConfigError({ keyPath: flag }, 'expected key.path=value');
  const path = spec.slice(0, eq).trim().split('.');
  if (path.some((p) => p === '')) throw new ConfigError({ keyPath: flag }, 'empty key in path');
  // The override walks plain objects: a reserved name would reach Object.prototype.
  const reserved = path.find((p) => RESERVED_KEYS.includes(p));
  if (reserved) throw new ConfigError({ keyPath: flag }, `${reserved} is not a config key`);
  const doc = parseDocument(spec.slice(eq + 1));
  if (doc.errors.length > 0)
    throw new ConfigError({ keyPath: flag }, `invalid value: ${doc.errors[0]!.message.split('\n')[0]}`);
  return { path, value: toPlain(doc, { keyPath: flag }) };
}

/**
 * Hydra-style multirun: `--grid model.kernel_size=3,5,7` sweeps that key over the values (commas
 * inside brackets belong to one value: `--grid x=[1,2],[3,4]`); it becomes `sweep.<key>=[3, 5, 7]`.
 */
export function gridOverride(spec: string): Override {
  const flag = `--grid ${spec}`;
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new ConfigError({ keyPath: flag }, 'expected key.path=value1,value2,…');
  const values: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of spec.slice(eq + 1)) {
    if (ch === ',' && depth === 0) {
      values.push(current);
      current = '';
      continue;
    }
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth--;
    current += ch;
  }
  values.push(current);
  if (values.some((v) => v.trim() === '')) throw new ConfigError({ keyPath: flag }, 'empty value in the list');
  return { spec: `sweep.${spec.slice(0, eq).trim()}=[${values.join(', ')}]`, flag };
}

/**
 * Where an override lands in the raw config. Under `sweep`, the rest of the path is one swept key
 * (`sweep.model.kernel_size` → sweep['model.kernel_size']), as in the YAML's sweep block.
 */
function overrideKey(path: string[]): string[] {
  return path[0] === 'sweep' && path.length > 2 && path[1] !== 'exclude' ? ['sweep', path.slice(1).join('.')] : path;
}

export function loadConfigFile(file: string, overrides: Override[] = []): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError({ file }, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  return loadConfigText(text, file, overrides);
}

export function loadConfigText(text: string, file: string | undefined, overrides: Override[] = []): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new ConfigError({ file, line }, `invalid YAML: ${yamlError.message.split('\n')[0]}`);
  }
  // An empty file (or one of comments only, or a document that is only `---`, `null` or `~`) is a
  // mistake, not a request for every default.
  const plain = toPlain(doc, { file });
  if (file !== undefined && (plain === null || plain === undefined))
    throw new ConfigError(
      { file },
      `${doc.contents === null ? 'empty file' : 'the document is null'}: expected config keys (see configs/smoke.yaml, or run lcconv run without a file for the built-in default)`,
    );
  const raw = plain ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError({ file }, 'expected a mapping of config keys at the top level');
  const reserved = reservedKeyPath(raw);
  if (reserved)
    throw new ConfigError(
      { file, line: lineOf(doc, lineCounter, reserved), keyPath: reserved.join('.') },
      `${reserved.at(-1)} is not a config key`,
    );

  // Key path of each override (as set in the raw config, e.g. sweep['model.kernel_size']) → its argument.
  const overridden = new Map<string, string>();
  for (const override of overrides) {
    const { spec, flag } = typeof override === 'string' ? { spec: override, flag: `--set ${override}` } : override;
    const parsed = parseOverride(spec, flag);
    const path = overrideKey(parsed.path);
    // The same key twice would silently keep the last value.
    const earlier = overridden.get(path.join('.'));
    if (earlier !== undefined)
      throw new ConfigError({ keyPath: flag }, `sets ${path.join('.')} again (after ${earlier}); give it once`);
    try {
      let node = raw as Record<string, unknown>;
      for (const key of path.slice(0, -1)) {
        if (node[key] === undefined || node[key] === null) node[key] = {};
        else if (typeof node[key] !== 'object' || Array.isArray(node[key]))
          throw new Error(`${key} is not a group of keys`);
        node = node[key] as Record<string, unknown>;
      }
      node[path[path.length - 1]!] = parsed.value;
    } catch (err) {
      throw new ConfigError({ keyPath: flag }, (err as Error).message);
    }
    overridden.set(path.join('.'), flag);
  }

  // seeds: decides the runs and seed is then unused: an override of seed alone would change nothing.
  const seedFlag = overridden.get('seed');
  const seeds = (raw as Record<string, unknown>).seeds;
  if (seedFlag && !overridden.has('seeds') && seeds !== undefined && seeds !== null) {
    const value = seedFlag.slice(seedFlag.indexOf('=') + 1);
    throw new ConfigError(
      { keyPath: seedFlag },
      `the config's seeds: ${JSON.stringify(seeds)} decide the runs, so seed would be ignored; use --set seeds=[${value}] for that seed alone`,
    );
  }
  const parsed = ConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw toConfigError(parsed.error, doc, lineCounter, file, overridden);
  const config = parsed.data as Config; // the schema's overwrite has set model.width
  const sweepIssue = checkSweep(config);
  if (sweepIssue) {
    // Path into the document (sweep.model.kernel_size[2]); the value's own problem as the schema words it.
    const keyPath = sweepIssue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    const problem = sweepIssue.issue ? problemOf(sweepIssue.issue) : sweepIssue.message;
    const at = overridden.has('sweep') ? 'sweep' : sweepIssue.path.slice(0, 2).join('.');
    const flag = overridden.get(at);
    if (flag) throw new ConfigError({ keyPath: flagAt(flag, at, keyPath) }, problem);
    throw new ConfigError({ file, line: lineOf(doc, lineCounter, sweepIssue.path.map(String)), keyPath }, problem);
  }
  return { config, file };
}

/** Path to the first key that is or contains (as a dotted part) a reserved JavaScript name, or null. */
function reservedKeyPath(value: unknown, path: string[] = []): string[] | null {
  if (!value || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    if (key.split('.').some((part) => RESERVED_KEYS.includes(part))) return [...path, key];
    const inner = reservedKeyPath(child, [...path, key]);
    if (inner) return inner;
  }
  return null;
}

/** Maps the first schema issue to one located message. */
function toConfigError(
  error: z.ZodError,
  doc: Document,
  lines: LineCounter,
  file: string | undefined,
  overridden: Map<string, string>,
): ConfigError {
  const issue = error.issues[0]!;
  let path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path = [...path, issue.keys[0]!];
  const problem = problemOf(issue);
  const keyPath = path.join('.') || '(top level)';
  // An overridden key is reported against its --set (or --grid) argument, not the file's line.
  for (let i = path.length; i > 0; i--) {
    const flag = overridden.get(path.slice(0, i).join('.'));
    if (flag) return new ConfigError({ keyPath: flagAt(flag, path.slice(0, i).join('.'), keyPath) }, problem);
  }
  return new ConfigError({ file, line: lineOf(doc, lines, path), keyPath }, problem);
}

/** The override's argument, plus where inside its value the problem is when that is deeper. */
function flagAt(flag: string, overriddenKey: string, keyPath: string): string {
  return keyPath === overriddenKey ? flag : `${flag} (at ${keyPath})`;
}

/** One schema issue in words, with the offending value. */
function problemOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${suggestion(issue.keys[0]!, issue.path.map(String))}`;
  if (issue.code === 'invalid_type' && typeof issue.input === 'number')
    return `expected a finite ${issue.expected}, got ${show(issue.input)}`;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${describe(issue.input)}`;
  if ('input' in issue && issue.input !== undefined) return `${issue.message}, got ${show(issue.input)}`;
  return issue.message;
}

function describe(input: unknown): string {
  if (input === undefined) return 'nothing (key missing)';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `${typeof input} ${show(input)}`;
}

/** A value for a message: JSON, but NaN and ±Infinity (YAML .nan, .inf) by name, where JSON writes null. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** Line of the deepest node along `path` that exists in the YAML document. */
function lineOf(doc: Document, lines: LineCounter, path: string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const key of path) {
    if (isSeq(node)) {
      // A list item (sweep values, exclude rules): path element is its index.
      const item = node.items[Number(key)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
      continue;
    }
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    if (!pair) break;
    offset = (pair.key as Node).range?.[0] ?? offset;
    node = pair.value;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/** "did you mean" for a mistyped key, from the schema's own keys at that level. */
function suggestion(key: string, parent: string[]): string {
  let shape: z.ZodType = ConfigSchema;
  for (const p of parent) {
    const inner = unwrap(shape);
    const next = (inner as unknown as { shape?: Record<string, z.ZodType> }).shape?.[p];
    if (!next) return '';
    shape = next;
  }
  const keys = Object.keys((unwrap(shape) as unknown as { shape?: Record<string, unknown> }).shape ?? {});
  const close = keys.find((k) => editDistance(k, key) <= 2);
  return close ? ` (did you mean '${close}'?)` : ` (allowed: ${keys.join(', ')})`;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as unknown as { def?: { innerType?: unknown }; unwrap?: () => unknown };
  while (s.def?.innerType) s = s.def.innerType as typeof s;
  return s as unknown as z.ZodType;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}
