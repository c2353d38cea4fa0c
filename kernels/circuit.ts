/**
 * Circuits as data. A circuit acts on N IO qubits (indices 0..N−1) and N_M memory qubits
 * (N..N+N_M−1); it is a list of layers of gates, applied in order after the encoding. Basis index
 * i = Σ_q b_q 2^q, so the IO outcome y is the low N bits and the memory index the high bits.
 */
import { SqsnnError } from './errors';
import { GATES, GateName, isGateName } from './gates';
import { tf, Tensor } from './tf';

export interface GateOp {
  gate: GateName;
  /** [target] for one-qubit gates, [control, target] for controlled gates. */
  qubits: number[];
  /** Parameter name, for rotations. */
  param?: string;
}

export interface CircuitSpec {
  ioQubits: number;
  memoryQubits: number;
  /** Gate layers; noise channels (density mode) act after each layer. */
  layers: GateOp[][];
}

/** A validated circuit with the bookkeeping kernels need. */
export interface Circuit extends CircuitSpec {
  totalQubits: number;
  dim: number;
  ops: GateOp[];
  /** Index of the last op of each layer in `ops` (an empty layer repeats the previous index). */
  layerEnds: number[];
  /** Distinct parameter names, in order of first appearance: the columns of θ. */
  paramNames: string[];
  /** For each parametric op (in order), the column of θ it reads. */
  occurrenceParam: number[];
  /** For each op, its occurrence index among parametric ops, or −1. */
  opOccurrence: number[];
}

export class CircuitError extends SqsnnError {}

/** Largest register a neuron may have; beyond this even one amplitude vector per neuron is huge. */
export const MAX_TOTAL_QUBITS = 24;
/** Layers of a generated ansatz: far beyond any trainable depth, small enough to build at once. */
export const MAX_ANSATZ_LAYERS = 10_000;

/** Check qubit counts before anything of the register's size (gate lists, states) is built. */
export function checkRegister(n: number, m: number): void {
  if (!Number.isInteger(n) || n < 1) throw new CircuitError(`ioQubits must be an integer ≥ 1, got ${n}`);
  if (!Number.isInteger(m) || m < 0) throw new CircuitError(`memoryQubits must be an integer ≥ 0, got ${m}`);
  if (n + m > MAX_TOTAL_QUBITS)
    throw new CircuitError(`a register of ${n} + ${m} = ${n + m} qubits is too large for memory (at most ${MAX_TOTAL_QUBITS})`);
}

export function compileCircuit(spec: CircuitSpec): Circuit {
  const { ioQubits: n, memoryQubits: m } = spec;
  checkRegister(n, m);
  const total = n + m;
  if (!Array.isArray(spec.layers)) throw new CircuitError('circuit layers must be an array');
  const ops: GateOp[] = [];
  const layerEnds: number[] = [];
  const paramNames: string[] = [];
  const occurrenceParam: number[] = [];
  const opOccurrence: number[] = [];
  spec.layers.forEach((layer, li) => {
    if (!Array.isArray(layer)) throw new CircuitError(`layer ${li} must be an array of gates`);
    for (const op of layer) {
      const where = `gate ${ops.length} (${JSON.stringify(op)})`;
      if (!op || typeof op.gate !== 'string' || !isGateName(op.gate))
        throw new CircuitError(`${where}: unknown gate; known gates: ${Object.keys(GATES).join(' ')}`);
      const info = GATES[op.gate];
      if (!Array.isArray(op.qubits) || op.qubits.length !== info.arity)
        throw new CircuitError(`${where}: ${op.gate} takes ${info.arity} qubit index(es)`);
      for (const q of op.qubits)
        if (!Number.isInteger(q) || q < 0 || q >= total)
          throw new CircuitError(`${where}: qubit index ${q} out of range 0..${total - 1}`);
      if (info.arity === 2 && op.qubits[0] === op.qubits[1])
        throw new CircuitError(`${where}: control and target must differ`);
      if (info.parametric) {
        if (typeof op.param !== 'string' || op.param.length === 0)
          throw new CircuitError(`${where}: ${op.gate} needs a parameter name ("param")`);
        let k = paramNames.indexOf(op.param);
        if (k < 0) k = paramNames.push(op.param) - 1;
        opOccurrence.push(occurrenceParam.length);
        occurrenceParam.push(k);
      } else {
        if (op.param !== undefined) throw new CircuitError(`${where}: ${op.gate} takes no parameter`);
        opOccurrence.push(-1);
      }
      ops.push({ gate: op.gate, qubits: op.qubits.slice(), ...(op.param !== undefined ? { param: op.param } : {}) });
    }
    layerEnds.push(ops.length - 1);
  });
  return {
    ioQubits: n,
    memoryQubits: m,
    layers: spec.layers,
    totalQubits: total,
    dim: 2 ** total,
    ops,
    // An empty layer is idle time: noise still acts after it.
    layerEnds,
    paramNames,
    occurrenceParam,
    opOccurrence,
  };
}

