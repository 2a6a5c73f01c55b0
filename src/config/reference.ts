/**
 * The config reference (docs/config.md and `lcconv config --reference`), generated from the schema
 * so the docs cannot drift from the code.
 */
import type { z } from 'zod';
import { ConfigSchema } from './schema.js';

interface KeyDoc {
  path: string;
  type: string;
  default: string;
  doc: string;
  /** The default itself (undefined when unset or required). */
  value?: unknown;
  /** The value's form on a command line. */
  form: FlagForm;
}

/** How a key's value is given as a flag: one scalar (yargs type), or a list of items. */
export type FlagForm = 'number' | 'string' | 'boolean' | 'list';

function formOf(schema: z.ZodType): FlagForm {
  const def = defOf(schema);
  if (def.type === 'array') return 'list';
  if (def.type === 'number' || def.type === 'boolean') return def.type;
  if (def.type === 'literal' && (def.values ?? []).every((v) => typeof v === 'number')) return 'number';
  return 'string'; // strings, enums, and unions such as `N or all` (read as YAML: 500 is a number)
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
  element?: z.ZodType;
  values?: unknown[];
  items?: z.ZodType[];
  options?: z.ZodType[];
  format?: string;
  checks?: unknown[];
};
const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

function describeType(schema: z.ZodType): string {
  const def = defOf(schema);
  switch (def.type) {
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((v) => `\`${v}\``)
        .join(' \\| ');
    case 'literal':
      return (def.values ?? []).map((v) => `\`${String(v)}\``).join(' \\| ');
    case 'tuple':
      return `[${(def.items ?? []).map(describeType).join(', ')}]`;
    case 'array':
      return `list of ${describeType(def.element!)}`;
    case 'number':
      return def.format?.includes('int') ? 'integer' : 'number';
    case 'optional':
    case 'default':
    case 'prefault':
      return describeType(def.innerType!);
    case 'union':
      return (def.options ?? []).map(describeType).join(' or ');
    default:
      return def.type;
  }
}

function collect(schema: z.ZodType, prefix: string, out: KeyDoc[]): void {
  let s = schema;
  let dflt: unknown;
  let optional = false;
  let doc = (s as unknown as { description?: string }).description ?? '';
  for (;;) {
    const def = defOf(s);
    if (def.type === 'default' || def.type === 'prefault')
      dflt = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    else if (def.type === 'optional') optional = true;
    else break;
    s = def.innerType!;
    doc ||= (s as unknown as { description?: string }).description ?? '';
  }
  const def = defOf(s);
  if (def.type === 'object' && def.shape) {
    if (prefix && doc) out.push({ path: prefix, type: 'group', default: '', doc, form: 'string' });
    for (const [key, child] of Object.entries(def.shape)) collect(child, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  out.push({
    path: prefix,
    type: describeType(s),
    default: dflt === undefined ? (optional ? '(unset)' : '(required)') : `\`${JSON.stringify(dflt)}\``,
    doc,
    value: dflt,
    form: formOf(s),
  });
}

export function configKeys(): KeyDoc[] {
  const out: KeyDoc[] = [];
  collect(ConfigSchema, '', out);
  return out;
}

export function configReferenceMarkdown(): string {
  const rows = configKeys().map((k) => `| \`${k.path}\` | ${k.type} | ${k.default} | ${k.doc} |`);
  return [
    '# Config reference',
    '',
    'Generated from `src/config/schema.ts` by `lcconv config --reference`; do not edit by hand.',
    'Every key can be overridden on the command line with `--set key.path=value` (the value is read as YAML).',
    'Unknown keys, wrong types and out-of-range values are errors that name the file, line and key path.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** One command-line flag that sets a config key (src/config/flag-table.ts, generated from the schema). */
export interface SchemaFlag {
  /** The config key it sets, e.g. `eval.linf_epsilons`. */
  key: string;
  /** The flag without dashes, e.g. `eps`. */
  flag: string;
  form: FlagForm;
  describe: string;
  /** The schema's default, as shown in help (JSON); absent when unset. */
  default?: string;
}

/**
 * The keys that commands take as flags, and the flag name where it is not the key's own (`_` → `-`):
 * `lcconv eval` sets eval.* (after_training only matters to `lcconv run`), `lcconv sweep` slurm.*
 * and sweep.max_trials.
 */
export const FLAG_KEYS: { prefix: string; skip: string[]; renamed: Record<string, string> }[] = [
  {
    prefix: 'eval.',
    skip: ['eval.after_training'],
    renamed: { 'eval.linf_epsilons': 'eps', 'eval.l2_epsilons': 'l2-eps' },
  },
  { prefix: 'slurm.', skip: [], renamed: { 'slurm.sbatch_args': 'sbatch-arg' } },
  { prefix: 'sweep.max_trials', skip: [], renamed: {} },
];

/** The flags of FLAG_KEYS, read off the schema: name, form, description and default of each. */
export function schemaFlags(): SchemaFlag[] {
  const keys = configKeys().filter((k) => k.type !== 'group');
  return FLAG_KEYS.flatMap(({ prefix, skip, renamed }) =>
    keys
      .filter((k) => k.path.startsWith(prefix) && !skip.includes(k.path))
      .map((k) => ({
        key: k.path,
        flag: renamed[k.path] ?? k.path.slice(k.path.lastIndexOf('.') + 1).replace(/_/g, '-'),
        form: k.form,
        describe: k.doc,
        ...(k.value === undefined ? {} : { default: JSON.stringify(k.value) }),
      })),
  );
}

/** src/config/flag-table.ts's text: the flags as data, so help builds them without loading the schema (zod). */
export function flagTableModule(): string {
  return [
    '/**',
    ' * The config keys that commands take as flags, with the description and default of each: generated',
    ' * from src/config/schema.ts by `node scripts/write-flag-table.mjs` (after the build); do not edit by',
    ' * hand (test/config/flags.test.ts fails when it differs from the schema). Data only, so help never',
    ' * loads the schema.',
    ' */',
    "import type { SchemaFlag } from './reference.js';",
    '',
    `export const SCHEMA_FLAGS: SchemaFlag[] = ${JSON.stringify(schemaFlags(), null, 2)};`,
    '',
  ].join('\n');
}
