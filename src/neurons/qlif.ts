/**
 * Quantum leaky integrate-and-fire (QLIF) neurons: D. Brand, F. Petruccione, "A quantum leaky
 * integrate-and-fire spiking neuron and network", npj Quantum Information (2024), arXiv:2407.16398.
 * One qubit per neuron; its 2×2 density matrix ρ per neuron and sample is the state, kept as four
 * real [H, 1, B] tensors a = ρ00, d = ρ11, x = Re ρ01, y = Im ρ01 (ρ10 = ρ01*). Each step t:
 *
 * 1. **Leak** (between steps): amplitude damping with γ = 1 − e^{−Δt/T1} on the state carried over,
 *    K0 = [[1, 0], [0, √(1−γ)]], K1 = [[0, √γ], [0, 0]]:
 *      a ← a + γ d,   d ← (1 − γ) d,   x ← √(1−γ) x,   y ← √(1−γ) y.
 *    Optional pure dephasing (`t2` ≤ 2·T1) scales x, y further by e^{−Δt (1/T2 − 1/(2 T1))}.
 *    At t = 1 the qubit is |0⟩ and the leak does nothing.
 * 2. **Input**: RX(φ) with φ = π·max(z, 0): the SQS convention of docs/model.md §1, and what the authors'
 *    code does (angle π|z| applied only when z > 0; z ≤ 0 applies nothing). Signed input is not
 *    used: RX(−φ) excites |0⟩ exactly as RX(φ) does, so it would not act as inhibition.
 *    With RX(φ) = [[c, −is], [−is, c]], c = cos φ/2, s = sin φ/2, ρ ← RX ρ RX†:
 *      a ← c² a + s² d − sin φ · y,   d ← s² a + c² d + sin φ · y,
 *      x ← x,                         y ← cos φ · y + ½ sin φ · (a − d).
 * 3. **Fire**: p = ρ11 (excited-state probability). Exact mode (`shots` = 0): spike iff p > θ.
 *    Shot mode (`shots` = S > 0): k ~ Binomial(S, p) from S seeded single-shot measurements (as
 *    hardware would estimate it), spike iff k/S > θ. Default θ = 0.75, the authors' code default.
 * 4. **Reset**: after a spike ρ ← |0⟩⟨0|, i.e. ρ ← (1 − s) ρ + s |0⟩⟨0|.
 *
 * BPTT: the paper trains with an arctan surrogate. Here the spike's gradient w.r.t. p (the exact
 * p, in shot mode too) is the snnTorch `atan` form centred on the threshold,
 *   ∂S/∂p = (α/2) / (1 + (π α (p − θ)/2)²),   with the default α = 2:  1 / (1 + (π (p − θ))²).
 * (The authors' code uses 1 / (1 + (π p)²), not centred on θ.) By default (`detachReset`) no
 * gradient flows through the reset's spike factor (snnTorch's convention); gradient does flow
 * through ρ itself, across steps.
 * The only trainable parameters are the synaptic weights and biases (the network's).
 *
 * Not taken from the authors' code: it learns a per-step "time" τ through a second dense layer and
 * realises the decay as a rotation on the excited population; here Δt and T1 are fixed options and
 * the decay is the exact amplitude-damping channel on the full density matrix.
 * `spikeProb` is the excited-state probability p (used for readout tie-breaks), not P(spike).
 */
import { z } from 'zod';
import { Tensor, tf } from '../../kernels/tf';
import { Rng } from '../random';
import { ForcedResult, NeuronKind, NeuronLayer, StepContext, StepResult } from './layer';
import { checkKeys, checkNumber, detach, stepNoGrad, surrogateDerivative } from './lif';

export interface QlifLayerConfig {
  size: number;
  /** Time between steps Δt (default 1, same unit as t1). */
  dt?: number;
  /** Amplitude-damping time T1 (default 10: e^{−0.1} ≈ 0.905 of the excitation survives a step). */
  t1?: number;
  /** Optional coherence time T2 ≤ 2·T1 (pure dephasing beyond T1's); default none. */
  t2?: number;
  /** Firing threshold θ on the excited-state probability (default 0.75). */
  threshold?: number;
  /** Shots per probability estimate (0 = exact, default). */
  shots?: number;
  /** Arctan surrogate slope α (default 2). */
  alpha?: number;
  /** No gradient through the reset's spike factor (default true). */
  detachReset?: boolean;
}