/**
 * The paper's neuron (N = 1, N_M = 1): CRX(ent) memory→IO, then RX(in) on IO and RX(mem) on memory.
 * Qubit 0 is the IO qubit, qubit 1 the memory.
 */
export function paperCircuit(): Circuit {
  return compileCircuit({
    ioQubits: 1,
    memoryQubits: 1,
    layers: [
      [{ gate: 'CRX', qubits: [1, 0], param: 'ent' }],
      [
        { gate: 'RX', qubits: [0], param: 'in' },
        { gate: 'RX', qubits: [1], param: 'mem' },
      ],
    ],
  });
}

/**
 * The circuit of the authors' public batched code: as the paper circuit, but its "memory" rotation
 * RX(θ_mem) lands on the IO qubit. Paired with a memory that carries the measured bit (the `sqs-compat`
 * neuron), it reproduces that code's neuron; the paper's model is `paperCircuit`.
 */
export function paperCompatCircuit(): Circuit {
  return compileCircuit({
    ioQubits: 1,
    memoryQubits: 1,
    layers: [
      [{ gate: 'CRX', qubits: [1, 0], param: 'ent' }],
      [{ gate: 'RX', qubits: [0], param: 'in' }],
      [{ gate: 'RX', qubits: [0], param: 'mem' }],
    ],
  });
}

/**
 * Layered hardware-efficient ansatz: each of `layers` layers puts RY then RZ on every qubit, then
 * entangles with CRX from each memory qubit to each IO qubit ('memory-to-io'), or a CRX ring.
 */
export function hardwareEfficientCircuit(
  ioQubits: number,
  memoryQubits: number,
  layers: number,
  entangler: 'memory-to-io' | 'ring' = 'memory-to-io',
): Circuit {
  checkRegister(ioQubits, memoryQubits);
  if (!Number.isInteger(layers) || layers < 1 || layers > MAX_ANSATZ_LAYERS)
    throw new CircuitError(`hardware-efficient ansatz needs 1 to ${MAX_ANSATZ_LAYERS} layers, got ${layers}`);
  const total = ioQubits + memoryQubits;
  const spec: CircuitSpec = { ioQubits, memoryQubits, layers: [] };
  for (let l = 0; l < layers; l++) {
    const rot: GateOp[] = [];
    for (let q = 0; q < total; q++) {
      rot.push({ gate: 'RY', qubits: [q], param: `ry${l}_${q}` });
      rot.push({ gate: 'RZ', qubits: [q], param: `rz${l}_${q}` });
    }
    spec.layers.push(rot);
    const ent: GateOp[] = [];
    if (entangler === 'ring' || memoryQubits === 0) {
      for (let q = 0; q < total && total > 1; q++) {
        const t = (q + 1) % total;
        if (total === 2 && q === 1) break;
        ent.push({ gate: 'CRX', qubits: [q, t], param: `ent${l}_${q}_${t}` });
      }
    } else {
      for (let mq = ioQubits; mq < total; mq++)
        for (let io = 0; io < ioQubits; io++) ent.push({ gate: 'CRX', qubits: [mq, io], param: `ent${l}_${mq}_${io}` });
    }
    if (ent.length) spec.layers.push(ent);
  }
  return compileCircuit(spec);
}

/**
 * Per-occurrence gate angles [..., R, G] from per-name parameters θ [R, K], as a matMul with a
 * constant one-hot [K, G] (gather's gradient needs UnsortedSegmentSum, which wasm lacks).
 */
export function occurrenceAngles(circuit: Circuit, theta: Tensor): Tensor {
  const k = circuit.paramNames.length;
  const g = circuit.occurrenceParam.length;
  if (g === 0) return tf.zeros([theta.shape[0], 0]);
  const sel = new Float32Array(k * g);
  circuit.occurrenceParam.forEach((col, occ) => (sel[col * g + occ] = 1));
  return tf.matMul(theta, tf.tensor2d(sel, [k, g]));
}
