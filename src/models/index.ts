/**
 * Maps the validated config (snake_case keys) to the model builder's spec (camelCase): the one
 * place where config names become code names.
 */
import type { Config } from '../config/schema.js';
import { smoothCovariance, type SpatialInit } from './init.js';
import { buildResNet, type Model, type ResNetSpec } from './resnet.js';

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
      return { kind: 'gaussian', scheme: config.init, covariance: smoothCovariance(m.kernel_size, m.spatial_init_length_scale) };
    case 'from_run':
      if (!runCovariance) throw new Error(`model.spatial_init: from_run: the covariance of ${m.spatial_init_from} was not resolved before building the model`);
      return { kind: 'gaussian', scheme: config.init, covariance: runCovariance };
    default:
      return { kind: 'iid', scheme: m.spatial_init };
  }
}

export function resNetSpec(config: Config, data: { channels: number; classes: number }, seed: number, runCovariance?: number[][]): ResNetSpec {
  return {
    arch: config.model.arch,
    width: config.model.width,
    kernelSize: config.model.kernel_size,
    lcExpansion: config.model.lc_expansion,
    lcDepthwise: config.model.lc_depthwise,
    freeze: config.freeze,
    init: config.init,
    spatialInit: spatialInitOf(config, runCovariance),
    inChannels: data.channels,
    numClasses: data.classes,
    seed,
  };
}

export function buildModel(config: Config, data: { channels: number; classes: number }, seed: number, runCovariance?: number[][]): Model {
  return buildResNet(resNetSpec(config, data, seed, runCovariance));
}

export type { Model } from './resnet.js';
