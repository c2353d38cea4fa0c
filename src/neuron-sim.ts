/**
 * One simulator of a single neuron from its spec (src/spec.ts), shared by `traceNeuron`, the
 * likelihood of device records and `neuronGradients`. It steps B trajectories of the neuron at once
 * (the batch axis), each step either sampling the outcome or teacher-forcing a given one:
 *
 * - pure mode: an SQS layer of one neuron, its memory a statevector per trajectory, stepped by the
 *   layer itself (so the single neuron is exactly a network's neuron);
 * - density mode (the spec has noise, or `mode: 'density'`): the memory as a density matrix with the
 *   spec's noise after each circuit layer; with `average`, the outcome-averaged state (no sampling,
 *   no conditioning), whose outcome probabilities are the model's marginals.
 *
 * Inputs and outputs are host arrays laid out [N, B] (currents, spikes) and [K, B] (outcome
 * probabilities, K = 2^N), so callers never hold tensors. Every draw comes from one `Rng`.
 */
import { occurrenceAngles } from '../kernels/circuit';
import { Complex } from '../kernels/complex';
import { densityFromPure, densityStep } from '../kernels/density';
import { encodingAngles, initialMemory, oneHotFromBits } from '../kernels/statevector';
import { Tensor, disposeAll, keepAll, tf, tidy } from '../kernels/tf';
import { StepContext, StepResult } from './neurons/layer';
import { SqsLayer, SqsPrep, SqsState } from './neurons/sqs';
import { Rng } from './random';
import { ParsedNeuronSpec } from './spec';

/** One step of B trajectories, copied to the host. */
export interface NeuronSimStep {
  /** Probabilities of the 2^N outcomes [K, B], row-major. */
  probs: Float32Array;
  /** Spikes taken [N, B]: the sampled or the forced ones (absent when averaging). */
  spikes?: Float32Array;
}

/** What a custom pure-mode step sees: the layer of one neuron, its prepared circuit and state. */
export interface PureStepArgs {
  layer: SqsLayer;
  prep: SqsPrep;
  state: SqsState;
  /** [1, N, B]. */
  currents: Tensor;
  /** Forced spikes [1, N, B], or null to sample. */
  spikes: Tensor | null;
  ctx: StepContext;
}

export interface NeuronSimOptions {
  /** Trajectories stepped together (default 1). */
  batch?: number;
  /** Source of every draw (default `new Rng(spec.seed)`). */
  rng?: Rng;
  /** Default: density when the spec has noise, else pure. */
  mode?: 'pure' | 'density';
  /** Density mode: the outcome-averaged state (no sampling, no forcing). */
  average?: boolean;
  /** Pure mode: prepare the shifted circuits of the local rule (for eligibilities). */
  prepare?: { local?: boolean; twoTermOnly?: boolean };
  /**
   * Pure mode: what one step does, inside the simulator's tidy (default: `layer.step`, or
   * `layer.stepForced` when spikes are given). Its `state` becomes the next step's state and its
   * `outcomeProbs` and `spikes` the step's output.
   */
  step?: (args: PureStepArgs) => StepResult<SqsState>;
}

interface Engine {
  step(z: Tensor, forced: Tensor | null): { probs: Tensor; spikes: Tensor | null };
  dispose(): void;
}

export class NeuronSimulator {
  readonly mode: 'pure' | 'density';
  readonly batch: number;
  readonly ioQubits: number;
  private readonly engine: Engine;

  constructor(readonly spec: ParsedNeuronSpec, opts: NeuronSimOptions = {}) {
    this.mode = opts.mode ?? (spec.noise ? 'density' : 'pure');
    this.batch = opts.batch ?? 1;
    this.ioQubits = spec.circuit.ioQubits;
    const rng = opts.rng ?? new Rng(spec.seed);
    this.engine = this.mode === 'density' ? densityEngine(spec, this.batch, rng, opts.average ?? false) : pureEngine(spec, this.batch, rng, opts);
  }

