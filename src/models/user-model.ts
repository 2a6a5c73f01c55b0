/**
 * Your own network (`model.arch: ./path/to/model.js`): a small script that builds it from lcconv's
 * layers, so that freeze modes, LC blocks, the shared bank, init schemes, footprint checks, analysis
 * and checkpoints apply to it as to the built-in families. The contract (docs/architectures.md):
 *
 *   module.exports = function build(kit, spec) {
 *     const conv1 = kit.spatialConv('conv1', spec.inChannels, spec.width);  // every k×k conv
 *     const bn1 = kit.batchNorm('bn1', spec.width);
 *     const fc = kit.linear('fc', spec.width, spec.numClasses);
 *     return (x, training) => fc(kit.globalAvgPool(kit.tf.relu(bn1(conv1(x, training), training))));
 *   };
 *
 * The file is run as a CommonJS script with nothing but `module` and `exports` in scope: everything it
 * uses comes through the kit (tfjs ops as `kit.tf`), so a run's stored copy (src/runs) rebuilds the
 * same network on its own. Layers are created while `build` runs, in the order it creates them; the
 * returned forward takes NHWC images and returns [batch, classes] logits.
 *
 * Planning needs no weights: `build` runs once with a kit whose layers only record what they are
 * (names, channels, strides) and return zeros of their output shape, and the forward runs once on a
 * zero image to learn every spatial conv's input size.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileFunction } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import { makeBatchNorm, makeLinear, makeMaxPool, makePointwiseConv, sequential, type Layer } from './layers.js';
import { makeStore, modelOf, spatialConv, type Model, type ModelSpec, type NetworkPlan } from './network.js';
import { makeSpatialConv, type SpatialConvSpec } from './spatial-conv.js';
import '../backends/tfjs-runtime.js';

/** A user model file's text and where it came from (the config's path, or a run's stored copy). */
export interface UserModelSource {
  /** The path as the config names it (`model.arch`), for messages. */
  arch: string;
  /** The file the text was read from. */
  file: string;
  text: string;
}

/** SHA-256 of a model file's text: recorded with a run, to tell when the file has changed since. */
export const sourceSha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a user's script is given: lcconv's layers, bound to the run's settings and parameters. */
export interface ModelKit {
  /** @tensorflow/tfjs-core: ops on NHWC tensors (relu, add, concat, mean…). */
  tf: typeof tf;
  /**
   * A k×k conv from the one factory: k, freeze mode, LC expansion and the shared bank come from the
   * config. `depthwise: true` makes it a depthwise conv (out = in, one filter per channel), whose LC
   * block combines each channel's E filters (docs/architectures.md).
   */
  spatialConv(
    name: string,
    inChannels: number,
    outChannels: number,
    options?: { stride?: 1 | 2; bias?: boolean; depthwise?: boolean },
  ): Layer;
  /** A learned 1×1 conv (no bias). */
  pointwiseConv(name: string, inChannels: number, outChannels: number, options?: { stride?: 1 | 2 }): Layer;
  batchNorm(name: string, channels: number): Layer;
  linear(name: string, inFeatures: number, outFeatures: number): (x: tf.Tensor2D) => tf.Tensor2D;
  maxPool(size: number): Layer;
  globalAvgPool(x: tf.Tensor4D): tf.Tensor2D;
  sequential(layers: Layer[]): Layer;
}

/** What a script's build reads: the run's settings (its weights come from the kit). */
export type UserSpec = Readonly<
  Pick<ModelSpec, 'width' | 'kernelSize' | 'lcExpansion' | 'freeze' | 'inChannels' | 'numClasses'>
>;

type Forward = (x: tf.Tensor4D, training: boolean) => tf.Tensor2D;
type Build = (kit: ModelKit, spec: UserSpec) => Forward;

const CONTRACT = 'module.exports = function build(kit, spec) { …; return (x, training) => logits }';

/** One line naming the script and what is wrong with it. */
const scriptError = (source: UserModelSource, why: string) => new InputError(`model.arch: ${source.arch}: ${why}`);

