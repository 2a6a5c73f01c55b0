/**
 * Owns every weight of a model and decides nothing about architecture. Learnable weights are
 * tf.Variables (the optimizer sees only these); frozen kernels are plain tensors, so autodiff never
 * computes a filter gradient for them; the shared bank is one tensor that shared layers slice.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InitScheme } from '../config/schema.js';
import { rngFor } from '../random.js';
import { initValues, spatialScale, spatialUnitDraws, type Fans, type SpatialInit } from './init.js';

export interface ParamCounts {
  /** Every weight the forward pass uses (a shared slice counts once per layer that uses it). */
  total: number;
  /** Weights the optimizer updates. */
  learnable: number;
  /** Weights used but never updated (frozen kernels and shared slices, per layer). */
  frozen: number;
  /** Weights actually held in memory and saved: learnable + own frozen kernels + the shared bank once. */
  stored: number;
  /** BatchNorm running statistics (buffers, not parameters, as in PyTorch). */
  buffers: number;
}

/**
 * Shared mode: one seeded tensor of unit draws, shape [k, k, maxIn, maxOut] over all spatial layers,
 * drawn from the spatial init (i.i.d., or one N(0, Σ) filter per channel pair, so every slice has
 * the same distribution). Slicing rule: a layer with a [k, k, in, out] filter takes the leading
 * block bank[:, :, :in, :out] and multiplies it by its own init scale (e.g. 1/√fan_in), which is
 * derived, not stored. So layers of equal shape use identical random filters, and the network
 * stores exactly one filter bank. A smaller filter of the architecture's own size (ConvNeXt's 2×2
 * patch convs) takes the leading k×k window too.
 */
export class SharedBank {
  readonly tensor: tf.Tensor4D;
  /** The init the bank is drawn with (a Gaussian spatial_init only at the k its covariance is for). */
  readonly init: SpatialInit;
  constructor(
    readonly shape: [number, number, number, number],
    spatialInit: SpatialInit,
    seed: number,
  ) {
    this.init = spatialInitAt(spatialInit, shape[0]);
    this.tensor = tf.tensor4d(spatialUnitDraws(shape, this.init, rngFor(seed, 'shared-bank')), shape);
  }

  /** The filter for one layer: leading slice times that layer's init scale (computed per forward). */
  slice(shape: [number, number, number, number], scale: number): tf.Tensor4D {
    const [k, , inC, outC] = shape;
    if (k > this.shape[0] || inC > this.shape[2] || outC > this.shape[3]) {
      throw new Error(`shared bank ${this.shape.join('x')} cannot serve a ${shape.join('x')} filter`);
    }
    return tf.tidy(() => tf.mul(tf.slice(this.tensor, [0, 0, 0, 0], shape), scale));
  }
}

/** tfjs variable names are global to the engine: prefix each model's names so models can coexist. */
let storeCounter = 0;

export class ParamStore {
  private readonly prefix = `model${storeCounter++}`;
  readonly learnable = new Map<string, tf.Variable>();
  readonly frozen = new Map<string, tf.Tensor>();
  readonly buffers = new Map<string, tf.Variable>();
  /** Each shared layer's filter (a slice of the bank) by weight name, for analysis; not stored. */
  readonly sharedSlices = new Map<string, () => tf.Tensor4D>();
  private sharedUse = 0;

  constructor(
    readonly seed: number,
    readonly init: InitScheme,
    readonly spatialInit: SpatialInit = { kind: 'iid', scheme: init },
    readonly shared?: SharedBank,
  ) {}

  /** A learnable weight drawn with the configured init (or explicit values, e.g. BN's ones). */
  addLearnable(name: string, shape: number[], values: Float32Array): tf.Variable {
    this.assertNew(name);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `${this.prefix}/${name}`));
    this.learnable.set(name, v);
    return v;
  }

  addFrozen(name: string, shape: number[], values: Float32Array): tf.Tensor {
    this.assertNew(name);
    const t = tf.tensor(values, shape);
    this.frozen.set(name, t);
    return t;
  }

  addBuffer(name: string, shape: number[], values: Float32Array): tf.Variable {
    this.assertNew(name);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), false, `${this.prefix}/${name}`));
    this.buffers.set(name, v);
    return v;
  }

  /** Init values for a weight of this name, from its own seeded stream. */
  initValues(name: string, size: number, fans: Fans): Float32Array {
    return initValues(size, this.init, fans, rngFor(this.seed, name));
  }

  /** Values of a k×k filter of this name, drawn with the spatial init from its own seeded stream. */
  spatialValues(name: string, shape: [number, number, number, number], fans: Fans): Float32Array {
    const init = spatialInitAt(this.spatialInit, shape[0]);
    const out = spatialUnitDraws(shape, init, rngFor(this.seed, name));
    const scale = spatialScale(init, fans);
    for (let i = 0; i < out.length; i++) out[i]! *= scale;
    return out;
  }

  /** Registers one use of the shared bank by a layer; returns a getter for its filter. */
  useShared(name: string, shape: [number, number, number, number], fans: Fans): () => tf.Tensor4D {
    if (!this.shared) throw new Error('shared freeze mode needs a SharedBank');
    this.assertNew(name);
    this.sharedUse += shape.reduce((a, b) => a * b, 1);
    const bank = this.shared;
    const scale = spatialScale(bank.init, fans); // a window of the bank has the bank's distribution
    const slice = () => bank.slice(shape, scale);
    this.sharedSlices.set(name, slice);
    return slice;
  }

  counts(): ParamCounts {
    const size = (ts: Iterable<tf.Tensor>) => [...ts].reduce((n, t) => n + t.size, 0);
    const learnable = size(this.learnable.values());
    const ownFrozen = size(this.frozen.values());
    const frozen = ownFrozen + this.sharedUse;
    return {
      total: learnable + frozen,
      learnable,
      frozen,
      stored: learnable + ownFrozen + (this.shared?.tensor.size ?? 0),
      buffers: size(this.buffers.values()),
    };
  }

  dispose(): void {
    for (const t of [...this.learnable.values(), ...this.frozen.values(), ...this.buffers.values()]) t.dispose();
    this.shared?.tensor.dispose();
  }

  private assertNew(name: string): void {
    if (this.learnable.has(name) || this.frozen.has(name) || this.buffers.has(name) || this.sharedSlices.has(name))
      throw new Error(`duplicate parameter name ${name}`);
  }
}

/**
 * The spatial init for k×k filters: a Gaussian spatial_init's covariance is k²×k² for the model's k,
 * so filters of another size fixed by the architecture (ConvNeXt's 2×2 patch convs) draw i.i.d. with
 * its scheme instead.
 */
export function spatialInitAt(init: SpatialInit, k: number): SpatialInit {
  return init.kind === 'gaussian' && init.covariance.length !== k * k ? { kind: 'iid', scheme: init.scheme } : init;
}
