/**
 * A layer of SQS neurons (docs/model.md §1): N IO qubits and N_M memory qubits each, a shared circuit
 * structure with per-neuron angles θ [H, K]. The memory is a pure state per neuron and sample.
 */
import { Circuit, occurrenceAngles } from '../../kernels/circuit';
import { Complex, crepeatRows, cslice } from '../../kernels/complex';
import { circuitUnitary, preferDense } from '../../kernels/evolve';
import { ShiftTable, shiftTable, shiftedAngles, shotEstimate } from '../../kernels/shift';
import { assertFits, assertStepFits } from '../../kernels/memory';
import { sqsStepOp } from '../../kernels/sqs-step';
import { SQS_ELIGIBILITY_KERNEL, eligibilityKernelApplies, registerEligibilityKernel } from '../../kernels/sqs-eligibility';
import {
  encodingAngles,
  foldedUnitary,
  initialMemory,
  oneHotFromBits,
  perQubit,
  surrogateSpikes,
} from '../../kernels/statevector';
import { Tensor, repeatRows, tf } from '../../kernels/tf';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { AnsatzSpec, NeuronSpec, SpecError, ansatzSchema, circuitFromAnsatz } from '../spec';
import { DEFAULT_THETA_INIT, ThetaInit, mirrorPartners, resolveThetaInit, sampleTheta, thetaInitSchema } from './init';
import { Eligibility, ForcedResult, LayerConfig, LocalOptions, NeuronKind, NeuronLayer, StepContext, StepResult } from './layer';

/**
 * What the memory qubits carry to the next step:
 * - `quantum` (the model): the post-measurement memory state;
 * - `reset`: |0…0⟩ every step — the same neuron without quantum memory (an ablation);
 * - `measured`: the basis state of the measured IO bits (needs N_M = N) — what the authors' public
 *   batched code carries, a classical feedback of the last spike.
 */
export type MemoryCarry = 'quantum' | 'reset' | 'measured';

export interface SqsLayerConfig {
  size: number;
  ioQubits?: number;
  memoryQubits?: number;
  ansatz?: AnsatzSpec;
  /** Force the dense-unitary or gate-by-gate path (default: automatic). */
  path?: 'dense' | 'gates';
  /** How θ starts (default N(0, 0.1²)); see ./init.ts. */
  init?: ThetaInit;
  /** What the memory carries between steps (default `quantum`). */
  memory?: MemoryCarry;
}

export interface SqsState {
  mem: Complex;
}

export interface SqsPrep {
  /** Per-occurrence angles [H, G]. */
  angles: Tensor;
  unitary?: Complex;
  /** The unitary in the composed dense step's form (`foldedUnitary`), built on first use, once per batch. */
  folded?: () => Tensor;
  /** For the local rule: the circuits every eligibility runs besides the step itself (see LocalShifts). */
  shifts?: LocalShifts;
}

/**
 * What the local rule evaluates at each step, stacked along the rows so one run gives it all: the
 * layer's own circuit (the step itself, H rows), then C = S + 2N copies forced to the same outcome —
 * the S parameter-shifted circuits (shift-major), then the unshifted circuit 2N more times for the
 * encoding shifts φ_n ± π/2. Everything here is fixed over a sequence.
 */
export interface LocalShifts {
  table: ShiftTable;
  /** Angles [(1 + C)·H, G] of every row, and their unitaries on the dense path. */
  angles: Tensor;
  unitary?: Complex;
  /** `unitary` in the composed dense step's form, built on first use. */
  folded?: () => Tensor;
  /** Encoding-angle offsets [1 + C, 1, N, 1]: zero for the step and the shifted circuits, ±π/2 on one IO qubit after them. */
  phiOffsets: Tensor;
  /**
   * [K + N, C]: row k the shift rule's coefficients of ∂p/∂θ_k, row K + n ±½ on the encoding
   * copies of qubit n (∂p/∂φ_n = (p(φ_n + π/2) − p(φ_n − π/2))/2): both derivatives in one product.
   */
  coeffs: Tensor;
}

/**
 * The rows of `LocalShifts` for a layer with angles [H, G]; on the dense path the unshifted and
 * shifted unitaries come from one `circuitUnitary`, and the first H rows are the layer's own.
 */