/** ρ per neuron and sample: a = ρ00, d = ρ11, x = Re ρ01, y = Im ρ01, each [H, 1, B]. */
export interface QlifState {
  a: Tensor;
  d: Tensor;
  x: Tensor;
  y: Tensor;
}

export type QlifPrep = Record<string, never>;

const QLIF_KEYS = ['dt', 't1', 't2', 'threshold', 'shots', 'alpha', 'detachReset'];

export interface QlifOptions {
  size: number;
  dt: number;
  t1: number;
  t2?: number;
  threshold: number;
  shots: number;
  alpha: number;
  detachReset: boolean;
}

export function qlifOptions(cfg: QlifLayerConfig): QlifOptions {
  checkKeys('qlif', cfg, QLIF_KEYS);
  const pos = (x: number) => x > 0;
  const t1 = checkNumber('qlif', 't1', cfg.t1 ?? 10, pos, 'a positive number');
  const t2 = cfg.t2 === undefined ? undefined : checkNumber('qlif', 't2', cfg.t2, (v) => v > 0 && v <= 2 * t1, `a positive number ≤ 2·t1 = ${2 * t1}`);
  return {
    size: cfg.size,
    dt: checkNumber('qlif', 'dt', cfg.dt ?? 1, (v) => v >= 0, 'a non-negative number'),
    t1,
    ...(t2 !== undefined ? { t2 } : {}),
    threshold: checkNumber('qlif', 'threshold', cfg.threshold ?? 0.75, (v) => v >= 0, 'a non-negative number (above 1: never fires)'),
    shots: checkNumber('qlif', 'shots', cfg.shots ?? 0, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    alpha: checkNumber('qlif', 'alpha', cfg.alpha ?? 2, pos, 'a positive number'),
    detachReset: Boolean(cfg.detachReset ?? true),
  };
}

/** The damping γ = 1 − e^{−Δt/T1} and the total coherence factor per step. */
export function qlifLeakFactors(o: Pick<QlifOptions, 'dt' | 't1' | 't2'>): { gamma: number; coherence: number } {
  const gamma = 1 - Math.exp(-o.dt / o.t1);
  const dephase = o.t2 !== undefined ? Math.exp(-o.dt * (1 / o.t2 - 1 / (2 * o.t1))) : 1;
  return { gamma, coherence: Math.sqrt(1 - gamma) * dephase };
}

/** Amplitude damping γ (and coherence factor, √(1−γ) without extra dephasing) on ρ. */
export function qlifLeak(s: QlifState, gamma: number, coherence = Math.sqrt(1 - gamma)): QlifState {
  if (gamma === 0 && coherence === 1) return s;
  return {
    a: tf.add(s.a, tf.mul(s.d, gamma)),
    d: tf.mul(s.d, 1 - gamma),
    x: tf.mul(s.x, coherence),
    y: tf.mul(s.y, coherence),
  };
}

/** ρ ← RX(φ) ρ RX(φ)† for angles φ [H, 1, B]. */
export function qlifRx(s: QlifState, phi: Tensor): QlifState {
  const cos = tf.cos(phi);
  const sin = tf.sin(phi);
  const c2 = tf.mul(tf.add(1, cos), 0.5);
  const s2 = tf.mul(tf.sub(1, cos), 0.5);
  const sy = tf.mul(sin, s.y);
  return {
    a: tf.sub(tf.add(tf.mul(c2, s.a), tf.mul(s2, s.d)), sy),
    d: tf.add(tf.add(tf.mul(s2, s.a), tf.mul(c2, s.d)), sy),
    x: s.x,
    y: tf.add(tf.mul(cos, s.y), tf.mul(tf.mul(sin, 0.5), tf.sub(s.a, s.d))),
  };
}

/** ρ ← (1 − s) ρ + s |0⟩⟨0| for spikes s [H, 1, B]. */
export function qlifReset(st: QlifState, s: Tensor): QlifState {
  const keep = tf.sub(1, s);
  return { a: tf.add(tf.mul(keep, st.a), s), d: tf.mul(keep, st.d), x: tf.mul(keep, st.x), y: tf.mul(keep, st.y) };
}

/** Elements per chunk of single-shot draws (bounds the working set of shot estimates). */
const SHOT_CHUNK = 1 << 22;

/** Number of excited outcomes k ~ Binomial(S, p) [H, 1, B] from S seeded single shots (no gradient). */
export function shotCounts(p: Tensor, shots: number, rng: Rng): Tensor {
  const shape = p.shape as number[];
  const rows = shape.reduce((x, y) => x * y, 1);
  const chunk = Math.max(1, Math.min(shots, Math.floor(SHOT_CHUNK / Math.max(1, rows))));
  let count: Tensor = tf.zeros(shape);
  const pe = tf.expandDims(p, shape.length);
  for (let done = 0; done < shots; done += chunk) {
    const m = Math.min(chunk, shots - done);
    const next = tf.tidy(() => tf.add(count, tf.sum(tf.cast(tf.less(rng.uniform([...shape, m]), pe), 'float32'), shape.length)));
    count.dispose();
    count = next;
  }
  pe.dispose();
  return count;
}

/** log Γ(n + 1) (Stirling series with recursion for small n; double precision). */
function logFactorial(n: number): number {
  let s = 0;
  let x = n + 1;
  while (x < 10) {
    s -= Math.log(x);
    x += 1;
  }
  const x2 = 1 / (x * x);
  return s + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + (1 / x) * (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 / 1680)));
}

