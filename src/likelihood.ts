/**
 * Likelihood of spike records from a device (or any sampler) under the SQS model, to check a device
 * against the simulator. A record is the classical register `c` of one shot of the program that
 * `exportQasm` writes: bit t·N + n is the spike of IO qubit n at step t (per neuron block for a
 * layer). The log-likelihood of a record is Σ_t log p(y_t | y_<t, inputs), by teacher forcing
 * (docs/model.md §1): all distinct records run together as the batch axis of one forced simulation.
 *
 * Input formats (JSON):
 *   {"counts": {"<bits>": n, …}}            provider style (Qiskit get_counts, Braket, …)
 *   {"shots": ["<bits>", …]}                one record per shot (also "memory", Qiskit get_memory)
 *   ["<bits>", …]                           the same, as a plain array
 * with an optional "bitOrder": "qiskit" (default) | "lsb-first". Qiskit prints c[0] as the
 * RIGHTMOST character of a bitstring, so under "qiskit" character i of a W-bit string is bit
 * W−1−i; under "lsb-first" character i is bit i. Keys may also be hexadecimal "0x…" register
 * values (Σ_i c[i]·2^i), as in raw provider results; bit order does not apply to them. Spaces in
 * bitstrings (Qiskit's register separators) are ignored. An optional numeric "shots" next to
 * "counts" must equal the total count.
 */
import { SqsnnError } from '../kernels/errors';
import { memoryLimit, stepBytes } from '../kernels/memory';
import { NeuronSimulator } from './neuron-sim';
import { Rng } from './random';
import { deviceRecordsSchema } from './schemas';
import { validate } from './validate';
import { ParsedNeuronSpec } from './spec';

/** Errors in spike records (format, widths, counts): a user error, one line, exit 2. */
export class RecordsError extends SqsnnError {}

export type BitOrder = 'qiskit' | 'lsb-first';
export const BIT_ORDERS: BitOrder[] = ['qiskit', 'lsb-first'];

/** Conditional probabilities below this count as zero: the record is impossible under the model. */
export const PROBABILITY_FLOOR = 1e-6;

/** Distinct records with their multiplicities. */
export interface SpikeRecords {
  width: number;
  bitOrder: BitOrder;
  /** Each record's bits by register index: records[r][i] = c[i]. */
  records: Uint8Array[];
  /** Number of shots with each record. */
  weights: number[];
  /** Total number of shots. */
  shots: number;
}

/** A record's bits (by register index) as a bitstring in the given order. */
export function formatRecord(bits: ArrayLike<number>, order: BitOrder = 'qiskit'): string {
  const s = Array.from(bits, (b) => (b ? '1' : '0'));
  return (order === 'qiskit' ? s.reverse() : s).join('');
}

