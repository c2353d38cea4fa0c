/**
 * What a gate is to the engine, as data: its qubits, its single-qubit matrix (every two-qubit gate
 * here is a controlled single-qubit gate), its exact parameter-shift recipe (shifts and
 * coefficients, as PennyLane's gradient recipes) and its OpenQASM name. One object per gate; the
 * registry in ./index.ts lists them.
 */
import { tf, Tensor } from '../tf';

/** d f/dθ = Σ_j coeff_j · f(θ + shift_j), exact for f an expectation/probability. */
export interface ShiftRule {
  shifts: number[];
  coeffs: number[];
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

/** A scalar or a tensor (of per-row values) for one real or imaginary part of a matrix entry. */
export type Part = Tensor | number;
export interface Entry {
  re: Part;
  im: Part;
}
/** A 2×2 matrix [[e00, e01], [e10, e11]] whose entries are constants or per-row tensors. */
export type Matrix2 = [Entry, Entry, Entry, Entry];

/** One instruction of an OpenQASM program: a gate name, its angles and register indices. */
export interface QasmInstruction {
  name: string;
  params: number[];
  /** Register indices: [target] or [control, target]. */
  qubits: number[];
}

export interface GateEntry<N extends string = string> {
  readonly name: N;
  /** Number of qubits: [target] or [control, target]. */
  readonly arity: 1 | 2;
  /** Two-qubit gates act with `matrix` on the target when the control is 1. */
  readonly controlled: boolean;
  /** Takes one angle θ (named by the circuit's `param`). */
  readonly parametric: boolean;
  /** Exact d<f>/dθ by parameter shifts (parametric gates). */
  readonly shiftRule?: ShiftRule;
  /** The single-qubit (target) matrix, batched over angles: a tensor of any shape, one angle per row. */
  matrix(angle?: Tensor): Matrix2;
  /** The same matrix in float64, as [re, im] pairs (QASM checks, reference values). */
  matrix64(angle?: number): [number, number][];
  /**
   * OpenQASM: `name` as in OpenQASM 3's stdgates.inc (same phase convention as `matrix` up to a
   * global phase, exactly for controlled gates); `qelib1` decomposes the gate into OpenQASM 2's
   * qelib1.inc gates when that library lacks it (given the angle and the [control, target] indices).
   */
  readonly qasm: { name: string; qelib1?: (angle: number, qubits: number[]) => QasmInstruction[] };
}

/** Keeps the gate's literal name in its type, so the registry can derive `GateName`. */
export function defineGate<const N extends string>(entry: GateEntry<N>): GateEntry<N> {
  return entry;
}

export const constant = (re: number, im = 0): Entry => ({ re, im });