function localShifts(circuit: Circuit, angles: Tensor, dense: boolean, twoTermOnly: boolean): LocalShifts {
  const table = shiftTable(circuit, twoTermOnly ? 'two-term' : 'exact');
  const shifted = shiftedAngles(table, angles);
  const h = angles.shape[0] as number;
  const n = circuit.ioQubits;
  const k = circuit.paramNames.length;
  const s = table.size;
  const copies = s + 2 * n;
  const own = tf.concat([angles, shifted], 0); // H unshifted rows, then S·H shifted
  let unitary: Complex | undefined;
  if (dense) {
    const both = circuitUnitary(circuit, own);
    unitary = ccat([both, crepeatRows(cslice(both, [0, 0, 0], [h, circuit.dim, circuit.dim]), 2 * n)]);
  }
  const offsets = new Float32Array((1 + copies) * n);
  const coeffs = new Float32Array((k + n) * copies);
  for (let q = 0; q < n; q++) {
    offsets[(1 + s + q) * n + q] = Math.PI / 2;
    offsets[(1 + s + n + q) * n + q] = -Math.PI / 2;
    coeffs[(k + q) * copies + s + q] = 0.5;
    coeffs[(k + q) * copies + s + n + q] = -0.5;
  }
  for (let r = 0; r < k; r++) for (let j = 0; j < s; j++) coeffs[r * copies + j] = table.coeffs[r * s + j];
  return {
    table,
    angles: tf.concat([own, repeatRows(angles, 2 * n)], 0),
    unitary,
    folded: unitary && lazyFolded(unitary, n),
    phiOffsets: tf.tensor4d(offsets, [1 + copies, 1, n, 1]),
    coeffs: tf.tensor2d(coeffs, [k + n, copies]),
  };
}

function ccat(parts: Complex[]): Complex {
  return { re: tf.concat(parts.map((c) => c.re), 0), im: tf.concat(parts.map((c) => c.im), 0) };
}

/** `foldedUnitary(unitary, n)` on first call, then the same tensor. */
function lazyFolded(unitary: Complex, ioQubits: number): () => Tensor {
  let folded: Tensor | undefined;
  return () => (folded ??= foldedUnitary(unitary, ioQubits));
}

/** Eligibility of an SQS layer, with the raw encoding-angle derivative kept for `neuron-grad`. */
export interface SqsEligibility extends Eligibility<SqsState> {
  /** ∂ log p(y) / ∂ φ_n [H, N, B], unmasked. */
  dLogPdEncoding: Tensor;
}

export class SqsLayer implements NeuronLayer<SqsState, SqsPrep> {
  readonly kind = 'sqs';
  readonly size: number;
  readonly channels: number;
  readonly circuit: Circuit;
  readonly theta: tf.Variable;
  readonly variables: Record<string, tf.Variable>;
  readonly dense: boolean;
  readonly memory: MemoryCarry;

  constructor(readonly config: SqsLayerConfig, init?: { theta?: Tensor; seed?: number }) {
    const n = config.ioQubits ?? 1;
    const m = config.memoryQubits ?? 1;
    this.size = config.size;
    this.channels = n;
    this.circuit = circuitFromAnsatz(config.ansatz, n, m);
    const k = this.circuit.paramNames.length;
    this.memory = config.memory ?? 'quantum';
    if (!['quantum', 'reset', 'measured'].includes(this.memory)) throw new ConfigError(`memory must be quantum, reset or measured, got '${this.memory}'`);
    if (this.memory === 'measured' && m !== n)
      throw new ConfigError(`memory 'measured' carries the measured IO bits, so it needs memoryQubits = ioQubits, got ${m} and ${n}`);
    const th = init?.theta ?? tf.tensor2d(sampleTheta(config.init ?? DEFAULT_THETA_INIT, this.size, this.circuit.paramNames, init?.seed ?? 0), [this.size, k]);
    if (th.shape[0] !== this.size || th.shape[1] !== k)
      throw new Error(`θ must be [${this.size}, ${k}], got [${th.shape}]`);
    this.theta = tf.variable(th, true);
    if (!init?.theta) th.dispose();
    this.variables = { theta: this.theta };
    this.dense = config.path ? config.path === 'dense' : preferDense(this.circuit, this.size);
  }

