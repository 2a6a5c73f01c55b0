/**
 * Weight initialisation, computed in JavaScript from a seeded stream per parameter name so that a
 * seed gives the same weights on every backend and regardless of construction order.
 * kaiming_uniform is PyTorch's Conv2d/Linear default (a = √5 → U(±1/√fan_in)), as the authors ran it.
 */
import type { InitScheme } from '../config/schema.js';
import type { Rng } from '../random.js';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

/** The init as "base draw × scale": uniform schemes draw U(-1, 1), normal ones N(0, 1). */
export function initScale(scheme: InitScheme, { fanIn, fanOut }: Fans): { distribution: 'uniform' | 'normal'; scale: number } {
  switch (scheme) {
    case 'kaiming_uniform':
      return { distribution: 'uniform', scale: 1 / Math.sqrt(fanIn) }; // gain √(2/(1+5)) · √(3/fan_in)
    case 'kaiming_normal':
      return { distribution: 'normal', scale: Math.sqrt(2 / fanIn) }; // ReLU gain, fan_in mode
    case 'xavier_uniform':
      return { distribution: 'uniform', scale: Math.sqrt(6 / (fanIn + fanOut)) };
    case 'xavier_normal':
      return { distribution: 'normal', scale: Math.sqrt(2 / (fanIn + fanOut)) };
  }
}

/** `size` unit draws (U(-1,1) or N(0,1)) from `rng`. */
export function unitDraws(size: number, distribution: 'uniform' | 'normal', rng: Rng): Float32Array {
  const out = new Float32Array(size);
  if (distribution === 'uniform') {
    for (let i = 0; i < size; i++) out[i] = 2 * rng() - 1;
  } else {
    for (let i = 0; i < size; i += 2) {
      // Box–Muller gives two independent normals per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(1 - rng()));
      const t = 2 * Math.PI * rng();
      out[i] = r * Math.cos(t);
      if (i + 1 < size) out[i + 1] = r * Math.sin(t);
    }
  }
  return out;
}

export function initValues(size: number, scheme: InitScheme, fans: Fans, rng: Rng): Float32Array {
  const { distribution, scale } = initScale(scheme, fans);
  const out = unitDraws(size, distribution, rng);
  for (let i = 0; i < size; i++) out[i]! *= scale;
  return out;
}

/** PyTorch's default bias init for Conv2d/Linear: U(±1/√fan_in), whatever the weight scheme. */
export function biasValues(size: number, fanIn: number, rng: Rng): Float32Array {
  const out = unitDraws(size, 'uniform', rng);
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < size; i++) out[i]! *= bound;
  return out;
}
