/**
 * Applying one (optionally controlled) 2×2 operator to a batch of vectors [R, D, X]: R rows (neurons,
 * or neurons × parameter shifts), D = 2^n amplitudes with qubit q at stride 2^q, X trailing columns
 * (samples, or the D columns of a unitary being built). Entries are constants or per-row tensors [R].
 * The operator need not be unitary: Kraus operators of noise channels use the same path.
 */
import { Complex, cadd, cconcat, cmul, creshape, cslice } from './complex';
import { Entry, Matrix2 } from './gates';
import { tf, Tensor } from './tf';

function isZero(e: Entry): boolean {
  return e.re === 0 && e.im === 0;
}

/** Broadcast a per-row part to rank `rank` (rows on axis 0). */
function part(p: Tensor | number, rank: number): Tensor | number {
  if (typeof p === 'number') return p;
  const shape = new Array(rank).fill(1);
  shape[0] = p.shape[0] as number;
  return tf.reshape(p, shape);
}

/** entry · s, skipping work for zero, real or imaginary constants. */
function entryTimes(e: Entry, s: Complex, rank: number): Complex | null {
  if (isZero(e)) return null;
  const re = part(e.re, rank);
  const im = part(e.im, rank);
  if (im === 0) {
    if (re === 1) return s;
    return { re: tf.mul(s.re, re), im: tf.mul(s.im, re) };
  }
  if (re === 0) {
    // i·im·(a + ib) = −im·b + i·im·a
    return { re: tf.neg(tf.mul(s.im, im)), im: tf.mul(s.re, im) };
  }
  return cmul({ re: re as Tensor, im: im as Tensor } as Complex, s);
}

function combine(a: Complex | null, b: Complex | null, like: Complex): Complex {
  if (a && b) return cadd(a, b);
  if (a) return a;
  if (b) return b;
  return { re: tf.zerosLike(like.re), im: tf.zerosLike(like.im) };
}

/** new0 = m00 s0 + m01 s1, new1 = m10 s0 + m11 s1 along `axis` of size 2. */
function apply2(m: Matrix2, s: Complex, axis: number): Complex {
  const shape = s.re.shape as number[];
  const rank = shape.length;
  const size = shape.slice();
  size[axis] = 1;
  const zero = new Array(rank).fill(0);
  const one = zero.slice();
  one[axis] = 1;
  const s0 = cslice(s, zero, size);
  const s1 = cslice(s, one, size);
  const n0 = combine(entryTimes(m[0], s0, rank), entryTimes(m[1], s1, rank), s0);
  const n1 = combine(entryTimes(m[2], s0, rank), entryTimes(m[3], s1, rank), s1);
  return cconcat([n0, n1], axis);
}

/**
 * Apply `m` to qubit `target` of `state` [R, D, X]; with `control`, only where that qubit is 1.
 */
export function applyOneQubit(state: Complex, nQubits: number, m: Matrix2, target: number, control?: number): Complex {
  const [r, d, x] = state.re.shape as number[];
  if (d !== 2 ** nQubits) throw new Error(`state dimension ${d} does not match ${nQubits} qubits`);
  if (control === undefined) {
    const v = creshape(state, [r, d / 2 ** (target + 1), 2, 2 ** target * x]);
    return creshape(apply2(m, v, 2), [r, d, x]);
  }
  // Controlled: apply to the whole state and keep the result where the control bit is 1. This uses
  // only the rank-4 path above; rank-6 slices run element by element in tfjs (100× slower).
  const applied = applyOneQubit(state, nQubits, m, target);
  const mask = tf.tensor3d(controlMask(d, control), [1, d, 1]);
  return {
    re: tf.add(state.re, tf.mul(mask, tf.sub(applied.re, state.re))),
    im: tf.add(state.im, tf.mul(mask, tf.sub(applied.im, state.im))),
  };
}

/** 1 where bit `control` of the basis index is set. */
function controlMask(d: number, control: number): Float32Array {
  const m = new Float32Array(d);
  for (let i = 0; i < d; i++) m[i] = (i >> control) & 1;
  return m;
}

