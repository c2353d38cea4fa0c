/**
 * A layer of SQS neurons (SPEC §2): N IO qubits and N_M memory qubits each, a shared circuit
 * structure with per-neuron angles θ [H, K]. The memory is a pure state per neuron and sample.
 */
import { Circuit, occurrenceAngles } from '../../kernels/circuit';
import { Complex, crepeatRows } from '../../kernels/complex';
import { circuitUnitary, preferDense } from '../../kernels/evolve';
import { fusedSqsStep, fusedSupported } from '../../kernels/fused';
import { fusedGradSupported, sqsStepFusedGrad } from '../../kernels/fused-grad';
import { ShiftTable, combineShifts, encodingShifts, shiftTable, shiftedAngles, shotEstimate } from '../../kernels/shift';
import { assertFits } from '../../kernels/memory';
import {
  encodingAngles,
  initialMemory,
  oneHotFromBits,
  perQubit,
  sqsStep,
  surrogateSpikes,
} from '../../kernels/statevector';
import { Tensor, repeatRows, tf } from '../../kernels/tf';
import { AnsatzSpec, circuitFromAnsatz } from '../spec';
import { Eligibility, ForcedResult, LocalOptions, NeuronLayer, StepContext, StepResult } from './layer';

export interface SqsLayerConfig {
  size: number;
  ioQubits?: number;
  memoryQubits?: number;
  ansatz?: AnsatzSpec;
  /** Force the dense-unitary or gate-by-gate path (default: automatic). */
  path?: 'dense' | 'gates';
}

export interface SqsState {
  mem: Complex;
}

export interface SqsPrep {
  /** Per-occurrence angles [H, G]. */
  angles: Tensor;
  unitary?: Complex;
  /** For the local rule: every parameter-shifted circuit, stacked shift-major along the rows. */
  shifts?: { table: ShiftTable; angles: Tensor; unitary?: Complex };
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

  constructor(readonly config: SqsLayerConfig, init?: { theta?: Tensor; seed?: number }) {
    const n = config.ioQubits ?? 1;
    const m = config.memoryQubits ?? 1;
    this.size = config.size;
    this.channels = n;
    this.circuit = circuitFromAnsatz(config.ansatz, n, m);
    const k = this.circuit.paramNames.length;
    const th = init?.theta ?? tf.randomUniform([this.size, k], 0, 2 * Math.PI, 'float32', init?.seed ?? 0);
    if (th.shape[0] !== this.size || th.shape[1] !== k)
      throw new Error(`θ must be [${this.size}, ${k}], got [${th.shape}]`);
    this.theta = tf.variable(th, true);
    if (!init?.theta) th.dispose();
    this.variables = { theta: this.theta };
    this.dense = config.path ? config.path === 'dense' : preferDense(this.circuit, this.size);
  }

  /** Checks the working set of a batch before anything is allocated. */
  checkBatch(batch: number): void {
    assertFits(`an SQS layer of ${this.size} neurons × ${batch} samples with ${this.circuit.totalQubits} qubits`, this.size * batch, this.circuit.dim);
    if (this.dense) assertFits(`dense unitaries of ${this.size} neurons`, this.size, this.circuit.dim * this.circuit.dim);
  }

  prepare(opts: { local?: boolean; twoTermOnly?: boolean } = {}): SqsPrep {
    const angles = occurrenceAngles(this.circuit, this.theta);
    const prep: SqsPrep = this.dense ? { angles, unitary: circuitUnitary(this.circuit, angles) } : { angles };
    if (opts.local) {
      const table = shiftTable(this.circuit, opts.twoTermOnly ? 'two-term' : 'exact');
      const shifted = shiftedAngles(table, angles);
      prep.shifts = { table, angles: shifted, ...(this.dense ? { unitary: circuitUnitary(this.circuit, shifted) } : {}) };
    }
    return prep;
  }

