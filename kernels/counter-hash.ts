/**
 * A counter-based random stream: u = hash(seed, i) in [0, 1), a multiple of 2^−24 (exact in float32).
 * Any element can be drawn on its own, in any order and on any thread, and the same (seed, i) always
 * gives the same u — the SQS step kernels draw their outcomes this way (also the SIMD one, in
 * kernels/sqs-step/simd/assembly/step.ts), and rate coding its spikes. No dependencies: the worker
 * threads load it (and the SIMD module, also dependency-free).
 */
import { runBernoulli } from './sqs-step/simd';
const TWO_M24 = 5.960464477539063e-8;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h;
}

/** The two hash keys of an integer seed. */
export function streamKeys(seed: number): [number, number] {
  const lo = seed | 0;
  const hi = Math.floor(seed / 4294967296) | 0;
  const k1 = mix(mix(lo ^ 0x243f6a88) + hi);
  const k2 = mix(k1 ^ 0x85a308d3);
  return [k1 | 0, k2 | 0];
}

/** u = hash(seed, idx) in [0, 1), a multiple of 2^−24 (exact in float32). */
export function uniformAt(k1: number, k2: number, idx: number): number {
  let h = (idx ^ k1) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  h = (h + k2) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 8) * TWO_M24;
}

export function fillUniforms(out: Float32Array, k1: number, k2: number, start: number, count: number): void {
  for (let i = 0; i < count; i++) out[i] = uniformAt(k1, k2, start + i);
}

/**
 * Bernoulli draws against probabilities repeated `repeats` times: out[r·n + j] = 1 when the
 * (r·n + j)-th draw of the stream of `seed` is below prob[j], else 0. Rate coding uses it: a serial
 * generator (Alea, ~7 ns a draw) cost a sixth of a local-rule training step; the hash in JavaScript
 * ~5 ns, in WebAssembly SIMD (where available) ~0.5 ns.
 */
export function seededBernoulli(prob: Float32Array, repeats: number, seed: number): Float32Array {
  const n = prob.length;
  if (repeats * n > 2 ** 32) throw new RangeError(`seededBernoulli: ${repeats * n} draws exceed the 2^32 counters of one stream`);
  const [k1, k2] = streamKeys(seed);
  const out = new Float32Array(repeats * n);
  if (runBernoulli(prob, out, repeats, k1, k2)) return out; // the same draws, four per hash (SIMD)
  for (let r = 0, i = 0; r < repeats; r++) for (let j = 0; j < n; j++, i++) if (uniformAt(k1, k2, i) < prob[j]) out[i] = 1;
  return out;
}
