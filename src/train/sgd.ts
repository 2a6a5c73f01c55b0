/**
 * SGD with momentum, Nesterov and coupled weight decay, as torch.optim.SGD computes it:
 *   d = g + wd·p;  buf = m·buf + d;  d = nesterov ? d + m·buf : buf;  p -= lr·d
 * Written here (not tf.train.momentum) so the learning rate can change every step and the momentum
 * buffers are plain named tensors a checkpoint can save.
 */
import * as tf from '@tensorflow/tfjs';
import { SGD_UPDATE } from '../backends/fused-ops.js';

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
    // One fused kernel for all parameters where the backend has it (cpu-native); without momentum
    // there are no buffers to update, and the composite loop below allocates none.
    if (momentum > 0 && tf.getKernel(SGD_UPDATE, tf.getBackend())) return this.fusedStep(params, grads, lr);
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      tf.tidy(() => {
        let d: tf.Tensor = weightDecay > 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
        if (momentum > 0) {
          const buf = this.buffer(name, p);
          const next = tf.add(tf.mul(buf, momentum), d);
          buf.assign(next);
          d = nesterov ? tf.add(d, tf.mul(next, momentum)) : next;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    }
  }

  private buffer(name: string, p: tf.Variable): tf.Variable {
    let buf = this.buffers.get(name);
    if (!buf) {
      buf = tf.variable(tf.zerosLike(p), false);
      this.buffers.set(name, buf);
    }
    return buf;
  }

  private fusedStep(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    const updated: [tf.Variable, tf.Variable][] = [];
    const inputs: tf.Tensor[] = [];
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const buf = this.buffer(name, p);
      updated.push([p, buf]);
      inputs.push(p, g, buf);
    }
    tf.tidy(() => {
      const attrs = { n: updated.length, lr, momentum, nesterov, weightDecay };
      const out = tf.engine().runKernel(SGD_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      updated.forEach(([p, buf], i) => {
        p.assign(out[2 * i]!);
        buf.assign(out[2 * i + 1]!);
      });
    });
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