  /**
   * Local-rule eligibilities with the memory held fixed: ∂p/∂θ by the exact shift rules (all
   * shifted circuits in one batched evaluation along a leading shift axis), ∂p/∂φ by the two-term
   * shift of the encoding RX, divided by p(y). With `shots`, every probability is a frequency.
   */
  eligibility(prep: SqsPrep, state: SqsState, currents: Tensor, spikes: Tensor | null, ctx: StepContext, opts: LocalOptions): SqsEligibility {
    if (!prep.shifts) throw new Error('eligibility needs prepare({ local: true })');
    const h = this.size;
    const n = this.channels;
    const b = currents.shape[2] as number;
    const k = this.circuit.paramNames.length;
    const phi = encodingAngles(currents);
    const base = this.run(prep, state.mem, currents, spikes ? { forced: oneHotFromBits(spikes) } : { uniforms: ctx.rng.uniform([h, b]) }, false);
    const oneHot = base.oneHot;
    const estimate = (p: Tensor) => shotEstimate(p, opts.shots, ctx.rng.nextSeed());
    // p(y) of the taken outcome for `copies` stacked variants (rows shift-major) of every neuron.
    const takenProb = (copies: number, unitary: Complex | undefined, angles: Tensor, phiC: Tensor): Tensor => {
      const mem = crepeatRows(state.mem, copies);
      const forced = repeatRows(oneHot, copies);
      return tf.reshape(this.evaluate(unitary, angles, mem, phiC, { forced }, false).prob, [copies, h, b]);
    };
    // Circuit-angle shifts: the same input through every shifted circuit, in one evaluation.
    const s = prep.shifts.table.size;
    const dpdTheta =
      s > 0
        ? combineShifts(prep.shifts.table, k, estimate(takenProb(s, prep.shifts.unitary, prep.shifts.angles, repeatRows(phi, s))))
        : tf.zeros([h, 0, b]);
    // Encoding shifts: φ_n ± π/2, one IO qubit at a time, through the unshifted circuit.
    const phiS = tf.reshape(encodingShifts(phi), [2 * n * h, n, b]);
    const tiledU = prep.unitary ? crepeatRows(prep.unitary, 2 * n) : undefined;
    const pE = tf.reshape(estimate(takenProb(2 * n, tiledU, repeatRows(prep.angles, 2 * n), phiS)), [2, n, h, b]);
    const dpdPhi = tf.transpose(tf.mul(tf.sub(tf.squeeze(tf.slice(pE, [0, 0, 0, 0], [1, n, h, b]), [0]), tf.squeeze(tf.slice(pE, [1, 0, 0, 0], [1, n, h, b]), [0])), 0.5), [1, 0, 2]);
    const p = estimate(base.prob);
    // 1/p, and no update where the (estimated) probability is zero.
    const inv = tf.div(tf.cast(tf.greater(p, 0), 'float32'), tf.maximum(p, 1e-12));
    const dLogPdEncoding = tf.mul(dpdPhi, tf.expandDims(inv, 1));
    const active = tf.cast(tf.greater(currents, 0), 'float32');
    const bits = spikes ?? perQubit(oneHot, n);
    return {
      state: { mem: base.mem },
      spikes: bits,
      spikeProb: perQubit(base.probs, n),
      outcomeProbs: base.probs,
      logProb: tf.log(tf.maximum(opts.shots > 0 ? p : base.prob, opts.shots > 0 ? 0.5 / opts.shots : 1e-30)),
      dLogPdCurrent: tf.mul(tf.mul(dLogPdEncoding, active), Math.PI),
      dLogPdEncoding,
      dLogPdParams: { theta: tf.mul(dpdTheta, tf.expandDims(inv, 1)) },
      probAt: (z: Tensor) => estimate(this.run(prep, state.mem, z, { forced: oneHot }, false).prob),
    };
  }

  initialState(batch: number): SqsState {
    this.checkBatch(batch);
    return { mem: initialMemory(this.size, this.circuit.memoryQubits, batch) };
  }

  /**
   * One step from currents, sampling (uniforms) or forced (one-hot outcomes). Outside a gradient
   * tape, small dense registers on CPU backends take the fused kernel; everything else (autodiff,
   * GPU backends, large registers) the composed ops. Both are held equal by tests.
   */
  private run(prep: SqsPrep, mem: Complex, currents: Tensor, outcome: { uniforms: Tensor } | { forced: Tensor }, differentiable = true) {
    return this.evaluate(prep.unitary, prep.angles, mem, encodingAngles(currents), outcome, differentiable);
  }

  private evaluate(unitary: Complex | undefined, angles: Tensor, mem: Complex, phi: Tensor, outcome: { uniforms: Tensor } | { forced: Tensor }, differentiable: boolean) {
    if (!differentiable && unitary && fusedSupported(this.circuit)) return fusedSqsStep({ unitary, mem, phi, ...outcome });
    // Differentiable: the fused kernels with a registered gradient (N = 1, D ≤ 64, cpu/wasm; off with SQSNN_FUSED_GRAD=0).
    if (differentiable && unitary && fusedGradSupported(this.circuit)) return sqsStepFusedGrad({ circuit: this.circuit, unitary, mem, phi, ...outcome });
    return sqsStep({ circuit: this.circuit, unitary, angles, mem, phi, ...outcome });
  }

  step(prep: SqsPrep, state: SqsState, currents: Tensor, ctx: StepContext): StepResult<SqsState> {
    const out = this.run(prep, state.mem, currents, { uniforms: ctx.rng.uniform([this.size, currents.shape[2] as number]) }, ctx.train);
    const n = this.channels;
    const spikeProb = perQubit(out.probs, n);
    const bits = perQubit(out.oneHot, n);
    const spikes = ctx.train ? surrogateSpikes(spikeProb, bits, ctx.surrogate) : bits;
    return { state: { mem: out.mem }, spikes, spikeProb, outcomeProbs: out.probs };
  }

  stepForced(prep: SqsPrep, state: SqsState, currents: Tensor, spikes: Tensor): ForcedResult<SqsState> {
    const out = this.run(prep, state.mem, currents, { forced: oneHotFromBits(spikes) });
    return {
      state: { mem: out.mem },
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
      ...(this.config.path ? { path: this.config.path } : {}),
    };
  }

  dispose(): void {
    this.theta.dispose();
  }
}
