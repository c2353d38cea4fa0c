/** Gates without an angle: H, X and the controlled X (CNOT) and Z (CZ). */
import { Matrix2, constant, defineGate } from './gate';

const S = Math.SQRT1_2;

/** A fixed matrix, as tensors' constants and as float64 pairs. */
function fixed(m: Matrix2) {
  return { matrix: () => m, matrix64: () => m.map((e) => [e.re as number, e.im as number] as [number, number]) };
}

const HADAMARD = fixed([constant(S), constant(S), constant(S), constant(-S)]);
const PAULI_X = fixed([constant(0), constant(1), constant(1), constant(0)]);
const PAULI_Z = fixed([constant(1), constant(0), constant(0), constant(-1)]);

export const H = defineGate({ name: 'H', arity: 1, controlled: false, parametric: false, ...HADAMARD, qasm: { name: 'h' } });
export const X = defineGate({ name: 'X', arity: 1, controlled: false, parametric: false, ...PAULI_X, qasm: { name: 'x' } });
export const CNOT = defineGate({ name: 'CNOT', arity: 2, controlled: true, parametric: false, ...PAULI_X, qasm: { name: 'cx' } });
export const CZ = defineGate({ name: 'CZ', arity: 2, controlled: true, parametric: false, ...PAULI_Z, qasm: { name: 'cz' } });