  /** One step from currents [N, B] (N-major), sampling, or forcing the spikes [N, B] when given. */
  step(currents: ArrayLike<number>, forced: ArrayLike<number> | null = null): NeuronSimStep {
    const shape: [number, number, number] = [1, this.ioQubits, this.batch];
    const out = tidy(() => {
      const r = this.engine.step(tf.tensor3d(Float32Array.from(currents), shape), forced ? tf.tensor3d(Float32Array.from(forced), shape) : null);
      return r.spikes ? [r.probs, r.spikes] : [r.probs];
    });
    const [probs, spikes] = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return spikes ? { probs, spikes } : { probs };
  }

  /** Step t of the spec itself: its currents for every trajectory, its outcomes (if any) forced. */
  stepSpec(t: number): NeuronSimStep {
    const n = this.ioQubits;
    const b = this.batch;
    const spread = (row: number[]) => {
      const a = new Float32Array(n * b);
      for (let i = 0; i < n; i++) a.fill(row[i], i * b, (i + 1) * b);
      return a;
    };
    return this.step(spread(this.spec.currents[t]), this.spec.outcomes ? spread(this.spec.outcomes[t]) : null);
  }

  dispose(): void {
    this.engine.dispose();
  }
}

function pureEngine(spec: ParsedNeuronSpec, batch: number, rng: Rng, opts: NeuronSimOptions): Engine {
  const { circuit } = spec;
  const theta = tf.tensor2d([spec.theta]);
  const layer = new SqsLayer({ size: 1, ioQubits: circuit.ioQubits, memoryQubits: circuit.memoryQubits, ansatz: circuit.layers }, { theta });
  theta.dispose();
  const ctx: StepContext = { rng, train: false, surrogate: 'straight-through' };
  const stepFn =
    opts.step ?? ((a: PureStepArgs) => (a.spikes ? a.layer.stepForced(a.prep, a.state, a.currents, a.spikes) : a.layer.step(a.prep, a.state, a.currents, a.ctx)));
  const prep = tidy(() => keepAll(layer.prepare(opts.prepare ?? {})));
  let state: SqsState = tidy(() => keepAll(layer.initialState(batch)));
  return {
    step(currents, spikes) {
      const old = state;
      const r = stepFn({ layer, prep, state: old, currents, spikes, ctx });
      if (!r.outcomeProbs) throw new Error('a pure-mode step must return outcomeProbs');
      state = keepAll(r.state);
      disposeAll(old);
      return { probs: r.outcomeProbs, spikes: r.spikes };
    },
    dispose() {
      disposeAll(state);
      disposeAll(prep);
      layer.dispose();
    },
  };
}

function densityEngine(spec: ParsedNeuronSpec, batch: number, rng: Rng, average: boolean): Engine {
  const { circuit } = spec;
  const n = circuit.ioQubits;
  const angles = tidy(() => occurrenceAngles(circuit, tf.tensor2d([spec.theta])));
  let rho: Complex = tidy(() => densityFromPure(initialMemory(1, circuit.memoryQubits, batch)));
  return {
    step(currents, spikes) {
      const old = rho;
      const forced = spikes && !average ? oneHotFromBits(spikes) : undefined;
      const out = densityStep({
        circuit, angles, rhoMem: old, phi: encodingAngles(currents), noise: spec.noise, forced,
        uniforms: forced || average ? undefined : rng.uniform([1, batch]), average,
      });
      rho = keepAll(out.rhoMem);
      disposeAll(old);
      return { probs: out.probs, spikes: average ? null : spikes ?? spikesFromOneHot(out.oneHot as Tensor, n) };
    },
    dispose() {
      disposeAll(rho);
      angles.dispose();
    },
  };
}

/** Spike bits [1, N, B] of a one-hot outcome [1, K, B]. */
function spikesFromOneHot(oneHot: Tensor, n: number): Tensor {
  const k = 2 ** n;
  const table = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let y = 0; y < k; y++) table[i * k + y] = (y >> i) & 1;
  const b = oneHot.shape[2] as number;
  return tf.reshape(tf.matMul(tf.tensor2d(table, [n, k]), tf.reshape(oneHot, [k, b])), [1, n, b]);
}
