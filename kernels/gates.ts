/**
 * The gate registry, as data. Every two-qubit gate here is a controlled single-qubit gate, so a gate
 * is fully described by its single-qubit "base" matrix, whether it is controlled, and — for rotations —
 * the exact parameter-shift recipe for d<f>/dθ (shifts and coefficients, as in PennyLane's recipes).
 */
import { tf, Tensor } from './tf';

export type GateName = 'RX' | 'RY' | 'RZ' | 'CRX' | 'CRY' | 'CRZ' | 'H' | 'X' | 'CNOT' | 'CZ';

/** d f/dθ = Σ_j coeff_j · f(θ + shift_j), exact for f an expectation/probability. */
export interface ShiftRule {
  shifts: number[];
  coeffs: number[];
}

export interface GateInfo {
  name: GateName;
  /** Number of qubits: [target] or [control, target]. */
  arity: 1 | 2;
  controlled: boolean;
  parametric: boolean;
  /** Base single-qubit rotation axis, or the fixed base matrix name. */
  base: 'RX' | 'RY' | 'RZ' | 'H' | 'X' | 'Z';
  shiftRule?: ShiftRule;
}

const HALF_PI = Math.PI / 2;
/** Two-term rule for generators with eigenvalues ±1/2. */
export const TWO_TERM: ShiftRule = { shifts: [HALF_PI, -HALF_PI], coeffs: [0.5, -0.5] };
const C_PLUS = (Math.SQRT2 + 1) / (4 * Math.SQRT2);
const C_MINUS = (Math.SQRT2 - 1) / (4 * Math.SQRT2);
/** Four-term rule for controlled rotations (generator eigenvalues 0, ±1/2). */
export const FOUR_TERM: ShiftRule = {
  shifts: [HALF_PI, -HALF_PI, 3 * HALF_PI, -3 * HALF_PI],
  coeffs: [C_PLUS, -C_PLUS, -C_MINUS, C_MINUS],
};

export const GATES: Record<GateName, GateInfo> = {
  RX: { name: 'RX', arity: 1, controlled: false, parametric: true, base: 'RX', shiftRule: TWO_TERM },
  RY: { name: 'RY', arity: 1, controlled: false, parametric: true, base: 'RY', shiftRule: TWO_TERM },
  RZ: { name: 'RZ', arity: 1, controlled: false, parametric: true, base: 'RZ', shiftRule: TWO_TERM },
  CRX: { name: 'CRX', arity: 2, controlled: true, parametric: true, base: 'RX', shiftRule: FOUR_TERM },
  CRY: { name: 'CRY', arity: 2, controlled: true, parametric: true, base: 'RY', shiftRule: FOUR_TERM },
  CRZ: { name: 'CRZ', arity: 2, controlled: true, parametric: true, base: 'RZ', shiftRule: FOUR_TERM },
  H: { name: 'H', arity: 1, controlled: false, parametric: false, base: 'H' },
  X: { name: 'X', arity: 1, controlled: false, parametric: false, base: 'X' },
  CNOT: { name: 'CNOT', arity: 2, controlled: true, parametric: false, base: 'X' },
  CZ: { name: 'CZ', arity: 2, controlled: true, parametric: false, base: 'Z' },
};

export function isGateName(name: string): name is GateName {
  return Object.prototype.hasOwnProperty.call(GATES, name);
}

/** A scalar or a tensor (of per-row values) for one real or imaginary part of a matrix entry. */
export type Part = Tensor | number;
export interface Entry {
  re: Part;
  im: Part;
}
/** A 2×2 matrix [[e00, e01], [e10, e11]] whose entries are constants or per-row tensors. */
export type Matrix2 = [Entry, Entry, Entry, Entry];

const c = (re: number, im = 0): Entry => ({ re, im });
const S = Math.SQRT1_2;

/** Fixed (non-parametric) base matrices. */
const FIXED: Record<'H' | 'X' | 'Z', Matrix2> = {
  H: [c(S), c(S), c(S), c(-S)],
  X: [c(0), c(1), c(1), c(0)],
  Z: [c(1), c(0), c(0), c(-1)],
};

/**
 * Base single-qubit matrix of a gate, batched over angles (a tensor of any shape, one angle per row).
 * RX(a) = [[c, −is], [−is, c]], RY(a) = [[c, −s], [s, c]], RZ(a) = diag(e^{−ia/2}, e^{ia/2}).
 */
export function baseMatrix(info: GateInfo, angle?: Tensor): Matrix2 {
  if (!info.parametric) return FIXED[info.base as 'H' | 'X' | 'Z'];
  if (!angle) throw new Error(`gate ${info.name} needs an angle`);
  const half = tf.mul(angle, 0.5);
  const co = tf.cos(half);
  const si = tf.sin(half);
  switch (info.base) {
    case 'RX': {
      const ms = tf.neg(si);
      return [{ re: co, im: 0 }, { re: 0, im: ms }, { re: 0, im: ms }, { re: co, im: 0 }];
    }
    case 'RY':
      return [{ re: co, im: 0 }, { re: tf.neg(si), im: 0 }, { re: si, im: 0 }, { re: co, im: 0 }];
    case 'RZ':
      return [{ re: co, im: tf.neg(si) }, c(0), c(0), { re: co, im: si }];
    default:
      throw new Error(`no rotation for base ${info.base}`);
  }
}

/** Conjugate (not transpose) of a 2×2 matrix: used on the column side of a density matrix. */
export function conjMatrix(m: Matrix2): Matrix2 {
  return m.map((e) => ({ re: e.re, im: typeof e.im === 'number' ? -e.im : tf.neg(e.im) })) as Matrix2;
}

/** Float64 base matrices for constants (QASM decompositions, reference values): [re, im] pairs. */
export function baseMatrix64(info: GateInfo, angle = 0): [number, number][] {
  const co = Math.cos(angle / 2);
  const si = Math.sin(angle / 2);
  switch (info.base) {
    case 'RX':
      return [[co, 0], [0, -si], [0, -si], [co, 0]];
    case 'RY':
      return [[co, 0], [-si, 0], [si, 0], [co, 0]];
    case 'RZ':
      return [[co, -si], [0, 0], [0, 0], [co, si]];
    default:
      return FIXED[info.base].map((e) => [e.re as number, e.im as number]);
  }
}
