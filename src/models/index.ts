/**
 * Maps the validated config (snake_case keys) to the model builder's spec (camelCase): the one
 * place where config names become code names.
 */
import { totalmem } from 'node:os';
import { isUserModel } from '../config/names.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { estimateFootprint } from './footprint.js';
import { smoothCovariance, type SpatialInit } from './init.js';
import type { Model, ModelSpec, NetworkPlan } from './network.js';
import { layoutOf } from './registry.js';
import { buildCifarResNet, planCifarResNet } from './resnet.js';
import { buildLowResResNet, planLowResResNet } from './resnet-lowres.js';
import { chooseLcForm, isLcBlock, type LcForm, type SpatialConvSpec } from './spatial-conv.js';
import { buildUserModel, planUserModel, readUserModel, type UserModelSource } from './user-model.js';
import { buildConvNeXt, CONVNEXT_MIN_SIDE, planConvNeXt } from './convnext.js';
import { buildMobileNetV2, planMobileNetV2 } from './mobilenetv2.js';
import { buildResNet9, planResNet9, RESNET9_MIN_SIDE } from './resnet9.js';
import { buildVgg, planVgg, vggMinSide } from './vgg.js';
import { buildWideResNet, planWideResNet } from './wrn.js';

/** The convs pad, so these families take any image size. */
const anySize = () => 1;

/**
 * Each family's plan, builder and the smallest image side its pools leave a pixel of
 * (models/registry.ts says which family an architecture is).
 */
const FAMILIES = {
  cifar_resnet: { plan: planCifarResNet, build: buildCifarResNet, minSide: anySize },
  resnet: { plan: planLowResResNet, build: buildLowResResNet, minSide: anySize },
  vgg: { plan: planVgg, build: buildVgg, minSide: vggMinSide },
  wrn: { plan: planWideResNet, build: buildWideResNet, minSide: anySize },
  resnet9: { plan: planResNet9, build: buildResNet9, minSide: () => RESNET9_MIN_SIDE },
  mobilenet_v2: { plan: planMobileNetV2, build: buildMobileNetV2, minSide: anySize },
  convnext: { plan: planConvNeXt, build: buildConvNeXt, minSide: () => CONVNEXT_MIN_SIDE },
} as const;

/** The network's plan for height × width inputs: its spatial convs with their input sizes, and the rest's size. */
export function planNetwork(spec: ModelSpec, height: number, width: number): NetworkPlan {
  if (spec.userModel) return planUserModel(spec, spec.userModel, height, width);
  return FAMILIES[layoutOf(spec.arch).family].plan(spec, height, width);
}

/**
 * What a model is built from besides the config, where a run keeps its own copy: the covariance of
 * `spatial_init: from_run`, and the text of your own model script. Unset, the script is read from
 * the config's path (a new run); a run's directory supplies both when it is rebuilt (src/runs).
 */
export interface ModelSources {
  spatialCovariance?: number[][];
  userModel?: UserModelSource;
}

/** Every spatial conv of the network, in forward order, as the factory receives them. */
export function spatialConvsOf(spec: ModelSpec): SpatialConvSpec[] {
  return planNetwork(spec, 1, 1).spatial.map(({ conv }) => conv);
}

/**
 * The k×k filters' init from the config. `from_run` needs the covariance estimated from that run's
 * filters (src/runs resolves model.spatial_init_from, which the model layer cannot read).
 */
export function spatialInitOf(config: Config, runCovariance?: number[][]): SpatialInit {
  const m = config.model;
  switch (m.spatial_init) {
    case 'default':
      return { kind: 'iid', scheme: config.init };
    case 'smooth':
      return {
        kind: 'gaussian',
        scheme: config.init,
        covariance: smoothCovariance(m.kernel_size, m.spatial_init_length_scale),
      };
    case 'from_run':
      if (!runCovariance)
        throw new Error(
          `model.spatial_init: from_run: the covariance of ${m.spatial_init_from} was not resolved before building the model`,
        );
      return { kind: 'gaussian', scheme: config.init, covariance: runCovariance };
    default:
      return { kind: 'iid', scheme: m.spatial_init };
  }
}

