/**
 * Records for TensorBoard's HParams dashboard, so it lists every run of a sweep with its config
 * values and final metrics. Three Summary.Values, each with plugin name `hparams` and as content a
 * serialized HParamsPluginData (tensorboard/plugins/hparams/plugin_data.proto, api.proto):
 *
 *   HParamsPluginData = version (1) | experiment (2) | session_start_info (3) | session_end_info (4)
 *   Experiment        = description (1), time_created_secs (3, double), hparam_infos (4), metric_infos (5)
 *   HParamInfo        = name (1), description (3), type (4: 1 string, 2 bool, 3 float64)
 *   MetricInfo        = name (1: MetricName = group (1), tag (2)), display_name (3), description (4), dataset_type (5)
 *   SessionStartInfo  = hparams (1, map<string, google.protobuf.Value>), model_uri (2), group_name (4), start_time_secs (5)
 *   SessionEndInfo    = status (1: 1 success, 2 failure), end_time_secs (2)
 *   google.protobuf.Value = number_value (2, double) | string_value (3) | bool_value (4)
 *
 * Each run's file carries the experiment (TensorBoard takes the first it finds; every run describes
 * the same keys), its session start and, when it ends, its session end. A session's metric values
 * are the last values of the scalar tags named in the experiment, in the session's own run.
 */
import { createHash } from 'node:crypto';
import { keyPaths } from '../config/key-paths.js';
import { configKeys } from '../config/reference.js';
import type { Config } from '../config/schema.js';
import { PRESENTATION_KEYS, runConfig } from './identity.js';
import { bytesField, doubleField, varintField } from './protobuf.js';

export const HPARAMS_PLUGIN = 'hparams';
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_TAG = '_hparams_/session_start_info';
export const SESSION_END_TAG = '_hparams_/session_end_info';

export type HParamValue = number | string | boolean;

const DATA_TYPE = { string: 1, bool: 2, float64: 3 } as const;
export const SESSION_STATUS = { success: 1, failure: 2 } as const;
const DATASET = { training: 1, validation: 2 } as const;

/**
 * Hyperparameters are the keys that decide what a run computes (not PRESENTATION_KEYS), dotted,
 * except `seed`: runs that differ only in seed form one session group, so the dashboard can average
 * a configuration over its seeds (the paper's mean) and still lists each seed's run in the group.
 */
const isHParam = (path: string) =>
  path !== 'seed' && !PRESENTATION_KEYS.some((k) => path === k || path.startsWith(`${k}.`));

/** The run's hyperparameter values; lists as JSON text; unset optional keys left out (a blank cell). */
export function runHParams(config: Config): Map<string, HParamValue> {
  const out = new Map<string, HParamValue>();
  for (const [path, value] of keyPaths(runConfig(config, config.seed))) {
    if (!isHParam(path) || value === null) continue;
    out.set(
      path,
      typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string'
        ? value
        : JSON.stringify(value),
    );
  }
  return out;
}

/** Every hyperparameter the schema defines, with its type and one-line doc (as in docs/config.md). */
function hparamInfos(): Buffer[] {
  return configKeys()
    .filter((k) => k.type !== 'group' && isHParam(k.path))
    .map((k) => {
      const type = k.type === 'integer' || k.type === 'number' ? 'float64' : k.type === 'boolean' ? 'bool' : 'string';
      return bytesField(4, [
        bytesField(1, k.path),
        ...(k.doc ? [bytesField(3, k.doc)] : []),
        varintField(4, DATA_TYPE[type]),
      ]);
    });
}

/** The metrics the dashboard shows per run: the last value of these epoch scalars. */
function metricInfos(valSplit: number): Buffer[] {
  // `val_*` is measured on the test set unless dataset.val_split holds some training images out.
  const held = valSplit > 0 ? 'validation' : 'test';
  const metrics = [
    ['epoch/val_acc', `final ${held} accuracy`, DATASET.validation],
    ['epoch/val_loss', `final ${held} loss`, DATASET.validation],
    ['epoch/train_acc', 'final training accuracy', DATASET.training],
    ['epoch/train_loss', 'final training loss', DATASET.training],
  ] as const;
  return metrics.map(([tag, display, dataset]) =>
    bytesField(5, [bytesField(1, [bytesField(2, tag)]), bytesField(3, display), varintField(5, dataset)]),
  );
}

/** google.protobuf.Value of a scalar. */
function protobufValue(value: HParamValue): Buffer[] {
  if (typeof value === 'number') return [doubleField(2, value)];
  if (typeof value === 'boolean') return [varintField(4, value)];
  return [bytesField(3, value)];
}

/** Same hyperparameters, same group: a hash of them in key order. */
function groupName(hparams: Map<string, HParamValue>): string {
  const sorted = [...hparams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** A Summary.Value (tag 1, tensor 8, metadata 9) holding HParamsPluginData `data` (version 0). */
function pluginValue(tag: string, data: Buffer): Buffer {
  // SummaryMetadata.plugin_data (1) = PluginData { plugin_name (1), content (2) }.
  const metadata = bytesField(1, [bytesField(1, HPARAMS_PLUGIN), bytesField(2, data)]);
  // TensorBoard stores these as tensor summaries; an empty float vector is the smallest valid one
  // (TensorProto: dtype 1 = DT_FLOAT, tensor_shape 2 = one dim (2) of size 0).
  const emptyTensor = [varintField(1, 1), bytesField(2, [bytesField(2, [])])];
  return bytesField(1, [bytesField(1, tag), bytesField(8, emptyTensor), bytesField(9, metadata)]);
}

/** The experiment (hyperparameters and metrics) and this run's session start, as Summary.Values. */
export function sessionStartValues(config: Config, runDir: string, startSeconds: number): Buffer[] {
  const hparams = runHParams(config);
  const experiment = bytesField(2, [
    bytesField(1, `lcconv experiment ${config.name}`),
    doubleField(3, startSeconds),
    ...hparamInfos(),
    ...metricInfos(config.dataset.val_split),
  ]);
  const start = bytesField(3, [
    ...[...hparams].map(([name, value]) => bytesField(1, [bytesField(1, name), bytesField(2, protobufValue(value))])),
    bytesField(2, runDir),
    bytesField(4, groupName(hparams)),
    doubleField(5, startSeconds),
  ]);
  return [pluginValue(EXPERIMENT_TAG, experiment), pluginValue(SESSION_START_TAG, start)];
}

/** This run's session end, as a Summary.Value. */
export function sessionEndValue(status: keyof typeof SESSION_STATUS, endSeconds: number): Buffer {
  return pluginValue(
    SESSION_END_TAG,
    bytesField(4, [varintField(1, SESSION_STATUS[status]), doubleField(2, endSeconds)]),
  );
}
