/**
 * Names config groups for people. A group (RunIdentity.group) is a hash of a run's config without
 * freeze mode and seed; tables and plots show instead the config keys in which a group differs from
 * the other groups of the same report (`train.epochs=1, model.width=8`), read from each run's
 * resolved config. k, E and depthwise have their own columns and axes, so they are left out.
 */
import { keyPaths } from '../config/key-paths.js';
import { COMPUTE_MODEL_KEYS, PRESENTATION_KEYS } from '../runs/identity.js';

/** Keys that never tell groups apart in a label: presentation, compute form, the arm, and k/E/depthwise (own columns). */
const UNLABELLED = new Set<string>([
  ...PRESENTATION_KEYS,
  ...COMPUTE_MODEL_KEYS.map((k) => `model.${k}`),
  'freeze',
  'model.kernel_size',
  'model.lc_expansion',
  'model.lc_depthwise',
]);

/** `{a: {b: 1}}` → `{'a.b': '1'}` (values as compact JSON, lists whole), unlabelled keys left out. */
function flatten(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, value] of keyPaths(config))
    if (!UNLABELLED.has(path)) out.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  return out;
}

/**
 * One label per group: the `key=value` pairs where its config differs from another group's, in
 * schema order; '' when every group has the same settings (one group, or groups that differ only in
 * k, E or depthwise). A group whose config is unknown (a run without config.yaml) keeps its hash.
 */
export function groupLabels(configs: Map<string, unknown>): Map<string, string> {
  const flat = new Map([...configs].map(([group, config]) => [group, config === undefined ? null : flatten(config)]));
  const known = [...flat.values()].filter((f): f is Map<string, string> => f !== null);
  const keys = [...new Set(known.flatMap((f) => [...f.keys()]))];
  const differing = keys.filter((k) => new Set(known.map((f) => f.get(k) ?? '(unset)')).size > 1);
  return new Map(
    [...flat].map(([group, f]) => [
      group,
      f === null ? `config ${group}` : differing.map((k) => `${k}=${f.get(k) ?? '(unset)'}`).join(', '),
    ]),
  );
}

/**
 * What the reported accuracy measured: the test set when `dataset.val_split` is 0 (the paper's
 * practice), the held-out validation split otherwise (docs/datasets.md).
 */
export function accuracyName(
  valSplits: number[],
): 'test accuracy' | 'validation accuracy' | 'test/validation accuracy' {
  const kinds = new Set(valSplits.map((v) => (v > 0 ? 'validation' : 'test')));
  if (kinds.size > 1) return 'test/validation accuracy';
  return kinds.has('validation') ? 'validation accuracy' : 'test accuracy';
}
