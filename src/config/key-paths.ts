/**
 * A config as its dotted key paths (`model.kernel_size`), the names `--set`, sweeps, report labels
 * and TensorBoard's hparams use. No imports, so any module may use it without loading the schema.
 */

/** `{a: {b: 1, c: [2]}}` → `a.b` → 1, `a.c` → [2]: every leaf in key order, lists whole, undefined left out. */
export function keyPaths(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) keyPaths(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, value);
  }
  return out;
}
