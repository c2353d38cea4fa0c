/**
 * The single-neuron JSON spec shared by `neuron-trace`, `neuron-grad`, `export-qasm` and
 * `likelihood`: {"ioQubits", "memoryQubits", "ansatz": "paper" | gate list | layers | {…},
 * "params", "currents": [T][N], "outcomes"?: [T][N], "noise"?, "seed"?}.
 */
import { SqsnnError } from '../kernels/errors';
import * as fs from 'fs';
import { Circuit, CircuitSpec, GateOp, compileCircuit, hardwareEfficientCircuit, paperCircuit, paperCompatCircuit } from '../kernels/circuit';
import { NoiseSpec } from '../kernels/density';
import { z } from 'zod';
import { validate } from './validate';

export class SpecError extends SqsnnError {}

const gateOp = z.strictObject({ gate: z.string(), qubits: z.array(z.number()), param: z.string().optional() });

export const ansatzSchema = z.union([
  z.enum(['paper', 'paper-compat']),
  z.array(gateOp),
  z.array(z.array(gateOp)),
  z.strictObject({
    type: z.literal('hardware-efficient'),
    layers: z.number().describe('rotation + entangling layers'),
    entangler: z.enum(['memory-to-io', 'ring']).optional().describe('CNOTs from each memory qubit to the IO qubits, or a ring over all qubits; default memory-to-io'),
  }),
]).describe('circuit of one step: "paper" (the paper\'s 2-qubit neuron), "paper-compat", a gate list (or a list of gate layers), or {"type": "hardware-efficient", "layers": L}');

export const noiseSchema = z.strictObject({
  t1: z.number().optional().describe('amplitude-damping time T1 (same unit as gateTime)'),
  t2: z.number().optional().describe('dephasing time T2'),
  gateTime: z.number().optional().describe('duration of one gate'),
  depolarizing: z.number().optional().describe('depolarizing probability per gate'),
}).describe('device noise (density-matrix simulation)');

/** `neuron-trace`, `neuron-grad`, `export-qasm`, `likelihood` --spec (values checked in spec.ts). */
export const neuronSpecSchema = z.strictObject({
  ioQubits: z.number().describe('IO qubits N (spikes out, currents in)'),
  memoryQubits: z.number().describe('memory qubits N_M carried between steps'),
  ansatz: z.unknown().optional().describe('the circuit (see ansatz in the SQS layer options); default "paper"'),
  params: z.unknown().optional().describe('circuit angles by name, e.g. {"ent": 2.3, "in": 0.9, "mem": 1.7}'),
  currents: z.unknown().describe('input currents [T][N]: one row per step, one value per IO qubit'),
  outcomes: z.unknown().optional().describe('forced spike history [T][N] of 0/1 (neuron-grad; not for export-qasm or likelihood)'),
  noise: noiseSchema.optional(),
  seed: z.number().optional().describe('seed of sampled outcomes; default 0'),
}).describe('One SQS neuron and its input: `sqsnn neuron-trace`, `neuron-grad`, `export-qasm` and `likelihood --spec FILE` (an array of specs with the same T is a layer for export-qasm and likelihood).');

export type AnsatzSpec =
  | 'paper'
  | 'paper-compat'
  | GateOp[]
  | GateOp[][]
  | { type: 'hardware-efficient'; layers: number; entangler?: 'memory-to-io' | 'ring' };

export interface NeuronSpec {
  ioQubits: number;
  memoryQubits: number;
  ansatz?: AnsatzSpec;
  params: Record<string, number>;
  currents: number[][];
  outcomes?: number[][];
  noise?: NoiseSpec;
  seed?: number;
}

export interface ParsedNeuronSpec {
  circuit: Circuit;
  /** Angles in the order of circuit.paramNames. */
  theta: number[];
  currents: number[][];
  outcomes?: number[][];
  noise?: NoiseSpec;
  seed: number;
  steps: number;
}

/**
 * A circuit from an ansatz description. A flat gate list runs one gate per layer (a sequential
 * schedule); nested lists are explicit layers (noise acts after each layer).
 */
