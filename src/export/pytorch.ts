/**
 * `lcconv export`: a finished run's network as a PyTorch state_dict in safetensors, for the model in
 * bench/pytorch_reference.py (ResNet): PyTorch names, OIHW conv filters, [out, in] linear weights,
 * every weight materialised — frozen filters and shared-bank slices included (so a shared run loads
 * into that model built with freeze='frozen') — and BatchNorm running statistics. Beside it, a JSON
 * file with what is needed to rebuild and feed the model (constructor arguments, input
 * normalisation, class names) and the run's resolved config.
 */
import { join } from 'node:path';
import { makeDir, writeAtomic } from '../fs-safety.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../models/index.js';
import { modelSpec } from '../models/index.js';
import { type ArchLayout, cifarBlocksPerStage, layoutOf } from '../models/registry.js';
import { runModelSources } from '../runs/model.js';
import { spatialConvsOf, type ModelSpec } from '../models/index.js';
import { composeLcFilter, hasDepthwiseFilter, isLcBlock, lcKindOf } from '../models/spatial-conv.js';
import type { FinishedRun } from '../eval/load-run.js';
import { encodeSafetensors, type SafeTensor } from './safetensors.js';

export const EXPORT_WEIGHTS = 'model.safetensors';
export const EXPORT_META = 'model.json';

/**
 * lcconv weight name → the twin's state_dict key. The low-resolution ResNets and VGGs already use
 * the trainer's names (their twins' too); the CIFAR ResNet maps to bench/pytorch_reference.py's.
 */
export function torchName(name: string, arch: string): string {
  const blocksPerStage = cifarBlocksPerStage(arch);
  if (blocksPerStage === null) return name;
  const stem = /^stem\.conv\.(.+)$/.exec(name);
  if (stem) return `stem.${stem[1]}`;
  if (name.startsWith('stem.bn.')) return `bn.${name.slice('stem.bn.'.length)}`;
  const block = /^stage(\d+)\.block(\d+)\.(.+)$/.exec(name);
  if (block) {
    const index = (Number(block[1]) - 1) * blocksPerStage + Number(block[2]) - 1;
    const rest = block[3]!.replace(/^shortcut\.conv\./, 'shortcut.0.').replace(/^shortcut\.bn\./, 'shortcut.1.');
    return `blocks.${index}.${rest}`;
  }
  if (name.startsWith('fc.')) return name;
  throw new Error(`no PyTorch name for weight ${name}`);
}

/** NHWC-world tensors to PyTorch layouts: conv [k,k,in,out] → [out,in,k,k]; depthwise [k,k,in,E] → [in·E,1,k,k]; linear [in,out] → [out,in]. */
function toTorchLayout(t: tf.Tensor, depthwise: boolean): tf.Tensor {
  if (t.rank === 4 && depthwise) {
    const [k, , inC, e] = t.shape as [number, number, number, number];
    return tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [inC * e!, 1, k, k]);
  }
  if (t.rank === 4) return tf.transpose(t, [3, 2, 0, 1]);
  if (t.rank === 2) return tf.transpose(t);
  return tf.clone(t);
}

/**
 * The state_dict of `model` (built from `spec`), as safetensors entries, read with `await data()`.
 * With `fold`, every LC block is contracted into its one k×k filter W·L (composeLcFilter, as the
 * composed form computes it) and its 1×1 combination dropped: a plain network of the same
 * function, for the twin built with freeze=learned, E = 1 (foldedSpec).
 */
export async function torchStateDict(
  model: Model,
  spec: ModelSpec,
  options: { fold?: boolean } = {},
): Promise<Map<string, SafeTensor>> {
  const convs = spatialConvsOf(spec);
  const fold = options.fold === true;
  // Folded, an LC block's filter is one full k×k conv, except that a depthwise conv of the architecture stays depthwise.
  const depthwiseFilters = new Set(
    convs
      .filter((c) => hasDepthwiseFilter(c) && !(fold && isLcBlock(c) && !c.perChannel))
      .map((c) => `${c.name}.weight`),
  );
  // A per-channel combination [C, E] is PyTorch's grouped 1×1 conv [C, E, 1, 1].
  const groupedCombinations = new Set(
    convs.filter((c) => isLcBlock(c) && c.perChannel && !fold).map((c) => `${c.name}.combine.weight`),
  );
  const weights = new Map<string, tf.Tensor>([
    ...model.params.learnable,
    ...model.params.frozen,
    ...model.params.buffers,
  ]);
  const made: tf.Tensor[] = []; // tensors made here (shared slices, folded filters), disposed at the end
  for (const [name, filter] of model.params.sharedSlices) {
    const t = filter();
    made.push(t);
    weights.set(name, t);
  }
  if (fold)
    for (const conv of convs.filter(isLcBlock)) {
      const filter = `${conv.name}.weight`;
      const combine = `${conv.name}.combine.weight`;
      const folded = composeLcFilter(weights.get(filter) as tf.Tensor4D, weights.get(combine)!, lcKindOf(conv));
      made.push(folded);
      weights.set(filter, folded);
      weights.delete(combine);
    }
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of weights) {
    const torch = tf.tidy(() =>
      groupedCombinations.has(name) ? tf.reshape(t, [...t.shape, 1, 1]) : toTorchLayout(t, depthwiseFilters.has(name)),
    );
    out.set(torchName(name, spec.arch), {
      dtype: 'F32',
      shape: torch.shape,
      data: (await torch.data()) as Float32Array,
    });
    torch.dispose();
    // PyTorch's BatchNorm counts batches only for momentum=None; lcconv uses a fixed momentum (0.1) and does not count.
    if (name.endsWith('.running_var'))
      out.set(torchName(name.replace(/running_var$/, 'num_batches_tracked'), spec.arch), {
        dtype: 'I64',
        shape: [],
        data: new BigInt64Array(1),
      });
  }
  tf.dispose(made);
  return out;
}