/**
 * P(spike) = P(k/S > θ), k ~ Binomial(S, p), elementwise: Σ_{k > θS} C(S,k) p^k (1−p)^{S−k},
 * summed in log space. Differentiable in p.
 */
export function shotSpikeProbability(p: Tensor, shots: number, threshold: number): Tensor {
  const kmin = Math.floor(threshold * shots + 1e-9) + 1;
  if (kmin > shots) return tf.zerosLike(p);
  const ks = Array.from({ length: shots - kmin + 1 }, (_, i) => kmin + i);
  const rank = p.shape.length;
  const kShape = [...new Array(rank).fill(1), ks.length];
  const logC = tf.reshape(tf.tensor1d(ks.map((k) => logFactorial(shots) - logFactorial(k) - logFactorial(shots - k))), kShape);
  const k = tf.reshape(tf.tensor1d(ks), kShape);
  const pc = tf.expandDims(tf.clipByValue(p, 1e-30, 1), rank);
  const qc = tf.expandDims(tf.clipByValue(tf.sub(1, p), 1e-30, 1), rank);
  const terms = tf.add(logC, tf.add(tf.mul(k, tf.log(pc)), tf.mul(tf.sub(shots, k), tf.log(qc))));
  return tf.exp(tf.logSumExp(terms, rank));
}

export class QlifLayer implements NeuronLayer<QlifState, QlifPrep> {
  readonly kind = 'qlif';
  readonly size: number;
  readonly channels = 1;
  readonly variables: Record<string, tf.Variable> = {};
  readonly options: QlifOptions;
  readonly gamma: number;
  readonly coherence: number;

  constructor(config: QlifLayerConfig) {
    this.options = qlifOptions(config);
    this.size = config.size;
    const f = qlifLeakFactors(this.options);
    this.gamma = f.gamma;
    this.coherence = f.coherence;
  }

  prepare(): QlifPrep {
    return {};
  }

  initialState(batch: number): QlifState {
    const shape = [this.size, 1, batch];
    return { a: tf.ones(shape), d: tf.zeros(shape), x: tf.zeros(shape), y: tf.zeros(shape) };
  }

  /** Encoding angle φ [H, 1, B] from currents. */
  angles(currents: Tensor): Tensor {
    if (currents.shape.length !== 3 || currents.shape[0] !== this.size || currents.shape[1] !== 1)
      throw new Error(`qlif layer expects currents [${this.size}, 1, B], got [${currents.shape}]`);
    return tf.mul(tf.relu(currents), Math.PI);
  }

