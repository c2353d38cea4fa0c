/**
 * Rotations RX, RY, RZ and their controlled forms: RX(a) = [[c, −is], [−is, c]],
 * RY(a) = [[c, −s], [s, c]], RZ(a) = diag(e^{−ia/2}, e^{ia/2}), with c = cos(a/2), s = sin(a/2).
 */
import { tf, Tensor } from '../tf';
import { FOUR_TERM, GateEntry, Matrix2, QasmInstruction, TWO_TERM, constant, defineGate } from './gate';

type Axis = 'X' | 'Y' | 'Z';

function halfAngle(axis: Axis, angle: Tensor | undefined): { co: Tensor; si: Tensor } {
  if (!angle) throw new Error(`a rotation about ${axis} needs an angle`);
  const half = tf.mul(angle, 0.5);
  return { co: tf.cos(half), si: tf.sin(half) };
}

const MATRIX: Record<Axis, Pick<GateEntry, 'matrix' | 'matrix64'>> = {
  X: {
    matrix: (angle) => {
      const { co, si } = halfAngle('X', angle);
      const ms = tf.neg(si);
      return [{ re: co, im: 0 }, { re: 0, im: ms }, { re: 0, im: ms }, { re: co, im: 0 }] as Matrix2;
    },
    matrix64: (a = 0) => [[Math.cos(a / 2), 0], [0, -Math.sin(a / 2)], [0, -Math.sin(a / 2)], [Math.cos(a / 2), 0]],
  },
  Y: {
    matrix: (angle) => {
      const { co, si } = halfAngle('Y', angle);
      return [{ re: co, im: 0 }, { re: tf.neg(si), im: 0 }, { re: si, im: 0 }, { re: co, im: 0 }] as Matrix2;
    },
    matrix64: (a = 0) => [[Math.cos(a / 2), 0], [-Math.sin(a / 2), 0], [Math.sin(a / 2), 0], [Math.cos(a / 2), 0]],
  },
  Z: {
    matrix: (angle) => {
      const { co, si } = halfAngle('Z', angle);
      return [{ re: co, im: tf.neg(si) }, constant(0), constant(0), { re: co, im: si }] as Matrix2;
    },
    matrix64: (a = 0) => [[Math.cos(a / 2), -Math.sin(a / 2)], [0, 0], [0, 0], [Math.cos(a / 2), Math.sin(a / 2)]],
  },
};

const HALF_PI = Math.PI / 2;

export const RX = defineGate({ name: 'RX', arity: 1, controlled: false, parametric: true, shiftRule: TWO_TERM, ...MATRIX.X, qasm: { name: 'rx' } });
export const RY = defineGate({ name: 'RY', arity: 1, controlled: false, parametric: true, shiftRule: TWO_TERM, ...MATRIX.Y, qasm: { name: 'ry' } });
export const RZ = defineGate({ name: 'RZ', arity: 1, controlled: false, parametric: true, shiftRule: TWO_TERM, ...MATRIX.Z, qasm: { name: 'rz' } });

export const CRX = defineGate({
  name: 'CRX', arity: 2, controlled: true, parametric: true, shiftRule: FOUR_TERM, ...MATRIX.X,
  qasm: {
    name: 'crx',
    // Qiskit's definition of crx in terms of the original qelib1 gates.
    qelib1: (a, [c, t]): QasmInstruction[] => [
      { name: 'u1', params: [HALF_PI], qubits: [t] },
      { name: 'cx', params: [], qubits: [c, t] },
      { name: 'u3', params: [-a / 2, 0, 0], qubits: [t] },
      { name: 'cx', params: [], qubits: [c, t] },
      { name: 'u3', params: [a / 2, -HALF_PI, 0], qubits: [t] },
    ],
  },
});
export const CRY = defineGate({
  name: 'CRY', arity: 2, controlled: true, parametric: true, shiftRule: FOUR_TERM, ...MATRIX.Y,
  qasm: {
    name: 'cry',
    // X·RY(−a/2)·X = RY(a/2): the target turns by a when the control is 1, by 0 otherwise.
    qelib1: (a, [c, t]): QasmInstruction[] => [
      { name: 'ry', params: [a / 2], qubits: [t] },
      { name: 'cx', params: [], qubits: [c, t] },
      { name: 'ry', params: [-a / 2], qubits: [t] },
      { name: 'cx', params: [], qubits: [c, t] },
    ],
  },
});
// qelib1's crz is exactly the controlled RZ.
export const CRZ = defineGate({ name: 'CRZ', arity: 2, controlled: true, parametric: true, shiftRule: FOUR_TERM, ...MATRIX.Z, qasm: { name: 'crz' } });