  /** Checks the working set of a batch (× `copies` shifted circuits run at once) before anything is allocated. */
  checkBatch(batch: number, copies = 1): void {
    // The dense path applies the whole circuit as one matrix: its working set does not grow with gates.
    const reg = { qubits: this.circuit.totalQubits, gates: this.dense ? 1 : this.circuit.ops.length };
    const what = `one step of an SQS layer of ${this.size} neuron(s) × ${batch} sample(s)${copies > 1 ? ` × ${copies} shifted circuits` : ''}`;
    assertStepFits(what, reg, this.size * batch * copies, 'statevector');
    if (this.dense) assertFits(`dense unitaries of ${this.size} neurons`, this.size * 4 ** reg.qubits * 8 * 6, `${this.size} × ${this.circuit.dim}² complex entries`);
  }

  prepare(opts: { local?: boolean; twoTermOnly?: boolean } = {}): SqsPrep {
    const angles = occurrenceAngles(this.circuit, this.theta);
    const n = this.circuit.ioQubits;
    if (opts.local) {
      const shifts = localShifts(this.circuit, angles, this.dense, Boolean(opts.twoTermOnly));
      const d = this.circuit.dim;
      const unitary = shifts.unitary && cslice(shifts.unitary, [0, 0, 0], [this.size, d, d]);
      return { angles, ...(unitary ? { unitary, folded: lazyFolded(unitary, n) } : {}), shifts };
    }
    if (!this.dense) return { angles };
    const unitary = circuitUnitary(this.circuit, angles);
    return { angles, unitary, folded: lazyFolded(unitary, n) };
  }

  /**
   * Local-rule eligibilities with the memory held fixed: ∂p/∂θ by the exact shift rules (all
   * shifted circuits in one batched evaluation along a leading shift axis), ∂p/∂φ by the two-term
   * shift of the encoding RX, divided by p(y). With `shots`, every probability is a frequency.
   */
  eligibility(prep: SqsPrep, state: SqsState, currents: Tensor, spikes: Tensor | null, ctx: StepContext, opts: LocalOptions): SqsEligibility {
    const shifts = prep.shifts;
    if (!shifts) throw new Error('eligibility needs prepare({ local: true })');
    const h = this.size;
    const n = this.channels;
    const b = currents.shape[2] as number;
    const k = this.circuit.paramNames.length;
    const s = shifts.table.size;
    const copies = s + 2 * n;
    // The step, every shifted circuit and both encoding shifts per IO qubit run at once: check that width.
    this.checkBatch(b, 1 + copies);
    if (shifts.unitary && eligibilityKernelApplies(this.circuit.dim, opts.shots)) return this.fusedEligibility(prep, shifts, state, currents, spikes, ctx, opts);
    // One run of every row (see LocalShifts): the step itself, sampled or forced, then the C copies
    // forced to its outcome (sampled, when the step is: each copy's p(y) is then read from its probs).
    const phi = encodingAngles(currents);
    const phiAll = tf.reshape(tf.add(tf.reshape(phi, [1, h, n, b]), shifts.phiOffsets), [(1 + copies) * h, n, b]);
    const memAll = crepeatRows(state.mem, 1 + copies);
    const forced = spikes ? oneHotFromBits(spikes) : null;
    const outcome = forced ? { forced: repeatRows(forced, 1 + copies) } : { uniforms: tf.concat([ctx.rng.uniform([h, b]), tf.zeros([copies * h, b])], 0) };
    const all = this.evaluate(shifts.unitary, shifts.angles, memAll, phiAll, outcome, shifts.folded);
    const outcomes = 2 ** n;
    const dm = state.mem.re.shape[1] as number;
    const ownRows = <T extends Tensor>(t: T, width: number) => tf.slice(t, [0, 0, 0], [h, width, b]);
    const base = {
      probs: ownRows(all.probs, outcomes),
      oneHot: forced ?? ownRows(all.oneHot, outcomes),
      mem: { re: ownRows(all.mem.re, dm), im: ownRows(all.mem.im, dm) },
      prob: tf.slice(all.prob, [0, 0], [h, b]),
    };
    const oneHot = base.oneHot;
    const estimate = (p: Tensor) => shotEstimate(p, opts.shots, ctx.rng.nextSeed());
    // p(y) of the taken outcome under every shifted circuit and encoding shift [C, H·B].
    const copyRows = (t: Tensor) => tf.slice(t, [h, 0], [copies * h, b]);
    const taken = forced
      ? copyRows(all.prob)
      : tf.sum(tf.mul(tf.slice(all.probs, [h, 0, 0], [copies * h, outcomes, b]), repeatRows(oneHot, copies)), 1);
    let pAll = tf.reshape(taken, [copies, h * b]);
    // Each group its own shots and seed, drawn with or without shots: later draws stay where they were.
    const seedS = ctx.rng.nextSeed();
    const seedE = ctx.rng.nextSeed();
    if (opts.shots > 0) {
      const pS = shotEstimate(tf.slice(pAll, [0, 0], [s, h * b]), opts.shots, seedS);
      const pE = shotEstimate(tf.slice(pAll, [s, 0], [2 * n, h * b]), opts.shots, seedE);
      pAll = tf.concat([pS, pE], 0);
    }
    // [∂p/∂θ; ∂p/∂φ] [H, K + N, B] from one product with the stacked coefficients, then divided by p(y).
    const dp = tf.transpose(tf.reshape(tf.matMul(shifts.coeffs, pAll), [k + n, h, b]), [1, 0, 2]);
    const p = estimate(base.prob);
    // 1/p, and no update where the (estimated) probability is zero.
    const inv = tf.div(tf.cast(tf.greater(p, 0), 'float32'), tf.maximum(p, 1e-12));
    const dLogP = tf.mul(dp, tf.reshape(inv, [h, 1, b]));
    const dLogPdEncoding = tf.slice(dLogP, [0, k, 0], [h, n, b]);
    const active = tf.cast(tf.greater(currents, 0), 'float32');
    const bits = spikes ?? perQubit(oneHot, n);
    return {
      state: spikes && opts.memoryFollows === 'sampled' ? this.sampledState(prep, state.mem, currents, ctx) : this.carry(base.mem, bits),
      spikes: bits,
      spikeProb: perQubit(base.probs, n),
      outcomeProbs: base.probs,
      logProb: tf.log(tf.maximum(opts.shots > 0 ? p : base.prob, opts.shots > 0 ? 0.5 / opts.shots : 1e-30)),
      dLogPdCurrent: tf.mul(opts.encodingGradient === 'one-sided' ? dLogPdEncoding : tf.mul(dLogPdEncoding, active), Math.PI),
      dLogPdEncoding,
      dLogPdParams: { theta: k > 0 ? tf.slice(dLogP, [0, 0, 0], [h, k, b]) : tf.zeros([h, 0, b]) },
      probAt: (z: Tensor) => estimate(this.run(prep, state.mem, z, { forced: oneHot }).prob),
    };
  }

