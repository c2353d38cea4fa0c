/**
 * Circuit evolution: gate by gate on a batch of vectors (never forming D×D), or as per-row unitaries
 * [R, D, D] built by running the gates on the identity, then applied with one batched complex matMul.
 */
import { applyOneQubit } from './apply';
import { Circuit } from './circuit';
import { Complex, cmatmul } from './complex';
import { GATES, Matrix2, baseMatrix } from './gates';
import { tf, Tensor } from './tf';

/** Per-op base matrices for angles [R, G] (one column per parametric occurrence). */
export function opMatrices(circuit: Circuit, angles: Tensor): Matrix2[] {
  const g = circuit.occurrenceParam.length;
  const cols = g > 0 ? tf.unstack(angles, 1) : [];
  return circuit.ops.map((op, i) => {
    const occ = circuit.opOccurrence[i];
    return baseMatrix(GATES[op.gate], occ >= 0 ? cols[occ] : undefined);
  });
}

/** Apply ops [from, to] (inclusive) with the given matrices to `state` [R, D, X]. */
export function applyOps(circuit: Circuit, mats: Matrix2[], state: Complex, from = 0, to = circuit.ops.length - 1): Complex {
  let s = state;
  for (let i = from; i <= to; i++) {
    const op = circuit.ops[i];
    const info = GATES[op.gate];
    s = info.controlled
      ? applyOneQubit(s, circuit.totalQubits, mats[i], op.qubits[1], op.qubits[0])
      : applyOneQubit(s, circuit.totalQubits, mats[i], op.qubits[0]);
  }
  return s;
}

/** Gate-by-gate evolution of `state` [R, D, X] under the whole circuit. */
export function evolveGates(circuit: Circuit, angles: Tensor, state: Complex): Complex {
  return applyOps(circuit, opMatrices(circuit, angles), state);
}

/** Per-row identity [R, D, D]. */
export function identityBatch(rows: number, dim: number): Complex {
  const eye = tf.tile(tf.reshape(tf.eye(dim), [1, dim, dim]), [rows, 1, 1]);
  return { re: eye, im: tf.zerosLike(eye) };
}

/** Per-row unitaries U [R, D, D] with U[r, i, j] = ⟨i|V(θ_r)|j⟩. */
export function circuitUnitary(circuit: Circuit, angles: Tensor): Complex {
  const rows = angles.shape[0] as number;
  return evolveGates(circuit, angles, identityBatch(rows, circuit.dim));
}

/** Dense evolution: U [R, D, D] applied to state [R, D, X]. */
export function evolveDense(unitary: Complex, state: Complex): Complex {
  return cmatmul(unitary, state);
}

/**
 * Dense unitaries pay D² per sample against roughly (number of gates)·D for gate by gate, and cost
 * R·D² memory: use them while D is small.
 */
export function preferDense(circuit: Circuit, rows: number): boolean {
  const d = circuit.dim;
  return d <= 64 && rows * d * d * 8 < 512 * 2 ** 20 && d <= 4 * Math.max(1, circuit.ops.length);
}