export function circuitFromAnsatz(ansatz: AnsatzSpec | undefined, ioQubits: number, memoryQubits: number): Circuit {
  const a = ansatz ?? 'paper';
  if (a === 'paper') {
    if (ioQubits !== 1 || memoryQubits !== 1)
      throw new SpecError(`the paper ansatz has ioQubits = 1 and memoryQubits = 1, got ${ioQubits} and ${memoryQubits}`);
    return paperCircuit();
  }
  if (a === 'paper-compat') {
    if (ioQubits !== 1 || memoryQubits !== 1)
      throw new SpecError(`the paper-compat ansatz has ioQubits = 1 and memoryQubits = 1, got ${ioQubits} and ${memoryQubits}`);
    return paperCompatCircuit();
  }
  if (Array.isArray(a)) {
    const layers: GateOp[][] = a.every((x) => Array.isArray(x)) ? (a as GateOp[][]) : (a as GateOp[]).map((g) => [g]);
    if (a.some((x) => Array.isArray(x)) && !a.every((x) => Array.isArray(x)))
      throw new SpecError('ansatz must be a list of gates or a list of layers (lists of gates), not a mix');
    const spec: CircuitSpec = { ioQubits, memoryQubits, layers };
    return compileCircuit(spec);
  }
  if (a && typeof a === 'object' && (a as { type?: string }).type === 'hardware-efficient') {
    const l = (a as { layers: number }).layers;
    if (!Number.isInteger(l) || l < 1) throw new SpecError(`hardware-efficient ansatz needs layers ≥ 1, got ${l}`);
    return hardwareEfficientCircuit(ioQubits, memoryQubits, l, (a as { entangler?: 'memory-to-io' | 'ring' }).entangler);
  }
  throw new SpecError(`unknown ansatz ${JSON.stringify(a)}: use "paper", a gate list, layers, or {"type": "hardware-efficient", "layers": L}`);
}

function isMatrix(x: unknown, cols: number, what: string, check: (v: number) => string | null): number[][] {
  if (!Array.isArray(x) || x.length === 0) throw new SpecError(`${what} must be a non-empty array of T rows`);
  return x.map((row, t) => {
    if (!Array.isArray(row) || row.length !== cols)
      throw new SpecError(`${what}[${t}] must have ${cols} entr${cols === 1 ? 'y' : 'ies'} (one per IO qubit), got ${JSON.stringify(row)}`);
    return row.map((v, n) => {
      const bad = typeof v !== 'number' ? 'is not a number' : check(v);
      if (bad) throw new SpecError(`${what}[${t}][${n}] ${bad}: ${JSON.stringify(v)}`);
      return v as number;
    });
  });
}

export function parseNeuronSpec(raw: unknown, opts: { requireOutcomes?: boolean } = {}): ParsedNeuronSpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('spec must be a JSON object');
  const s = validate(neuronSpecSchema, raw, 'spec') as Partial<NeuronSpec>;
  for (const k of ['ioQubits', 'memoryQubits'] as const)
    if (typeof s[k] !== 'number') throw new SpecError(`spec.${k} is missing or not a number`);
  const circuit = circuitFromAnsatz(s.ansatz, s.ioQubits as number, s.memoryQubits as number);
  const params = s.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new SpecError('spec.params must be an object of name → angle');
  const theta = circuit.paramNames.map((name) => {
    const v = (params as Record<string, unknown>)[name];
    if (v === undefined) throw new SpecError(`parameter '${name}' is missing from spec.params (the circuit needs ${circuit.paramNames.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpecError(`parameter '${name}' must be a finite number, got ${JSON.stringify(v)}`);
    return v;
  });
  const unused = Object.keys(params).filter((k) => !circuit.paramNames.includes(k));
  if (unused.length) throw new SpecError(`spec.params has names the circuit does not use: ${unused.join(', ')}`);
  const n = circuit.ioQubits;
  const currents = isMatrix(s.currents, n, 'currents', (v) => (Number.isFinite(v) ? null : 'is not finite'));
  let outcomes: number[][] | undefined;
  if (s.outcomes !== undefined) {
    outcomes = isMatrix(s.outcomes, n, 'outcomes', (v) => (v === 0 || v === 1 ? null : 'must be 0 or 1'));
    if (outcomes.length !== currents.length)
      throw new SpecError(`outcomes has ${outcomes.length} steps but currents has ${currents.length}`);
  } else if (opts.requireOutcomes) throw new SpecError('spec.outcomes is required here (the forced spike history, [T][N] of 0/1)');
  const seed = s.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new SpecError(`seed must be a number, got ${JSON.stringify(seed)}`);
  return { circuit, theta, currents, outcomes, noise: s.noise, seed, steps: currents.length };
}

/** Read and parse JSON from a file path, or from stdin for '-'. */
export function readJsonInput(file: string | undefined, what = 'the input'): unknown {
  if (!file) throw new SpecError(`${what} FILE is required (use - for stdin)`);
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError(`cannot read ${file === '-' ? 'stdin' : file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${file === '-' ? 'stdin' : file} is not valid JSON: ${(e as Error).message}`);
  }
}