  /**
   * `eligibility` as one kernel (host-memory backends, dense unitaries, exact probabilities): the same numbers
   * and the same random draws as the composed ops above, in one launch instead of some thirty.
   */
  private fusedEligibility(prep: SqsPrep, shifts: LocalShifts, state: SqsState, currents: Tensor, spikes: Tensor | null, ctx: StepContext, opts: LocalOptions): SqsEligibility {
    registerEligibilityKernel();
    const h = this.size;
    const b = currents.shape[2] as number;
    const unitary = shifts.unitary as Complex;
    const outcome = spikes ? { spikes } : { uniforms: ctx.rng.uniform([h, b]) };
    // The composed path draws a seed for each group of shifted probabilities and one for p(y): keep the stream.
    for (let i = 0; i < 3; i++) ctx.rng.nextSeed();
    const inputs = { uRe: unitary.re, uIm: unitary.im, memRe: state.mem.re, memIm: state.mem.im, z: currents, coeffs: shifts.coeffs, ...outcome };
    const outs = tf.engine().runKernel(SQS_ELIGIBILITY_KERNEL, inputs as never, { mode: spikes ? 2 : 0, oneSided: opts.encodingGradient === 'one-sided' }) as unknown as Tensor[];
    const [probs, bits, memRe, memIm, prob, spikeProb, dTheta, dPhi, dCurrent] = spikes ? [outs[0], spikes, ...outs.slice(1)] : outs;
    return {
      state: spikes && opts.memoryFollows === 'sampled' ? this.sampledState(prep, state.mem, currents, ctx) : this.carry({ re: memRe, im: memIm }, bits),
      spikes: bits,
      spikeProb,
      outcomeProbs: probs,
      logProb: tf.log(tf.maximum(prob, 1e-30)),
      dLogPdCurrent: dCurrent,
      dLogPdEncoding: dPhi,
      dLogPdParams: { theta: dTheta },
      probAt: (z: Tensor) => shotEstimate(this.run(prep, state.mem, z, { forced: oneHotFromBits(bits) }).prob, 0, ctx.rng.nextSeed()),
    };
  }