const what = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** The script's build function, or one line naming the file and what is wrong. */
function compile(source: UserModelSource): Build {
  const fail = (why: string) => scriptError(source, why);
  let run: (module: { exports: unknown }, exports: unknown) => void;
  try {
    run = compileFunction(source.text, ['module', 'exports'], { filename: source.file }) as typeof run;
  } catch (err) {
    const e = err as Error;
    const esm = /\b(export|import)\b/.test(e.message) || /^\s*(export|import)\s/m.test(source.text);
    throw fail(
      esm
        ? `uses ES module syntax (${e.message}); lcconv runs the file as a plain script: write ${CONTRACT}`
        : `does not parse: ${e.message}`,
    );
  }
  const module = { exports: {} as unknown };
  try {
    run(module, module.exports);
  } catch (err) {
    throw fail(`failed while loading: ${(err as Error).message}`);
  }
  const build = module.exports;
  if (typeof build !== 'function')
    throw fail(`module.exports is ${what(build)}, not the build function; write ${CONTRACT}`);
  return build as Build;
}

/** The settings a script sees, frozen so a script cannot change the run it is part of. */
const userSpec = (spec: ModelSpec): UserSpec =>
  Object.freeze({
    width: spec.width,
    kernelSize: spec.kernelSize,
    lcExpansion: spec.lcExpansion,
    freeze: spec.freeze,
    inChannels: spec.inChannels,
    numClasses: spec.numClasses,
  });

/** Runs the script's build with `kit`, checking that it returned a forward function. */
function callBuild(source: UserModelSource, kit: ModelKit, spec: ModelSpec): Forward {
  const fail = (why: string) => scriptError(source, why);
  let forward: unknown;
  try {
    forward = compile(source)(kit, userSpec(spec));
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw fail(`build(kit, spec) failed: ${(err as Error).message}`);
  }
  if (typeof forward !== 'function')
    throw fail(`build(kit, spec) returned ${what(forward)}, not the forward function (x, training) => logits`);
  return forward as Forward;
}

/**
 * Checks a kit call's arguments: a unique name (the weights' names in checkpoints and exports),
 * positive integer channel counts, a stride of 1 or 2.
 */
function argumentChecker(source: UserModelSource) {
  const seen = new Set<string>();
  const fail = (why: string) => scriptError(source, why);
  return (kind: string, name: unknown, channels: unknown[], stride: unknown = 1) => {
    if (typeof name !== 'string' || !/^[A-Za-z_][\w.]*$/.test(name))
      throw fail(`kit.${kind} needs a name of letters, digits, _ and . (got ${JSON.stringify(name)})`);
    if (seen.has(name)) throw fail(`two layers are named '${name}'`);
    seen.add(name);
    for (const c of channels)
      if (!Number.isInteger(c) || (c as number) < 1)
        throw fail(`kit.${kind}('${name}', …): channel counts must be positive integers (got ${JSON.stringify(c)})`);
    if (stride !== 1 && stride !== 2)
      throw fail(`kit.${kind}('${name}', …): stride must be 1 or 2 (got ${JSON.stringify(stride)})`);
  };
}

const globalAvgPool = (x: tf.Tensor4D) => tf.mean(x, [1, 2]) as tf.Tensor2D;

/** The forward's result must be [batch, classes] logits. */
function checkLogits(source: UserModelSource, out: unknown, batch: number, classes: number): tf.Tensor2D {
  const shape = out instanceof tf.Tensor ? out.shape : null;
  if (shape?.length !== 2 || shape[0] !== batch || shape[1] !== classes)
    throw scriptError(
      source,
      `forward returned ${shape ? `a tensor of shape [${shape.join(', ')}]` : what(out)}, expected logits of shape [${batch}, ${classes}] (batch, classes)`,
    );
  return out as tf.Tensor2D;
}

/**
 * The plan of the script's network for height × width inputs: every kit.spatialConv in creation
 * order with the size of the map it reads, and the weights and activations of the other layers.
 */
