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
    if (prefix && doc) out.push({ path: prefix, type: 'group', default: '', doc });
    for (const [key, child] of Object.entries(def.shape)) collect(child, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  out.push({
    path: prefix,
    type: describeType(s),
    default: dflt === undefined ? (optional ? '(unset)' : '(required)') : `\`${JSON.stringify(dflt)}\``,
    doc,
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