  /** Neuron h's input weights are the negation of neuron mirrorOf()[h]'s (−1: independent). */
  mirrorOf(): Int32Array | null {
    return mirrorPartners(this.config.init ?? DEFAULT_THETA_INIT, this.size);
  }

  /** The next state after a sampled (not forced) outcome: the free-running memory. */
  private sampledState(prep: SqsPrep, mem: Complex, currents: Tensor, ctx: StepContext): SqsState {
    const out = this.run(prep, mem, currents, { seed: ctx.rng.nextSeed() });
    return this.carry(out.mem, perQubit(out.oneHot, this.channels));
  }

  /** The memory handed to the next step, given the post-measurement memory and the spikes [H, N, B]. */
  private carry(mem: Complex, spikes: Tensor): SqsState {
    if (this.memory === 'quantum') return { mem };
    const b = spikes.shape[2] as number;
    if (this.memory === 'reset') return { mem: initialMemory(this.size, this.circuit.memoryQubits, b) };
    // |y⟩ as amplitudes Π_n (y_n ? s_n : 1 − s_n): exact for bits, and differentiable through surrogate spikes.
    const n = this.channels;
    let amp: Tensor = tf.ones([this.size, 1, b]);
    for (let q = 0; q < n; q++) {
      const s = tf.slice(spikes, [0, q, 0], [-1, 1, -1]);
      // Index k's bit q is (k >> q) & 1: the new axis for qubit q is the slower one.
      amp = tf.reshape(tf.stack([tf.mul(amp, tf.sub(1, s)), tf.mul(amp, s)], 1), [this.size, 2 ** (q + 1), b]);
    }
    return { mem: { re: amp, im: tf.zerosLike(amp) } };
  }

  initialState(batch: number): SqsState {
    this.checkBatch(batch);
    return { mem: initialMemory(this.size, this.circuit.memoryQubits, batch) };
  }

  /** One step from currents, sampling (uniforms) or forced (one-hot outcomes). */
  private run(prep: SqsPrep, mem: Complex, currents: Tensor, outcome: { uniforms: Tensor } | { seed: number } | { forced: Tensor }) {
    return this.evaluate(prep.unitary, prep.angles, mem, encodingAngles(currents), outcome, prep.folded);
  }

  /** The SQS-step op picks the fused kernels or the composed ops (by tape, backend and size). */
  private evaluate(unitary: Complex | undefined, angles: Tensor, mem: Complex, phi: Tensor, outcome: { uniforms: Tensor } | { seed: number } | { forced: Tensor }, folded?: () => Tensor) {
    return sqsStepOp({ circuit: this.circuit, unitary, folded, angles, mem, phi, ...outcome });
  }

  step(prep: SqsPrep, state: SqsState, currents: Tensor, ctx: StepContext): StepResult<SqsState> {
    // Draws from a seed: the fused kernels hash it in place (no uniform tensor per step), the composed
    // ops get the same numbers (`seededUniforms`).
    const out = this.run(prep, state.mem, currents, { seed: ctx.rng.nextSeed() });
    const n = this.channels;
    const spikeProb = perQubit(out.probs, n);
    const bits = perQubit(out.oneHot, n);
    const spikes = ctx.train ? surrogateSpikes(spikeProb, bits, ctx.surrogate) : bits;
    return { state: this.carry(out.mem, spikes), spikes, spikeProb, outcomeProbs: out.probs };
  }

  stepForced(prep: SqsPrep, state: SqsState, currents: Tensor, spikes: Tensor): ForcedResult<SqsState> {
    const out = this.run(prep, state.mem, currents, { forced: oneHotFromBits(spikes) });
    return {
      state: this.carry(out.mem, spikes),
      spikes,
      spikeProb: perQubit(out.probs, this.channels),
      outcomeProbs: out.probs,
      logProb: tf.log(tf.maximum(out.prob, 1e-30)),
    };
  }

  stateTensors(state: SqsState): Tensor[] {
    return [state.mem.re, state.mem.im];
  }

  describe(): Record<string, unknown> {
    return {
      neuron: 'sqs',
      size: this.size,
      ioQubits: this.circuit.ioQubits,
      memoryQubits: this.circuit.memoryQubits,
      ansatz: this.config.ansatz ?? 'paper',
      init: resolveThetaInit(this.config.init),
      memory: this.memory,
      ...(this.config.path ? { path: this.config.path } : {}),
    };
  }

