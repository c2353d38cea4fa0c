/**
 * OpenQASM export of SQS neurons for real devices (docs/model.md §1): one program runs all T steps with one
 * shot per step. Each step applies the encoding RX(π z) to every IO qubit whose current is
 * positive, then the ansatz gates, measures every IO qubit into the single classical register `c`
 * and resets the IO qubits; the memory qubits are never measured or reset, so they carry the
 * quantum memory from step to step.
 *
 * Register layout. Neuron h of a layer of H neurons (h = 0 for a single neuron) with N IO and N_M
 * memory qubits owns the qubit block q[h·(N+N_M) + j] (j < N: IO qubit j; j ≥ N: memory qubit
 * j − N) and the bit block c[h·T·N + t·N + n] (the spike of its IO qubit n at step t, 0-based).
 * Read as an integer, register c is Σ_i c[i]·2^i; Qiskit prints bitstrings with c[0] on the right.
 *
 * OpenQASM 2.0 uses only gates of the original qelib1.inc (rx ry rz h x cx cz crz u1 u3); qelib1
 * has no crx or cry, so those are decomposed into cx and single-qubit gates (exact, including the
 * relative phase between the control's branches; single-qubit gates acting unconditionally may
 * differ by a global phase, which no measurement sees). OpenQASM 3 uses stdgates.inc, which has
 * crx, cry and crz natively.
 */
import { SqsnnError } from '../kernels/errors';
import { Circuit, GateOp } from '../kernels/circuit';
import { GATES, QasmInstruction, isGateName } from '../kernels/gates';

export class QasmError extends SqsnnError {}

export type QasmVersion = 2 | 3;

/** One neuron to export: a circuit, its angles (in circuit.paramNames order) and currents [T][N]. */
export interface QasmNeuron {
  circuit: Circuit;
  theta: number[];
  currents: number[][];
}

/** A gate-level instruction of the target language (before formatting). */
export type QasmGate = QasmInstruction;

export interface QasmOptions {
  version?: QasmVersion;
  /** Leading comment lines describing the layout (default true). */
  comments?: boolean;
}

const HALF_PI = Math.PI / 2;

/**
 * The gates of the target language implementing one circuit op, with register indices shifted by
 * `offset`: the gate's OpenQASM name from its registry entry (kernels/gates/), or in OpenQASM 2 its
 * decomposition into qelib1.inc gates when qelib1 lacks it.
 */
export function gateInstructions(op: GateOp, angle: number | undefined, version: QasmVersion, offset = 0): QasmGate[] {
  if (!isGateName(op.gate)) throw new QasmError(`gate ${(op as GateOp).gate} has no OpenQASM translation`);
  const gate = GATES[op.gate];
  const q = op.qubits.map((x) => x + offset);
  if (!gate.parametric) return [{ name: gate.qasm.name, params: [], qubits: q }];
  if (angle === undefined || !Number.isFinite(angle))
    throw new QasmError(`gate ${op.gate} on qubits ${op.qubits.join(',')} needs a finite angle, got ${angle}`);
  if (version === 2 && gate.qasm.qelib1) return gate.qasm.qelib1(angle, q);
  return [{ name: gate.qasm.name, params: [angle], qubits: q }];
}

/**
 * A real number as an OpenQASM 2/3 literal: ±π/2 and ±π by name, otherwise the shortest decimal
 * that round-trips, always with a decimal point before any exponent (OpenQASM 2 requires one).
 */
export function formatAngle(x: number): string {
  if (!Number.isFinite(x)) throw new QasmError(`angle ${x} is not finite`);
  if (x === 0) return '0';
  const named: [number, string][] = [[HALF_PI, 'pi/2'], [Math.PI, 'pi']];
  for (const [v, s] of named) {
    if (x === v) return s;
    if (x === -v) return `-${s}`;
  }
  let s = String(Math.abs(x));
  if (s.includes('e') && !s.includes('.')) s = s.replace('e', '.0e');
  return x < 0 ? `-${s}` : s;
}

function formatGate(g: QasmGate): string {
  const params = g.params.length ? `(${g.params.map(formatAngle).join(',')})` : '';
  return `${g.name}${params} ${g.qubits.map((i) => `q[${i}]`).join(',')};`;
}

/** Validate a neuron for export: angles, currents and a shared step count. */
function checkNeuron(x: QasmNeuron, which: string, steps?: number): void {
  const { circuit } = x;
  if (x.theta.length !== circuit.paramNames.length)
    throw new QasmError(`${which}: ${x.theta.length} angles given but the circuit has ${circuit.paramNames.length} parameters (${circuit.paramNames.join(', ')})`);
  x.theta.forEach((v, k) => {
    if (!Number.isFinite(v)) throw new QasmError(`${which}: parameter '${circuit.paramNames[k]}' is not finite (${v})`);
  });
  if (!Array.isArray(x.currents) || x.currents.length === 0) throw new QasmError(`${which}: currents must have at least one step`);
  if (steps !== undefined && x.currents.length !== steps)
    throw new QasmError(`${which}: ${x.currents.length} steps of currents, but the other neurons have ${steps}; one program runs all neurons for the same T`);
  x.currents.forEach((row, t) => {
    if (!Array.isArray(row) || row.length !== circuit.ioQubits)
      throw new QasmError(`${which}: currents[${t}] must have ${circuit.ioQubits} entries (one per IO qubit)`);
    row.forEach((z, n) => {
      if (typeof z !== 'number' || !Number.isFinite(z)) throw new QasmError(`${which}: currents[${t}][${n}] is not a finite number (${z})`);
    });
  });
}

