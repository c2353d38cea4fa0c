/**
 * One interface for every neuron layer (SQS, QLIF, LIF, probabilistic): functional steps on tensors
 * laid out [neurons, channels, batch], so a network can run them inside one gradient tape (BPTT) or
 * one tidy (inference), plus the per-step eligibilities of the local rule for layers that have one.
 */
import type { z } from 'zod';
import type { Circuit } from '../../kernels/circuit';
import { Tensor, tf } from '../../kernels/tf';
import { Surrogate } from '../../kernels/statevector';
import { Rng } from '../random';
import type { NeuronSpec } from '../spec';

/** A layer as data: its neuron kind, its size and the kind's options. */
export interface LayerConfig {
  neuron: string;
  size: number;
  [option: string]: unknown;
}

export interface StepContext {
  rng: Rng;
  /** True inside a gradient tape: use differentiable composed ops with surrogate spikes. */
  train: boolean;
  surrogate: Surrogate;
}

export interface StepResult<S> {
  state: S;
  /** Spikes [H, N, B] in {0, 1}. */
  spikes: Tensor;
  /** Probability of a spike [H, N, B] (for readout tie-breaks and surrogates). */
  spikeProb: Tensor;
  /** Probabilities of all 2^N outcomes [H, 2^N, B], for layers that measure several qubits. */
  outcomeProbs?: Tensor;
}

export interface ForcedResult<S> extends StepResult<S> {
  /** log p(forced outcome) [H, B]. */
  logProb: Tensor;
}

/** What the local rule needs from one step of a layer with its state held fixed. */
export interface Eligibility<S> extends ForcedResult<S> {
  /** ∂ log p(y) / ∂ z [H, N, B]: the weight eligibility is this ⊗ presynaptic spikes. */
  dLogPdCurrent: Tensor;
  /** ∂ log p(y) / ∂ (intrinsic parameter), per variable name: [H, K, B]. */
  dLogPdParams: Record<string, Tensor>;
  /** log p(y) of the taken outcome as a function of the current, for SPSA: [H, B] at currents z'. */
  probAt?: (currents: Tensor) => Tensor;
}

export interface LocalOptions {
  /** Finite shots per estimated probability (0 = exact). */
  shots: number;
  /**
   * Current derivative where the encoding is off (z ≤ 0): `exact` is 0 (RX(π·max(z, 0)) is flat
   * there, so a neuron whose current is negative for an input never learns to fire for it);
   * `one-sided` uses the derivative at z = 0⁺, measured by the same encoding shifts ±π/2 applied at
   * φ = 0 — a surrogate, like a leaky ReLU's, that keeps such neurons trainable.
   */
  encodingGradient?: 'exact' | 'one-sided';
  /**
   * With given outcomes (targets): which outcome the memory carried to the next step follows —
   * `forced` (the target: teacher forcing, the default) or `sampled` (the neuron's own single shot,
   * as at inference, so the memory cannot learn to replay the target).
   */
  memoryFollows?: 'forced' | 'sampled';
  /** Use the (inexact for controlled rotations) two-term rule everywhere: for demonstrations only. */
  twoTermOnly?: boolean;
}

export interface NeuronLayer<S = unknown, P = unknown> {
  readonly kind: string;
  /** Number of neurons H. */
  readonly size: number;
  /** Channels (IO qubits) per neuron N. */
  readonly channels: number;
  /** Trainable intrinsic parameters, by name. */
  readonly variables: Record<string, tf.Variable>;
  /** Precompute what stays fixed over a sequence (e.g. unitaries); call inside the tape when training. */
  prepare(opts?: { local?: boolean }): P;
  initialState(batch: number): S;
  step(prep: P, state: S, currents: Tensor, ctx: StepContext): StepResult<S>;
  /** Teacher forcing: take the given spikes [H, N, B] instead of sampling. */
  stepForced(prep: P, state: S, currents: Tensor, spikes: Tensor): ForcedResult<S>;
  /** Local-rule eligibilities at outcome `spikes` (sampled or target), for layers that support it. */
  eligibility?(prep: P, state: S, currents: Tensor, spikes: Tensor | null, ctx: StepContext, opts: LocalOptions): Eligibility<S>;
  /** For initialisation: neuron h starts with the negated input weights of neuron mirrorOf()[h] (−1: none). */
  mirrorOf?(): Int32Array | null;
  /** Tensors of the state, for disposal. */
  stateTensors(state: S): Tensor[];
  /** JSON description that recreates the layer (without parameter values). */
  describe(): Record<string, unknown>;
  /**
   * Neuron `neuron` of the layer, with its trained parameters, as a single-neuron spec without
   * currents (for `exportQasm` and `likelihoodReport`): only layers that run on quantum hardware.
   */
  toSpec?(neuron: number): Omit<NeuronSpec, 'currents'>;
  dispose(): void;
}

/** Channels N per neuron and trainable intrinsic parameters of a layer config (weights and biases aside). */
export interface LayerShape {
  channels: number;
  intrinsic: number;
}

/** Circuit executions (device shots) one input costs a layer per inference. */
export interface ExecutionCount {
  executions: number;
  /** True when the count rests on an assumed shot number (e.g. QLIF with exact probabilities). */
  estimated: boolean;
}

/**
 * One neuron kind: everything the engine knows about it, in one object. Each neuron file exports its
 * entry and src/neurons/registry.ts lists them; nothing registers itself on import.
 */
export interface NeuronKind {
  /** The `neuron` value of a layer config. */
  readonly kind: string;
  /** One line for listings (`sqsnn info`, the README). */
  readonly summary: string;
  /** Whether layers hold circuit angles θ (and so take a θ initialisation, `init`). */
  readonly circuitAngles: boolean;
  /**
   * Strict schema of a layer config of this kind, checked when a config file is read. Without
   * one, the layer checks its options when built.
   */
  readonly configSchema?: z.ZodType;
  /** A layer with its initial parameters drawn from `seed`. */
  create(cfg: LayerConfig, seed: number): NeuronLayer;
  /** The circuit each neuron of a layer config runs, for kinds that run one (memory estimates). */
  circuit?(cfg: LayerConfig): Circuit;
  /** Channels and intrinsic parameter count of a config, without building the layer (parameter budgets). */
  shape(cfg: LayerConfig): LayerShape;
  /** Circuit executions per inference of `steps` steps (0 for classical neurons). */
  executions(cfg: LayerConfig, steps: number): ExecutionCount;
}

export function countParams(vars: Record<string, tf.Variable>): number {
  return Object.values(vars).reduce((s, v) => s + v.size, 0);
}