  /**
   * Neuron `neuron` with its trained angles as a single-neuron spec (add `currents` to export or
   * score it). Only the quantum memory is a circuit a device runs: a layer whose memory is reset or
   * replaced by the measured bits is refused rather than exported as a different neuron.
   */
  toSpec(neuron: number): Omit<NeuronSpec, 'currents'> {
    if (!(Number.isInteger(neuron) && neuron >= 0 && neuron < this.size))
      throw new SpecError(`the layer has ${this.size} neuron(s) (0..${this.size - 1}), no neuron ${neuron}`);
    if (this.memory !== 'quantum')
      throw new SpecError(`this SQS layer carries memory '${this.memory}', which an exported circuit does not do (only 'quantum' memory runs on a device)`);
    const row = tf.tidy(() => tf.slice(this.theta, [neuron, 0], [1, -1]).dataSync());
    return {
      ioQubits: this.circuit.ioQubits,
      memoryQubits: this.circuit.memoryQubits,
      ansatz: this.config.ansatz ?? 'paper',
      params: Object.fromEntries(this.circuit.paramNames.map((name, k) => [name, row[k]])),
    };
  }

  dispose(): void {
    this.theta.dispose();
  }
}

/** The strict shape of an SQS layer config (`neuron` is `kind`; sqs and sqs-compat take the same options). */
function sqsConfigSchema(kind: string): z.ZodType {
  return z.strictObject({
    neuron: z.literal(kind),
    size: z.number().int().min(1).describe('neurons in the layer'),
    ioQubits: z.number().int().min(1).optional().describe('IO qubits per neuron; default 1'),
    memoryQubits: z.number().int().min(0).optional().describe('memory qubits per neuron; default 1'),
    ansatz: ansatzSchema.optional(),
    path: z.enum(['dense', 'gates']).optional().describe('simulate with the dense step unitary or gate by gate; default: chosen by size'),
    init: thetaInitSchema.optional(),
    memory: z.enum(['quantum', 'reset', 'measured']).optional().describe('what the memory qubits carry between steps: the quantum state, nothing (reset), or the measured outcome; default quantum'),
  }).describe(`An SQS layer of \`network.layers\` (\`neuron\` "${kind}").`);
}

/** The circuit of an SQS layer config; `ansatz` is the kind's default ansatz. */
function sqsCircuit(cfg: LayerConfig, ansatz: AnsatzSpec): Circuit {
  return circuitFromAnsatz((cfg.ansatz as AnsatzSpec | undefined) ?? ansatz, (cfg.ioQubits as number | undefined) ?? 1, (cfg.memoryQubits as number | undefined) ?? 1);
}

/** Channels (IO qubits) and circuit angles of an SQS layer config. */
function sqsShape(cfg: LayerConfig, ansatz: AnsatzSpec): { channels: number; intrinsic: number } {
  const circuit = sqsCircuit(cfg, ansatz);
  return { channels: circuit.ioQubits, intrinsic: cfg.size * circuit.paramNames.length };
}

/** One single-shot circuit run per neuron per step: the measured spike is the output. */
const singleShotPerStep = (cfg: LayerConfig, steps: number) => ({ executions: steps * cfg.size, estimated: false });

export const sqsNeuron: NeuronKind = {
  kind: 'sqs',
  summary: 'stochastic quantum spiking neuron: N IO + N_M memory qubits, circuit angles θ (the model)',
  circuitAngles: true,
  configSchema: sqsConfigSchema('sqs'),
  circuit: (cfg) => sqsCircuit(cfg, 'paper'),
  create: (cfg, seed) => new SqsLayer(cfg as unknown as SqsLayerConfig, { seed }),
  shape: (cfg) => sqsShape(cfg, 'paper'),
  executions: singleShotPerStep,
};

/** The authors' public code's neuron (θ_mem on the IO qubit, the measured spike carried as memory): for ablations. */
export const sqsCompatNeuron: NeuronKind = {
  kind: 'sqs-compat',
  summary: "the authors' public code's SQS neuron (paper-compat ansatz, measured spike as memory), for ablations",
  circuitAngles: true,
  configSchema: sqsConfigSchema('sqs-compat'),
  circuit: (cfg) => sqsCircuit(cfg, 'paper-compat'),
  create: (cfg, seed) => new SqsLayer({ ansatz: 'paper-compat', memory: 'measured', ...(cfg as unknown as SqsLayerConfig) }, { seed }),
  shape: (cfg) => sqsShape(cfg, 'paper-compat'),
  executions: singleShotPerStep,
};
