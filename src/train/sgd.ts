/**
 * SGD with momentum, Nesterov and coupled weight decay, as torch.optim.SGD computes it:
 *   d = g + wd·p;  buf = m·buf + d;  d = nesterov ? d + m·buf : buf;  p -= lr·d
 * Written here (not tf.train.momentum) so the learning rate can change every step and the momentum
 * buffers are plain named tensors a checkpoint can save.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

export class Sgd {
  /** Momentum buffer per parameter name. */
  readonly buffers = new Map<string, tf.Variable>();

  constructor(readonly options: SgdOptions) {}

  /** Applies one update to every parameter that has a gradient. */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      tf.tidy(() => {
        let d: tf.Tensor = weightDecay > 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
        if (momentum > 0) {
          let buf = this.buffers.get(name);
          if (!buf) {
            buf = tf.variable(tf.zerosLike(p), false);
            this.buffers.set(name, buf);
          }
          const next = tf.add(tf.mul(buf, momentum), d);
          buf.assign(next);
          d = nesterov ? tf.add(d, tf.mul(next, momentum)) : next;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