export function planUserModel(spec: ModelSpec, source: UserModelSource, height: number, width: number): NetworkPlan {
  const check = argumentChecker(source);
  const convs: { conv: SpatialConvSpec; height: number; width: number }[] = [];
  let otherWeights = 0;
  let otherActivations = 0;
  const zerosOf = (x: tf.Tensor4D, stride: number, channels: number) =>
    tf.zeros([x.shape[0], Math.ceil(x.shape[1] / stride), Math.ceil(x.shape[2] / stride), channels]) as tf.Tensor4D;
  const kit: ModelKit = {
    tf,
    spatialConv(name, inChannels, outChannels, options = {}) {
      check('spatialConv', name, [inChannels, outChannels], options.stride);
      if (options.depthwise && inChannels !== outChannels)
        throw scriptError(
          source,
          `kit.spatialConv('${name}', …): a depthwise conv keeps its channels (got ${inChannels} in, ${outChannels} out)`,
        );
      const at = convs.push({
        conv: spatialConv(spec, name, inChannels, outChannels, options.stride ?? 1, {
          bias: options.bias,
          perChannel: options.depthwise === true,
        }),
        height: 0,
        width: 0,
      });
      return (x) => {
        convs[at - 1]!.height = x.shape[1];
        convs[at - 1]!.width = x.shape[2];
        return zerosOf(x, options.stride ?? 1, outChannels);
      };
    },
    pointwiseConv(name, inChannels, outChannels, options = {}) {
      check('pointwiseConv', name, [inChannels, outChannels], options.stride);
      otherWeights += inChannels * outChannels;
      return (x) => {
        const y = zerosOf(x, options.stride ?? 1, outChannels);
        otherActivations += y.size / y.shape[0];
        return y;
      };
    },
    batchNorm(name, channels) {
      check('batchNorm', name, [channels]);
      otherWeights += 2 * channels;
      return (x) => x;
    },
    linear(name, inFeatures, outFeatures) {
      check('linear', name, [inFeatures, outFeatures]);
      otherWeights += inFeatures * outFeatures + outFeatures;
      return (x) => {
        otherActivations += outFeatures;
        return tf.zeros([x.shape[0], outFeatures]) as tf.Tensor2D;
      };
    },
    // At least one pixel: a plan for tiny inputs (1×1 lists the convs) must not run out of image.
    maxPool: (size) => (x) => {
      const [b, h, w, c] = x.shape;
      return tf.zeros([b, Math.max(1, Math.floor(h / size)), Math.max(1, Math.floor(w / size)), c]) as tf.Tensor4D;
    },
    globalAvgPool,
    sequential,
  };
  const forward = callBuild(source, kit, spec);
  tf.tidy(() => {
    let out: unknown;
    try {
      out = forward(tf.zeros([1, height, width, spec.inChannels]) as tf.Tensor4D, false);
    } catch (err) {
      throw scriptError(source, `forward failed on a ${height}×${width} image: ${(err as Error).message}`);
    }
    checkLogits(source, out, 1, spec.numClasses);
  });
  if (convs.length === 0)
    throw scriptError(
      source,
      'builds no kit.spatialConv; freeze modes and LC blocks act on those, so make every k×k conv one',
    );
  return { spatial: convs, otherWeights, otherActivations };
}

/** The script's network with real weights, drawn as the built-in families draw theirs. */
export function buildUserModel(spec: ModelSpec, source: UserModelSource): Model {
  const convs = new Map(planUserModel(spec, source, 1, 1).spatial.map(({ conv }) => [conv.name, conv]));
  const store = makeStore(spec, [...convs.values()]);
  const kit: ModelKit = {
    tf,
    spatialConv: (name) => {
      const conv = convs.get(name);
      if (!conv)
        throw scriptError(
          source,
          `build(kit, spec) created another network on its second call (a spatial conv '${name}' it did not plan); build must depend on spec only`,
        );
      return makeSpatialConv(conv, store);
    },
    pointwiseConv: (name, inChannels, outChannels, options = {}) =>
      makePointwiseConv(name, inChannels, outChannels, options.stride ?? 1, store),
    batchNorm: (name, channels) => makeBatchNorm(name, channels, store),
    linear: (name, inFeatures, outFeatures) => makeLinear(name, inFeatures, outFeatures, store),
    maxPool: makeMaxPool,
    globalAvgPool,
    sequential,
  };
  let forward: Forward;
  try {
    forward = callBuild(source, kit, spec);
  } catch (err) {
    store.dispose();
    throw err;
  }
  return modelOf(store, (_model, x, training) =>
    checkLogits(source, forward(x, training), x.shape[0], spec.numClasses),
  );
}

/** A new run's script: the file `model.arch` names, relative to the working directory. */
export function readUserModel(arch: string): UserModelSource {
  const file = resolve(arch);
  try {
    return { arch, file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `model.arch: ${arch}: ${code === 'ENOENT' ? `no such file (${file})` : code === 'EISDIR' ? 'is a folder, not a script' : `cannot be read (${code ?? (err as Error).message})`}`,
    );
  }
}
