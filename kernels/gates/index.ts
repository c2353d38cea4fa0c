/**
 * The gate registry. Each gate is one object (`GateEntry`, ./gate.ts) exported by a family file
 * (./rotations.ts, ./fixed.ts); this list is the only place that names them all. Adding a gate: its
 * entry in a new (or family) file, plus one entry below; circuits, evolution, shift rules and the
 * OpenQASM export all read it from here.
 */
import { Tensor, tf } from '../tf';
import { CNOT, CZ, H, X } from './fixed';
import { GateEntry, Matrix2 } from './gate';
import { CRX, CRY, CRZ, RX, RY, RZ } from './rotations';

export { FOUR_TERM, TWO_TERM, defineGate } from './gate';
export type { Entry, GateEntry, Matrix2, Part, QasmInstruction, ShiftRule } from './gate';

export const GATE_LIST = [RX, RY, RZ, CRX, CRY, CRZ, H, X, CNOT, CZ] as const;

export type GateName = (typeof GATE_LIST)[number]['name'];
/** A gate's registry entry (the name the engine used before gates were registry entries). */
export type GateInfo = GateEntry<GateName>;

export const GATES = Object.fromEntries(GATE_LIST.map((g) => [g.name, g])) as { readonly [N in GateName]: GateEntry<N> };

export function isGateName(name: string): name is GateName {
  return Object.prototype.hasOwnProperty.call(GATES, name);
}

/** The gate's single-qubit matrix, batched over angles (see `GateEntry.matrix`). */
export function baseMatrix(info: GateEntry, angle?: Tensor): Matrix2 {
  if (info.parametric && !angle) throw new Error(`gate ${info.name} needs an angle`);
  return info.matrix(angle);
}

/** Float64 single-qubit matrix as [re, im] pairs (QASM decompositions, reference values). */
export function baseMatrix64(info: GateEntry, angle = 0): [number, number][] {
  return info.matrix64(angle);
}

/** Conjugate (not transpose) of a 2×2 matrix: used on the column side of a density matrix. */
export function conjMatrix(m: Matrix2): Matrix2 {
  return m.map((e) => ({ re: e.re, im: typeof e.im === 'number' ? -e.im : tf.neg(e.im) })) as Matrix2;
}
