/**
 * SGD with momentum, Nesterov and coupled weight decay, as torch.optim.SGD computes it:
 *   d = g + wd·p;  buf = m·buf + d;  d = nesterov ? d + m·buf : buf;  p -= lr·d
 * Written here (not tf.train.momentum) so the learning rate can change every step and the momentum
 * buffers are plain named tensors a checkpoint can save.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sgdUpdate } from '../backends/fused-ops.js';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

export class Sgd {
  /** Momentum buffer per parameter name. */
  readonly buffers = new Map<string, tf.Variable>();

  constructor(readonly options: SgdOptions) {}

  /**
   * Applies one update to every parameter that has a gradient, as one fused op (SGD_UPDATE): one
   * kernel call for all of them instead of ~8 ops each (cpu-native: one native call; webgpu: two
   * dispatches per parameter, the floor with one-output programs, docs/benchmarks.md).
   */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    const updated: { p: tf.Variable; buf: tf.Variable | null }[] = [];
    const triples: [tf.Tensor, tf.Tensor, tf.Tensor][] = [];
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      let buf: tf.Variable | null = null;
      if (momentum > 0) {
        buf = this.buffers.get(name) ?? null;
        if (!buf) {
          buf = tf.variable(tf.zerosLike(p), false);
          this.buffers.set(name, buf);
        }
      }
      updated.push({ p, buf });
      // Without momentum torch keeps no buffer: any tensor of p's shape serves, its update is unused.
      triples.push([p, g, buf ?? g]);
    }
    if (triples.length === 0) return;
    tf.tidy(() => {
      const out = sgdUpdate(triples, { lr, momentum, nesterov, weightDecay });
      out.forEach(([p, m], i) => {
        updated[i]!.p.assign(p);
        updated[i]!.buf?.assign(m);
      });
    });
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
