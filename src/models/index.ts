/**
 * Maps the validated config (snake_case keys) to the model builder's spec (camelCase): the one
 * place where config names become code names.
 */
import type { Config } from '../config/schema.js';
import { buildResNet, type Model, type ResNetSpec } from './resnet.js';

export function resNetSpec(config: Config, data: { channels: number; classes: number }, seed: number): ResNetSpec {
  return {
    arch: config.model.arch,
    width: config.model.width,
    kernelSize: config.model.kernel_size,
    lcExpansion: config.model.lc_expansion,
    lcDepthwise: config.model.lc_depthwise,
    freeze: config.freeze,
    init: config.init,
    inChannels: data.channels,
    numClasses: data.classes,
    seed,
  };
}

export function buildModel(config: Config, data: { channels: number; classes: number }, seed: number): Model {
  return buildResNet(resNetSpec(config, data, seed));
}

export type { Model } from './resnet.js';