export function modelSpec(
  config: Config,
  data: { channels: number; classes: number },
  seed: number,
  sources: ModelSources = {},
): ModelSpec {
  const arch = config.model.arch;
  return {
    userModel: isUserModel(arch) ? (sources.userModel ?? readUserModel(arch)) : undefined,
    arch: config.model.arch,
    width: config.model.width,
    kernelSize: config.model.kernel_size,
    lcExpansion: config.model.lc_expansion,
    lcDepthwise: config.model.lc_depthwise,
    lcCompute: config.model.lc_compute,
    freeze: config.freeze,
    init: config.init,
    spatialInit: spatialInitOf(config, sources.spatialCovariance),
    inChannels: data.channels,
    numClasses: data.classes,
    seed,
  };
}

/** The model's plan only: no spatial-init covariance (k²×k², large for big k) is computed here. */
function planOf(config: Config, data: { channels: number; classes: number }, sources: ModelSources): ModelSpec {
  return {
    ...modelSpec({ ...config, model: { ...config.model, spatial_init: 'default' } }, data, 0, {
      userModel: sources.userModel,
    }),
    spatialInit: { kind: 'iid', scheme: config.init },
  };
}

/**
 * The form each LC block takes in a training step of `config.train.batch_size` images of this
 * size, by name (empty without LC blocks): what `lc_compute` (under auto, the multiply-add count)
 * picks, for the run's summary line.
 */
export function lcFormsOf(
  config: Config,
  data: { channels: number; classes: number; height: number; width: number },
  sources: ModelSources = {},
): Record<string, LcForm> {
  const forms: Record<string, LcForm> = {};
  for (const { conv, height, width } of planNetwork(planOf(config, data, sources), data.height, data.width).spatial)
    if (isLcBlock(conv)) forms[conv.name] = chooseLcForm(conv, [config.train.batch_size, height, width], true);
  return forms;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses, before anything is allocated, a model that cannot train here: a kernel wider than the
 * images allow, or an estimated training footprint above this machine's memory (`memoryLimit`).
 */
export function checkModelFits(
  config: Config,
  data: { channels: number; classes: number; height: number; width: number },
  memoryLimit = totalmem(),
  sources: ModelSources = {},
): void {
  const k = config.model.kernel_size;
  const usefulK = 2 * Math.max(data.height, data.width) - 1;
  if (k > usefulK) {
    throw new InputError(
      `model.kernel_size: ${k} is wider than ${data.height}×${data.width} images allow: padded by k//2, a filter tap beyond ${usefulK} (2·${Math.max(data.height, data.width)} − 1) only ever sees padding; use at most ${usefulK}`,
    );
  }
  const spec = planOf(config, data, sources);
  // Your own script's forward runs on the images' size while it is planned, and says so itself.
  const minSide = spec.userModel ? 1 : FAMILIES[layoutOf(spec.arch).family].minSide(spec);
  if (Math.min(data.height, data.width) < minSide)
    throw new InputError(
      `model.arch: ${config.model.arch} halves the image ${Math.log2(minSide)} times and needs at least ${minSide}×${minSide} pixels; these images are ${data.height}×${data.width} (use a ResNet or a Wide ResNet)`,
    );
  const { weights, bytes } = estimateFootprint(planNetwork(spec, data.height, data.width), {
    height: data.height,
    width: data.width,
    batch: config.train.batch_size,
  });
  if (bytes > memoryLimit) {
    throw new InputError(
      `the model would need about ${gib(bytes)} to train (${weights.toLocaleString('en-US')} weights, batches of ${config.train.batch_size} ${data.height}×${data.width} images), more than this machine's ${gib(memoryLimit)}; lower model.width, model.kernel_size, model.lc_expansion or train.batch_size`,
    );
  }
}

export function buildModel(
  config: Config,
  data: { channels: number; classes: number },
  seed: number,
  sources: ModelSources = {},
): Model {
  return buildNetwork(modelSpec(config, data, seed, sources));
}

/** The network `spec` describes, built by its family (or by your script). */
export function buildNetwork(spec: ModelSpec): Model {
  if (spec.userModel) return buildUserModel(spec, spec.userModel);
  return FAMILIES[layoutOf(spec.arch).family].build(spec);
}

export type { Model, ModelSpec, NetworkPlan } from './network.js';
export { type UserModelSource, sourceSha256 } from './user-model.js';