/** Counts keyed by bitstring (in `order`) from records given as bit arrays. */
export function countRecords(records: ArrayLike<number>[], order: BitOrder = 'qiskit'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const k = formatRecord(r, order);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function recordBits(key: string, width: number, order: BitOrder, widthHint: string): Uint8Array {
  const shown = key.length > 40 ? `${key.slice(0, 37)}…` : key;
  const s = key.replace(/\s+/g, '');
  const bits = new Uint8Array(width);
  if (/^0x[0-9a-f]+$/i.test(s)) {
    let v = BigInt(s);
    for (let i = 0; i < width; i++, v >>= 1n) bits[i] = Number(v & 1n);
    if (v !== 0n) throw new RecordsError(`record '${shown}' does not fit the ${width}-bit register c (${widthHint})`);
    return bits;
  }
  if (!/^[01]+$/.test(s)) throw new RecordsError(`record '${shown}' is not a bitstring of 0s and 1s (nor a 0x… hex value)`);
  if (s.length !== width)
    throw new RecordsError(`record '${shown}' has ${s.length} bits but the register c has ${width} (${widthHint})`);
  for (let i = 0; i < width; i++) bits[i] = s.charCodeAt(order === 'qiskit' ? width - 1 - i : i) - 48;
  return bits;
}

/**
 * Parse spike records (see the file comment for formats) for a register of `width` bits.
 * `bitOrder` (e.g. from a command-line flag) must agree with a "bitOrder" field in the file.
 */
export function parseRecords(raw: unknown, width: number, opts: { bitOrder?: BitOrder; widthHint?: string } = {}): SpikeRecords {
  const hint = opts.widthHint ?? `${width} bits`;
  let list: unknown[] | null = null;
  let counts: Record<string, unknown> | null = null;
  let fileOrder: unknown;
  if (Array.isArray(raw)) list = raw;
  else if (raw && typeof raw === 'object') {
    const o = validate(deviceRecordsSchema, raw, 'records', RecordsError) as Record<string, unknown>;
    fileOrder = o.bitOrder;
    const lists = (['shots', 'memory'] as const).filter((k) => Array.isArray(o[k]));
    if (o.counts !== undefined) {
      if (!o.counts || typeof o.counts !== 'object' || Array.isArray(o.counts))
        throw new RecordsError('"counts" must be an object mapping bitstrings to numbers of shots');
      if (lists.length) throw new RecordsError(`give either "counts" or "${lists[0]}", not both`);
      counts = o.counts as Record<string, unknown>;
      if (o.memory !== undefined) throw new RecordsError('give either "counts" or "memory", not both');
    } else if (lists.length === 1) list = o[lists[0]] as unknown[];
    else if (lists.length > 1) throw new RecordsError('give either "shots" or "memory", not both');
    else throw new RecordsError('records need "counts" (an object of bitstring → shots) or "shots" (an array of bitstrings)');
    if (o.shots !== undefined && !Array.isArray(o.shots) && (typeof o.shots !== 'number' || !counts))
      throw new RecordsError('"shots" must be an array of bitstrings (or, next to "counts", the total number of shots)');
  } else throw new RecordsError('records must be a JSON object with "counts" or "shots", or an array of bitstrings');

  if (fileOrder !== undefined && !BIT_ORDERS.includes(fileOrder as BitOrder))
    throw new RecordsError(`"bitOrder" must be one of ${BIT_ORDERS.map((b) => `"${b}"`).join(', ')}, got ${JSON.stringify(fileOrder)}`);
  if (fileOrder !== undefined && opts.bitOrder !== undefined && fileOrder !== opts.bitOrder)
    throw new RecordsError(`the records say "bitOrder": "${fileOrder}" but ${opts.bitOrder} was requested`);
  const order = (fileOrder as BitOrder | undefined) ?? opts.bitOrder ?? 'qiskit';

  const index = new Map<string, number>();
  const records: Uint8Array[] = [];
  const weights: number[] = [];
  const add = (key: string, w: number) => {
    const bits = recordBits(key, width, order, hint);
    const canon = bits.join('');
    const at = index.get(canon);
    if (at !== undefined) weights[at] += w;
    else {
      index.set(canon, records.length);
      records.push(bits);
      weights.push(w);
    }
  };
  if (list) {
    list.forEach((x, i) => {
      if (typeof x !== 'string') throw new RecordsError(`shot ${i} must be a bitstring, got ${JSON.stringify(x)}`);
      add(x, 1);
    });
  } else {
    for (const [k, v] of Object.entries(counts as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new RecordsError(`counts["${k}"] must be a non-negative integer number of shots, got ${JSON.stringify(v)}`);
      if (v > 0) add(k, v);
      else recordBits(k, width, order, hint);
    }
    const declared = (raw as Record<string, unknown>).shots;
    const total = weights.reduce((a, b) => a + b, 0);
    if (typeof declared === 'number' && declared !== total)
      throw new RecordsError(`"shots" says ${declared} but the counts add up to ${total}`);
  }
  const shots = weights.reduce((a, b) => a + b, 0);
  if (shots === 0) throw new RecordsError('the records hold no shots');
  return { width, bitOrder: order, records, weights, shots };
}

// ---------------------------------------------------------------------------------------------
// Simulation: forced (teacher forcing) or sampled, over a batch of trajectories.

/** Trajectories per forced or sampled run (memory stays small for any number of records). */
const CHUNK = 4096;

interface Trajectories {
  /** Probability of the outcome taken at each step: [T][B]. */
  stepProb: Float64Array[];
  /** The outcomes taken, per trajectory, by register index t·N + n. */
  bits: Uint8Array[];
}

/**
 * Run B trajectories of one neuron: with `forced` records (bits t·N + n) by teacher forcing,
 * otherwise sampling with `rng`. Statevector mode, or density mode when the spec has noise.
 */
function runTrajectories(spec: ParsedNeuronSpec, batch: number, forced: Uint8Array[] | null, rng: Rng): Trajectories {
  const { circuit } = spec;
  const n = circuit.ioQubits;
  const steps = spec.steps;
  const stepProb = Array.from({ length: steps }, () => new Float64Array(batch));
  const bits = forced ?? Array.from({ length: batch }, () => new Uint8Array(steps * n));
  const sim = new NeuronSimulator(spec, { batch, rng });
  try {
    for (let t = 0; t < steps; t++) {
      const z = new Float32Array(n * batch);
      for (let i = 0; i < n; i++) z.fill(spec.currents[t][i], i * batch, (i + 1) * batch);
      let fb: Float32Array | null = null;
      if (forced) {
        fb = new Float32Array(n * batch);
        for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) fb[i * batch + b] = forced[b][t * n + i];
      }
      const out = sim.step(z, fb);
      for (let b = 0; b < batch; b++) {
        let y = 0;
        for (let i = 0; i < n; i++) {
          const v = fb ? fb[i * batch + b] : out.spikes![i * batch + b];
          if (!fb) bits[b][t * n + i] = v;
          y += v << i;
        }
        stepProb[t][b] = Math.min(1, Math.max(0, out.probs[y * batch + b]));
      }
    }
  } finally {
    sim.dispose();
  }
  return { stepProb, bits };
}

/** Trajectories per run: CHUNK, or fewer when that many registers would not fit the backend. */
function chunkSize(spec: ParsedNeuronSpec): number {
  const c = spec.circuit;
  const perRow = stepBytes({ qubits: c.totalQubits, gates: c.ops.length }, 1, spec.noise ? 'density' : 'statevector');
  return Math.max(1, Math.min(CHUNK, Math.floor(memoryLimit().bytes / perRow)));
}

function chunked(spec: ParsedNeuronSpec, batch: number, forced: Uint8Array[] | null, rng: Rng): Trajectories {
  const chunk = chunkSize(spec);
  if (batch <= chunk) return runTrajectories(spec, batch, forced, rng);
  const stepProb = Array.from({ length: spec.steps }, () => new Float64Array(batch));
  const bits: Uint8Array[] = [];
  for (let s = 0; s < batch; s += chunk) {
    const m = Math.min(chunk, batch - s);
    const part = runTrajectories(spec, m, forced ? forced.slice(s, s + m) : null, rng);
    part.stepProb.forEach((p, t) => stepProb[t].set(p, s));
    bits.push(...part.bits);
  }
  return { stepProb, bits };
}

/** p(y_t | y_<t, inputs) [T][B] of each record (bits t·N + n) by teacher forcing. */
export function forcedStepProbabilities(spec: ParsedNeuronSpec, records: Uint8Array[]): Float64Array[] {
  return chunked(spec, records.length, records, new Rng(0)).stepProb;
}

/** `shots` records (bits t·N + n) sampled from the model, with each step's outcome probability. */
export function sampleRecords(spec: ParsedNeuronSpec, shots: number, seed: number | string = spec.seed): Trajectories {
  return chunked(spec, shots, null, new Rng(`${seed}/records`));
}

/**
 * The model's exact per-step outcome distribution and per-qubit spike rates, marginalised over
 * all earlier outcomes (density mode without conditioning; with the spec's noise if any).
 */
export function exactSpikeRates(spec: ParsedNeuronSpec): { outcomeProbs: number[][]; spikeRate: number[][] } {
  const { circuit } = spec;
  const n = circuit.ioQubits;
  const outcomeProbs: number[][] = [];
  const spikeRate: number[][] = [];
  const sim = new NeuronSimulator(spec, { mode: 'density', average: true });
  try {
    for (let t = 0; t < spec.steps; t++) {
      const p = Array.from(sim.stepSpec(t).probs);
      outcomeProbs.push(p);
      spikeRate.push(Array.from({ length: n }, (_, i) => p.reduce((s, v, y) => s + ((y >> i) & 1 ? v : 0), 0)));
    }
  } finally {
    sim.dispose();
  }
  return { outcomeProbs, spikeRate };
}

// ---------------------------------------------------------------------------------------------
// The report.

export interface NeuronRates {
  /** The model's exact marginal spike rate per step and IO qubit [T][N]. */
  predictedSpikeRate: number[][];
  /** Observed spike frequency in the records [T][N]. */
  observedSpikeRate: number[][];
  /** Binomial standard error of the observed frequency under the model, √(p(1−p)/shots) [T][N]. */
  standardError: number[][];
  /**
   * Largest |observed − predicted| / standardError over all entries, every record counted. An
   * entry the model says cannot vary (standardError 0) but whose observed rate differs is an
   * infinite z: maxAbsZ is then null (JSON has no ∞) and zeroVarianceMismatches counts them.
   */
  maxAbsZ: number | null;
  zeroVarianceMismatches: number;
}

export interface LikelihoodReport {
  shots: number;
  distinctRecords: number;
  steps: number;
  /** IO qubits (single-neuron reports). */
  ioQubits?: number;
  bitOrder: BitOrder;
  noise: ParsedNeuronSpec['noise'] | null;
  /**
   * Mean over all shots of Σ_t log p(y_t | y_<t, inputs), in nats. One impossible shot makes it −∞,
   * written null, with `impossible` true and `impossibleShots` counting them.
   */
  averageLogLikelihood: number | null;
  /** The same per step [T], mean over all shots (null = −∞ from the first step a shot is impossible). */
  averageLogLikelihoodPerStep: (number | null)[];
  /** Some shot has a step of probability below probabilityFloor (impossible under the model). */
  impossible: boolean;
  impossibleShots: number;
  /** The mean over the possible shots only (null if there are none): a partial view, named as such. */
  averageLogLikelihoodOverPossibleShots: number | null;
  probabilityFloor: number;
  /**
   * Mean over all shots, counting each step from the first impossible one on at probabilityFloor
   * (after an impossible outcome the model has no conditional state).
   */
  averageLogLikelihoodClamped: number;
  /** The model's own records: mean log-likelihood of `samples` sampled trajectories (± standard error). */
  reference?: { samples: number; averageLogLikelihood: number; standardError: number };
  /** Per neuron: spike rates (single-neuron reports put these fields at the top level). */
  neurons?: (NeuronRates & { ioQubits: number })[];
}

export interface LikelihoodOptions {
  /** Trajectories sampled from the model for the reference log-likelihood (0: none). */
  referenceSamples?: number;
  seed?: number | string;
}

function logClamp(p: number): number {
  return Math.log(Math.max(p, PROBABILITY_FLOOR));
}

/** Register width T·Σ_h N_h of the program exported for these neurons. */
export function recordWidth(specs: ParsedNeuronSpec[]): number {
  return specs.reduce((s, x) => s + x.steps * x.circuit.ioQubits, 0);
}

/**
 * Average log-likelihood of records under one neuron (or a layer of independent neurons, one bit
 * block per neuron in the order given) and predicted vs observed spike rates.
 */
export function likelihoodReport(specs: ParsedNeuronSpec[], recs: SpikeRecords, opts: LikelihoodOptions = {}): LikelihoodReport & Partial<NeuronRates> {
  if (specs.length === 0) throw new RecordsError('no neuron to score the records against');
  const steps = specs[0].steps;
  for (const s of specs)
    if (s.steps !== steps) throw new RecordsError(`all neurons must have the same number of steps (${steps} vs ${s.steps})`);
  const width = recordWidth(specs);
  if (recs.width !== width) throw new RecordsError(`records have ${recs.width} bits but the model's register has ${width}`);
  const nRec = recs.records.length;
  const logSum = new Float64Array(nRec);
  const impossible = new Uint8Array(nRec);
  // Step of each record's first impossible outcome (over all neurons).
  const impossibleAt = new Int32Array(nRec).fill(steps);
  const stepLog = Array.from({ length: steps }, () => new Float64Array(nRec));
  const neurons: (NeuronRates & { ioQubits: number })[] = [];
  let offset = 0;
  for (const spec of specs) {
    const n = spec.circuit.ioQubits;
    const block = recs.records.map((r) => r.subarray(offset, offset + steps * n));
    const probs = forcedStepProbabilities(spec, block);
    // After an impossible step the model has no conditional state: later steps count at the floor.
    const dead = new Uint8Array(nRec);
    for (let t = 0; t < steps; t++)
      for (let r = 0; r < nRec; r++) {
        const p = probs[t][r];
        if (!(p >= PROBABILITY_FLOOR) && !dead[r]) {
          dead[r] = impossible[r] = 1;
          impossibleAt[r] = Math.min(impossibleAt[r], t);
        }
        const l = dead[r] ? Math.log(PROBABILITY_FLOOR) : Math.log(p);
        logSum[r] += l;
        stepLog[t][r] += l;
      }
    const predicted = exactSpikeRates(spec).spikeRate;
    const observed = predicted.map((row, t) =>
      row.map((_, i) => block.reduce((s, b, r) => s + recs.weights[r] * b[t * n + i], 0) / recs.shots),
    );
    const se = predicted.map((row) => row.map((p) => Math.sqrt(Math.max(p * (1 - p), 0) / recs.shots)));
    let maxAbsZ = 0;
    let zeroVarianceMismatches = 0;
    predicted.forEach((row, t) =>
      row.forEach((p, i) => {
        const diff = Math.abs(observed[t][i] - p);
        if (se[t][i] > 0) maxAbsZ = Math.max(maxAbsZ, diff / se[t][i]);
        else if (diff > 1e-9) zeroVarianceMismatches++;
      }),
    );
    neurons.push({ ioQubits: n, predictedSpikeRate: predicted, observedSpikeRate: observed, standardError: se, maxAbsZ: zeroVarianceMismatches ? null : maxAbsZ, zeroVarianceMismatches });
    offset += steps * n;
  }
  let possible = 0;
  let sumPossible = 0;
  let sumClamped = 0;
  const perStep = new Float64Array(steps);
  // First step at which some shot is impossible: from there on the per-step mean is −∞.
  let firstImpossibleStep = steps;
  for (let r = 0; r < nRec; r++) {
    const w = recs.weights[r];
    sumClamped += w * logSum[r];
    for (let t = 0; t < steps; t++) perStep[t] += w * stepLog[t][r];
    if (impossible[r]) {
      firstImpossibleStep = Math.min(firstImpossibleStep, impossibleAt[r]);
      continue;
    }
    possible += w;
    sumPossible += w * logSum[r];
  }
  const impossibleShots = recs.shots - possible;
  const report: LikelihoodReport & Partial<NeuronRates> = {
    shots: recs.shots,
    distinctRecords: nRec,
    steps,
    ...(specs.length === 1 ? { ioQubits: specs[0].circuit.ioQubits } : {}),
    bitOrder: recs.bitOrder,
    noise: specs[0].noise ?? null,
    averageLogLikelihood: impossibleShots ? null : sumPossible / recs.shots,
    averageLogLikelihoodPerStep: Array.from(perStep, (v, t) => (t >= firstImpossibleStep ? null : v / recs.shots)),
    impossible: impossibleShots > 0,
    impossibleShots,
    averageLogLikelihoodOverPossibleShots: possible ? sumPossible / possible : null,
    probabilityFloor: PROBABILITY_FLOOR,
    averageLogLikelihoodClamped: sumClamped / recs.shots,
  };
  const m = opts.referenceSamples ?? 0;
  if (m > 0) {
    const ll = new Float64Array(m);
    specs.forEach((spec, h) => {
      const tr = sampleRecords(spec, m, `${opts.seed ?? spec.seed}/neuron${h}`);
      for (const row of tr.stepProb) for (let b = 0; b < m; b++) ll[b] += logClamp(row[b]);
    });
    const mean = ll.reduce((a, b) => a + b, 0) / m;
    const variance = m > 1 ? ll.reduce((a, b) => a + (b - mean) ** 2, 0) / (m - 1) : 0;
    report.reference = { samples: m, averageLogLikelihood: mean, standardError: Math.sqrt(variance / m) };
  }
  if (specs.length === 1) {
    const { ioQubits: _, ...rates } = neurons[0];
    Object.assign(report, rates);
  } else report.neurons = neurons;
  return report;
}

