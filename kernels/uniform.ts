/**
 * Seeded uniform draws, the same numbers as `tf.randomUniform(shape, min, max, 'float32', seed)` (an
 * Alea stream seeded with String(seed), value min + (max − min)·u), made several times faster: tfjs
 * draws each element through a closure and a generic buffer, which took ~10 % of a BPTT step on
 * 784-1000-10 (2.3 M draws per batch). Here the generator state lives in locals of one loop.
 */
import seedrandom from 'seedrandom';
import { tf, Tensor } from './tf';

interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/** `count` draws of tfjs's seeded uniform stream, into a Float32Array. */
export function seededUniformArray(count: number, seed: number | string, min = 0, max = 1): Float32Array {
  // seedrandom's own Alea does the seeding (its Mash hash); the loop below is its `next`.
  const state = (seedrandom.alea(String(seed), { state: true }) as unknown as { state(): AleaState }).state();
  let { c, s0, s1, s2 } = state;
  const range = max - min;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10; // 2^-32
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    out[i] = min + range * s2;
  }
  return out;
}

/** `tf.randomUniform(shape, min, max, 'float32', seed)`, the same values, faster. */
export function seededUniform(shape: number[], seed: number | string, min = 0, max = 1): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(seededUniformArray(count, seed, min, max), shape, 'float32');
}