/** The spec of the folded network: every LC block one plain k×k conv, all of them learned weights. */
export function foldedSpec(spec: ModelSpec): ModelSpec {
  return { ...spec, freeze: 'learned', lcExpansion: 1, lcDepthwise: false };
}

/** The class of bench/pytorch_reference.py that is each family's twin (the CIFAR ResNet's, by depth: `ResNet`). */
const TWIN_CLASS = {
  resnet: 'LowResResNet',
  vgg: 'LowResVGG',
  wrn: 'WideResNet',
  resnet9: 'ResNet9',
  mobilenet_v2: 'MobileNetV2',
  convnext: 'ConvNeXt',
} as const satisfies Record<Exclude<ArchLayout['family'], 'cifar_resnet'>, string>;

/**
 * The PyTorch twin that loads the export (bench/pytorch_reference.py) and its constructor
 * arguments. Shared filters are exported materialised per layer, so the twin is built as 'frozen'.
 */
export function pytorchTwin(spec: ModelSpec) {
  // Your own network has no twin in lcconv: the state_dict keys are its kit layer names, for the
  // PyTorch module you write with the same names (docs/architectures.md).
  if (spec.userModel) return null;
  const common = {
    width: spec.width,
    k: spec.kernelSize,
    freeze: spec.freeze === 'shared' ? 'frozen' : spec.freeze,
    expansion: spec.lcExpansion,
    depthwise: spec.lcDepthwise,
    channels: spec.inChannels,
    classes: spec.numClasses,
  };
  const file = 'bench/pytorch_reference.py';
  const blocksPerStage = cifarBlocksPerStage(spec.arch);
  if (blocksPerStage !== null) return { file, class: 'ResNet', kwargs: { depth: 6 * blocksPerStage + 2, ...common } };
  const twin = TWIN_CLASS[layoutOf(spec.arch).family as keyof typeof TWIN_CLASS];
  return { file, class: twin, kwargs: { arch: spec.arch, ...common } };
}

/** What model.json holds: enough to rebuild the PyTorch model and feed it images. */
export function exportMeta(
  run: FinishedRun,
  spec: ModelSpec,
  data: Pick<Dataset, 'mean' | 'std' | 'classNames' | 'height' | 'width' | 'channels' | 'name'>,
  fold = false,
) {
  return {
    format: 'lcconv-export-1',
    run_id: run.summary.run_id,
    final_val_acc: run.summary.final_val_acc,
    // Folded: every LC block is one k×k conv with the filter W·L; the twin is a plain learned network.
    folded: fold,
    pytorch: pytorchTwin(fold ? foldedSpec(spec) : spec),
    input: {
      layout: 'NCHW',
      height: data.height,
      width: data.width,
      channels: data.channels,
      scale: '1/255 to [0,1], then (x - mean) / std per channel',
      mean: data.mean,
      std: data.std,
    },
    dataset: data.name,
    class_names: data.classNames,
    config: run.config,
  };
}

/** Writes model.safetensors and model.json into `outDir` (the LC blocks folded with `fold`); returns their paths. */
export async function exportRun(
  run: FinishedRun,
  model: Model,
  data: Dataset,
  outDir: string,
  options: { fold?: boolean } = {},
): Promise<string[]> {
  const shape = { channels: data.channels, classes: data.classNames.length };
  const spec = modelSpec(run.config, shape, run.config.seed, runModelSources(run.dir, run.config));
  const tensors = await torchStateDict(model, spec, options);
  const meta = exportMeta(run, spec, data, options.fold);
  makeDir(outDir);
  const weightsFile = join(outDir, EXPORT_WEIGHTS);
  const metaFile = join(outDir, EXPORT_META);
  writeAtomic(weightsFile, encodeSafetensors(tensors, { format: 'pt', lcconv_run: run.summary.run_id }));
  writeAtomic(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  return [weightsFile, metaFile];
}