/** Layout of the exported program (for users and for the likelihood of layer records). */
export interface QasmLayout {
  neurons: number;
  steps: number;
  /** Per neuron: IO qubits, memory qubits, first register qubit and first classical bit. */
  blocks: { ioQubits: number; memoryQubits: number; qubitOffset: number; bitOffset: number }[];
  totalQubits: number;
  totalBits: number;
}

export function qasmLayout(neurons: QasmNeuron[]): QasmLayout {
  const steps = neurons[0].currents.length;
  let q = 0;
  let b = 0;
  const blocks = neurons.map((x) => {
    const blk = { ioQubits: x.circuit.ioQubits, memoryQubits: x.circuit.memoryQubits, qubitOffset: q, bitOffset: b };
    q += x.circuit.totalQubits;
    b += steps * x.circuit.ioQubits;
    return blk;
  });
  return { neurons: neurons.length, steps, blocks, totalQubits: q, totalBits: b };
}

/**
 * One OpenQASM program for a neuron, or a whole layer (one qubit block and one bit block per
 * neuron), over all T steps.
 */
export function exportQasm(neuronOrLayer: QasmNeuron | QasmNeuron[], opts: QasmOptions = {}): string {
  const version = opts.version ?? 2;
  if (version !== 2 && version !== 3) throw new QasmError(`OpenQASM version must be 2 or 3, got ${version}`);
  const neurons = Array.isArray(neuronOrLayer) ? neuronOrLayer : [neuronOrLayer];
  if (neurons.length === 0) throw new QasmError('nothing to export: no neurons');
  const steps = neurons[0].currents?.length;
  neurons.forEach((x, h) => checkNeuron(x, neurons.length > 1 ? `neuron ${h}` : 'neuron', steps));
  const layout = qasmLayout(neurons);
  const lines: string[] = [];
  if (version === 2) lines.push('OPENQASM 2.0;', 'include "qelib1.inc";');
  else lines.push('OPENQASM 3.0;', 'include "stdgates.inc";');
  if (opts.comments !== false) {
    lines.push(`// SQSNN export: ${neurons.length} SQS neuron(s), T = ${steps} steps, one shot per step.`);
    layout.blocks.forEach((b, h) => {
      const range = (a: number, n: number) => (n === 1 ? `q[${a}]` : `q[${a}..${a + n - 1}]`);
      const mem = b.memoryQubits ? range(b.qubitOffset + b.ioQubits, b.memoryQubits) : 'none';
      const off = b.bitOffset ? `${b.bitOffset} + ` : '';
      const bit = b.ioQubits === 1 ? `c[${off}t]` : `c[${off}${b.ioQubits}*t + n]`;
      const what = b.ioQubits === 1 ? 'spike at step t' : 'spike of IO qubit n at step t';
      lines.push(`// neuron ${h}: IO ${range(b.qubitOffset, b.ioQubits)}, memory ${mem}; ${what} (0-based) -> ${bit}`);
    });
    lines.push('// IO qubits are measured and reset every step; memory qubits are never measured or reset.');
  }
  if (version === 2) lines.push(`qreg q[${layout.totalQubits}];`, `creg c[${layout.totalBits}];`);
  else lines.push(`qubit[${layout.totalQubits}] q;`, `bit[${layout.totalBits}] c;`);
  for (let t = 0; t < steps; t++) {
    if (opts.comments !== false) lines.push(`// step ${t}`);
    neurons.forEach((x, h) => {
      const blk = layout.blocks[h];
      const n = x.circuit.ioQubits;
      const io = Array.from({ length: n }, (_, i) => blk.qubitOffset + i);
      x.currents[t].forEach((z, i) => {
        if (z > 0) lines.push(formatGate({ name: 'rx', params: [Math.PI * z], qubits: [io[i]] }));
      });
      x.circuit.ops.forEach((op) => {
        const angle = op.param !== undefined ? x.theta[x.circuit.paramNames.indexOf(op.param)] : undefined;
        for (const g of gateInstructions(op, angle, version, blk.qubitOffset)) lines.push(formatGate(g));
      });
      io.forEach((qi, i) => {
        const bit = blk.bitOffset + t * n + i;
        lines.push(version === 2 ? `measure q[${qi}] -> c[${bit}];` : `c[${bit}] = measure q[${qi}];`);
      });
      for (const qi of io) lines.push(`reset q[${qi}];`);
    });
  }
  return lines.join('\n') + '\n';
}
