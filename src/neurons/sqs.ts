/**
 * A layer of SQS neurons (SPEC §2): N IO qubits and N_M memory qubits each, a shared circuit
 * structure with per-neuron angles θ [H, K]. The memory is a pure state per neuron and sample.
 */
import { Circuit, occurrenceAngles } from '../../kernels/circuit';
import { Complex } from '../../kernels/complex';
import { circuitUnitary, preferDense } from '../../kernels/evolve';
import { assertFits } from '../../kernels/memory';
import {
  encodingAngles,
  initialMemory,
  oneHotFromBits,
  perQubit,
  sqsStep,
  surrogateSpikes,
} from '../../kernels/statevector';
import { Tensor, tf } from '../../kernels/tf';
import { AnsatzSpec, circuitFromAnsatz } from '../spec';
import { ForcedResult, NeuronLayer, StepContext, StepResult } from './layer';

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

  prepare(): SqsPrep {
    const angles = occurrenceAngles(this.circuit, this.theta);
    return this.dense ? { angles, unitary: circuitUnitary(this.circuit, angles) } : { angles };
  }

  initialState(batch: number): SqsState {
    this.checkBatch(batch);
    return { mem: initialMemory(this.size, this.circuit.memoryQubits, batch) };
  }

  step(prep: SqsPrep, state: SqsState, currents: Tensor, ctx: StepContext): StepResult<SqsState> {
    const b = currents.shape[2] as number;
    const out = sqsStep({
      circuit: this.circuit,
      unitary: prep.unitary,
      angles: prep.angles,
      mem: state.mem,
      phi: encodingAngles(currents),
      uniforms: ctx.rng.uniform([this.size, b]),
    });
    const n = this.channels;
    const spikeProb = perQubit(out.probs, n);
    const bits = perQubit(out.oneHot, n);
    const spikes = ctx.train ? surrogateSpikes(spikeProb, bits, ctx.surrogate) : bits;
    return { state: { mem: out.mem }, spikes, spikeProb, outcomeProbs: out.probs };
  }

  stepForced(prep: SqsPrep, state: SqsState, currents: Tensor, spikes: Tensor): ForcedResult<SqsState> {
    const out = sqsStep({
      circuit: this.circuit,
      unitary: prep.unitary,
      angles: prep.angles,
      mem: state.mem,
      phi: encodingAngles(currents),
      forced: oneHotFromBits(spikes),
    });
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