  /** Leak then input rotation: ρ before the threshold test. */
  evolve(state: QlifState, currents: Tensor): QlifState {
    return qlifRx(qlifLeak(state, this.gamma, this.coherence), this.angles(currents));
  }

  step(_prep: QlifPrep, state: QlifState, currents: Tensor, ctx: StepContext): StepResult<QlifState> {
    const rho = this.evolve(state, currents);
    const p = rho.d;
    const { threshold, shots, alpha } = this.options;
    const spikeFn = tf.customGrad(((pp: Tensor, save: (t: Tensor[]) => void) => {
      save([pp]);
      const over = shots > 0 ? tf.sub(shotCounts(pp, shots, ctx.rng), threshold * shots) : tf.sub(pp, threshold);
      return {
        value: tf.cast(tf.greater(over, 0), 'float32'),
        gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.mul(dy, surrogateDerivative(tf.sub(saved[0], threshold), 'arctan', alpha))],
      };
    }) as any) as any;
    const spikes: Tensor = spikeFn(p);
    const resetBy = this.options.detachReset ? detach(spikes) : spikes;
    return { state: qlifReset(rho, resetBy), spikes, spikeProb: p };
  }

  /**
   * Teacher forcing: ρ is reset where the forced spike is 1. log p(forced) uses P(spike) = [p > θ]
   * (exact mode; log 1e−30 where the forced value disagrees) or the binomial tail of S shots.
   */
  stepForced(_prep: QlifPrep, state: QlifState, currents: Tensor, spikes: Tensor): ForcedResult<QlifState> {
    const rho = this.evolve(state, currents);
    const p = rho.d;
    const { threshold, shots } = this.options;
    const pSpike = shots > 0 ? shotSpikeProbability(p, shots, threshold) : stepNoGrad(tf.sub(p, threshold));
    const pForced = tf.add(tf.mul(spikes, pSpike), tf.mul(tf.sub(1, spikes), tf.sub(1, pSpike)));
    const logProb = tf.sum(tf.log(tf.maximum(pForced, 1e-30)), 1);
    return { state: qlifReset(rho, spikes), spikes, spikeProb: p, logProb };
  }

  stateTensors(state: QlifState): Tensor[] {
    return [state.a, state.d, state.x, state.y];
  }

  describe(): Record<string, unknown> {
    return { neuron: 'qlif', ...this.options };
  }

  dispose(): void {
    // No intrinsic parameters.
  }
}

/** Shots assumed for a QLIF layer simulated with exact probabilities (Qiskit's default shot count). */
export const EXACT_QLIF_SHOT_ESTIMATE = 1024;

export const qlifNeuron: NeuronKind = {
  kind: 'qlif',
  summary: 'quantum leaky integrate-and-fire neuron (Brand & Petruccione 2024), no trainable intrinsic parameters (baseline)',
  circuitAngles: false,
  // The shape of the options; their values are checked by qlifOptions when the layer is built.
  configSchema: z.strictObject({
    neuron: z.literal('qlif'),
    size: z.number().int().min(1),
    ...Object.fromEntries(['dt', 't1', 't2', 'threshold', 'shots', 'alpha'].map((k) => [k, z.number().optional()])),
    detachReset: z.boolean().optional(),
  }),
  create: (cfg) => new QlifLayer(cfg as unknown as QlifLayerConfig),
  shape: (cfg) => {
    qlifOptions(cfg as unknown as QlifLayerConfig);
    return { channels: 1, intrinsic: 0 };
  },
  // The firing probability is estimated from S shots per neuron per step; with exact probabilities
  // (shots = 0) a device would still need shots, so EXACT_QLIF_SHOT_ESTIMATE is assumed and flagged.
  executions: (cfg, steps) => {
    const shots = Number(cfg.shots ?? 0);
    return { executions: (shots > 0 ? shots : EXACT_QLIF_SHOT_ESTIMATE) * steps * cfg.size, estimated: !(shots > 0) };
  },
};
