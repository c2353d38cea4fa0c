/**
 * Parameter-shift rules as data: for every parametric gate occurrence, its shifts and coefficients.
 * A "shift table" turns a circuit into S shifted copies (a leading shift axis) and a coefficient
 * matrix C [K, S] such that ∂p/∂θ = C · p(shifted), summed over the occurrences of each parameter.
 */
import { Circuit } from './circuit';
import { GATES, TWO_TERM } from './gates';
import { tf, Tensor } from './tf';
import { seededUniform } from './uniform';

export interface ShiftTable {
  /** Number of shifted circuits S. */
  size: number;
  /** Angle offsets [S, G]: row s shifts one occurrence. */
  offsets: Float32Array;
  /** Coefficients [K, S]. */
  coeffs: Float32Array;
}

export type ShiftMode = 'exact' | 'two-term';

/**
 * The table for a circuit. 'exact' uses each gate's own rule (four terms for controlled rotations);
 * 'two-term' forces the two-term rule everywhere — wrong for controlled rotations in general, kept
 * so tests can show the difference.
 */
export function shiftTable(circuit: Circuit, mode: ShiftMode = 'exact'): ShiftTable {
  const g = circuit.occurrenceParam.length;
  const k = circuit.paramNames.length;
  const rows: { occ: number; shift: number; coeff: number }[] = [];
  circuit.ops.forEach((op, i) => {
    const occ = circuit.opOccurrence[i];
    if (occ < 0) return;
    const rule = mode === 'two-term' ? TWO_TERM : (GATES[op.gate].shiftRule as typeof TWO_TERM);
    rule.shifts.forEach((s, j) => rows.push({ occ, shift: s, coeff: rule.coeffs[j] }));
  });
  const offsets = new Float32Array(rows.length * g);
  const coeffs = new Float32Array(k * rows.length);
  rows.forEach((r, s) => {
    offsets[s * g + r.occ] = r.shift;
    coeffs[circuit.occurrenceParam[r.occ] * rows.length + s] = r.coeff;
  });
  return { size: rows.length, offsets, coeffs };
}

/** Shifted angles [S·H, G] (shift-major) from angles [H, G]. */
export function shiftedAngles(table: ShiftTable, angles: Tensor): Tensor {
  const [h, g] = angles.shape as number[];
  const off = tf.reshape(tf.tensor2d(table.offsets, [table.size, g]), [table.size, 1, g]);
  return tf.reshape(tf.add(tf.reshape(angles, [1, h, g]), off), [table.size * h, g]);
}

/** ∂p/∂θ [H, K, B] from the probabilities of the taken outcome under each shift, pS [S, H, B]. */
export function combineShifts(table: ShiftTable, k: number, pS: Tensor): Tensor {
  const [s, h, b] = pS.shape as number[];
  const grad = tf.matMul(tf.tensor2d(table.coeffs, [k, s]), tf.reshape(pS, [s, h * b]));
  return tf.transpose(tf.reshape(grad, [k, h, b]), [1, 0, 2]);
}

/** Encoding-angle shifts: [2N, H, N, B] angles φ ± π/2 on one IO qubit at a time (+ then −). */
export function encodingShifts(phi: Tensor): Tensor {
  const [h, n, b] = phi.shape as number[];
  const off = new Float32Array(2 * n * n);
  for (let q = 0; q < n; q++) {
    off[q * n + q] = Math.PI / 2;
    off[(n + q) * n + q] = -Math.PI / 2;
  }
  return tf.add(tf.reshape(phi, [1, h, n, b]), tf.reshape(tf.tensor2d(off, [2 * n, n]), [2 * n, 1, n, 1]));
}

/**
 * Finite-shot estimate of probabilities p (any shape): the frequency of `shots` Bernoulli(p) draws,
 * as hardware would give. shots = 0 returns p.
 */
export function shotEstimate(p: Tensor, shots: number, seed: number): Tensor {
  if (shots <= 0) return p;
  const u = seededUniform([shots, ...p.shape], seed);
  return tf.div(tf.sum(tf.cast(tf.less(u, tf.expandDims(p, 0)), 'float32'), 0), shots);
}
