/**
 * Classical probabilistic spiking neurons (`prob`, docs/model.md §7): the classical counterpart of the SQS
 * neuron, trainable by BPTT and by the same local rule.
 *
 *   u_t = β u_{t−1} + I_t − R_t,     y_t ~ Bernoulli(σ(u_t)),
 *
 * with u_0 = 0 and the optional reset R_t: 'none' (default, R = 0), 'subtract' (R = ϑ_r y_{t−1},
 * `resetValue` ϑ_r = 1) or 'zero' (R = β y_{t−1} u_{t−1}, i.e. u_t = β (1 − y_{t−1}) u_{t−1} + I_t).
 * Spikes are sampled with the seeded uniforms of `ctx.rng.uniform([H, B])`: y = [v < σ(u)].
 *
 * BPTT: as for SQS, the sampled spike passes the gradient to σ(u) straight through or scaled by
 * p(1−p) (`ctx.surrogate`); autodiff then continues through σ and the membrane across steps.
 * The reset uses the sampled value only (no gradient through y_{t−1}).
 *
 * Local rule: with the previous membrane (and previous spike) held fixed,
 *   log p(y | u) = y log σ(u) + (1 − y) log σ(−u),   ∂ log p / ∂ I_t = y − σ(u_t),
 * and, when β is trainable (`learnBeta`, per neuron, clipped to [0, 1]),
 *   ∂ log p / ∂ β = (y − σ(u_t)) · ∂u_t/∂β, with ∂u_t/∂β = u_{t−1} (none/subtract) or
 *   (1 − y_{t−1}) u_{t−1} (zero), times [0 ≤ β_raw ≤ 1] (the clip).
 * σ(u) is computed exactly, so the `shots` option of the local rule does not apply here. The
 * eligibility also offers `probAt(z')` = p(y | u(z')) with the state held fixed, for SPSA.
 */
import { Surrogate } from '../../kernels/statevector';
import { z } from 'zod';
import { Tensor, tf } from '../../kernels/tf';
import { Eligibility, ForcedResult, LocalOptions, NeuronKind, NeuronLayer, StepContext, StepResult } from './layer';
import { betaVariable, checkKeys, checkNumber, noExecutions } from './lif';
import { ConfigError } from '../errors';

export type ProbReset = 'none' | 'subtract' | 'zero';

export interface ProbLayerConfig {
  size: number;
  /** Membrane decay β ∈ [0, 1] (default 0.5); initial value when `learnBeta`. */
  beta?: number;
  /** Reset after a spike (default 'none'). */
  reset?: ProbReset;
  /** ϑ_r of the subtractive reset (default 1). */
  resetValue?: number;
  /** Per-neuron trainable β (variable `beta` [H, 1]; default false). */
  learnBeta?: boolean;
}

export interface ProbState {
  /** Membrane u_{t−1} [H, 1, B]. */
  u: Tensor;
  /** Previous spikes y_{t−1} [H, 1, B]. */
  s: Tensor;
}

export interface ProbPrep {
  /** β as a scalar, or [H, 1, 1] when trainable (clipped to [0, 1]). */
  beta: Tensor | number;
}

const PROB_KEYS = ['beta', 'reset', 'resetValue', 'learnBeta'];

export function probOptions(cfg: ProbLayerConfig): Required<ProbLayerConfig> {
  checkKeys('prob', cfg, PROB_KEYS);
  const reset = cfg.reset ?? 'none';
  if (!['none', 'subtract', 'zero'].includes(reset)) throw new ConfigError(`prob.reset must be none, subtract or zero, got ${JSON.stringify(reset)}`);
  return {
    size: cfg.size,
    beta: checkNumber('prob', 'beta', cfg.beta ?? 0.5, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    reset,
    resetValue: checkNumber('prob', 'resetValue', cfg.resetValue ?? 1, (x) => x >= 0, 'a non-negative number'),
    learnBeta: Boolean(cfg.learnBeta ?? false),
  };
}

/** Trainable intrinsic parameters of a prob layer: H when β is learnt, else 0. */
export function probIntrinsicParameters(cfg: ProbLayerConfig): number {
  return probOptions(cfg).learnBeta ? cfg.size : 0;
}

/** Bernoulli bits [v < p] with zero gradient (the surrogate is attached separately). */
export const bernoulliBits: (p: Tensor, uniforms: Tensor) => Tensor = tf.customGrad(((p: Tensor, v: Tensor) => ({
  value: tf.cast(tf.less(v, p), 'float32'),
  gradFunc: (dy: Tensor) => [tf.zerosLike(dy), tf.zerosLike(dy)],
})) as any) as any;

/**
 * Spikes with the value of `bits` whose gradient reaches p unchanged (straight-through) or scaled by
 * p(1−p) (`pq`), as SQS does. (Own copy: p must be passed to the backward pass through `save`.)
 */
export function probSurrogateSpikes(p: Tensor, bits: Tensor, kind: Surrogate): Tensor {
  const f = tf.customGrad(((pp: Tensor, s: Tensor, save: (t: Tensor[]) => void) => {
    save([pp]);
    return {
      value: tf.clone(s),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [kind === 'pq' ? tf.mul(dy, tf.mul(saved[0], tf.sub(1, saved[0]))) : tf.clone(dy), tf.zerosLike(dy)],
    };
  }) as any) as any;
  return f(p, bits);
}

export class ProbLayer implements NeuronLayer<ProbState, ProbPrep> {
  readonly kind = 'prob';
  readonly size: number;
  readonly channels = 1;
  readonly variables: Record<string, tf.Variable>;
  readonly options: Required<ProbLayerConfig>;

  constructor(config: ProbLayerConfig) {
    this.options = probOptions(config);
    this.size = config.size;
    this.variables = this.options.learnBeta ? { beta: betaVariable(this.size, this.options.beta) } : {};
  }

  prepare(): ProbPrep {
    const v = this.variables.beta;
    return { beta: v ? tf.reshape(tf.clipByValue(v, 0, 1), [this.size, 1, 1]) : this.options.beta };
  }

  initialState(batch: number): ProbState {
    return { u: tf.zeros([this.size, 1, batch]), s: tf.zeros([this.size, 1, batch]) };
  }

  /** The part of u_t that β multiplies: u_{t−1}, or (1 − y_{t−1}) u_{t−1} with the 'zero' reset. */
  private carried(state: ProbState): Tensor {
    return this.options.reset === 'zero' ? tf.mul(state.u, tf.sub(1, state.s)) : state.u;
  }

  /** u_t from the state and currents [H, 1, B]. */
  membrane(prep: ProbPrep, state: ProbState, currents: Tensor): Tensor {
    if (currents.shape.length !== 3 || currents.shape[0] !== this.size || currents.shape[1] !== 1)
      throw new Error(`prob layer expects currents [${this.size}, 1, B], got [${currents.shape}]`);
    let u = tf.add(tf.mul(this.carried(state), prep.beta), currents);
    if (this.options.reset === 'subtract') u = tf.sub(u, tf.mul(state.s, this.options.resetValue));
    return u;
  }

  private sample(p: Tensor, ctx: StepContext): Tensor {
    const b = p.shape[2] as number;
    return bernoulliBits(p, tf.reshape(ctx.rng.uniform([this.size, b]), [this.size, 1, b]));
  }

  step(prep: ProbPrep, state: ProbState, currents: Tensor, ctx: StepContext): StepResult<ProbState> {
    const u = this.membrane(prep, state, currents);
    const p = tf.sigmoid(u);
    const bits = this.sample(p, ctx);
    const spikes = ctx.train ? probSurrogateSpikes(p, bits, ctx.surrogate) : bits;
    return { state: { u, s: bits }, spikes, spikeProb: p };
  }

  /** log p(y | u) [H, B] = Σ_channels y log σ(u) + (1 − y) log σ(−u), computed stably. */
  logProb(u: Tensor, y: Tensor): Tensor {
    const lp1 = tf.neg(tf.softplus(tf.neg(u)));
    const lp0 = tf.neg(tf.softplus(u));
    return tf.sum(tf.add(tf.mul(y, lp1), tf.mul(tf.sub(1, y), lp0)), 1);
  }

  stepForced(prep: ProbPrep, state: ProbState, currents: Tensor, spikes: Tensor): ForcedResult<ProbState> {
    const u = this.membrane(prep, state, currents);
    return { state: { u, s: tf.clone(spikes) }, spikes, spikeProb: tf.sigmoid(u), logProb: this.logProb(u, spikes) };
  }

  eligibility(prep: ProbPrep, state: ProbState, currents: Tensor, spikes: Tensor | null, ctx: StepContext, _opts: LocalOptions): Eligibility<ProbState> {
    const u = this.membrane(prep, state, currents);
    const p = tf.sigmoid(u);
    const y = spikes ?? this.sample(p, ctx);
    const err = tf.sub(y, p);
    const dLogPdParams: Record<string, Tensor> = {};
    const v = this.variables.beta;
    if (v) {
      const inRange = tf.reshape(tf.cast(tf.logicalAnd(tf.greaterEqual(v, 0), tf.lessEqual(v, 1)), 'float32'), [this.size, 1, 1]);
      dLogPdParams.beta = tf.mul(tf.sum(tf.mul(err, this.carried(state)), 1, true), inRange);
    }
    return {
      state: { u, s: spikes ? tf.clone(spikes) : y },
      spikes: y,
      spikeProb: p,
      logProb: this.logProb(u, y),
      dLogPdCurrent: err,
      dLogPdParams,
      // p(y) (a probability, as the local rule's SPSA uses it) at other currents, state held fixed.
      probAt: (z: Tensor) => tf.exp(this.logProb(this.membrane(prep, state, z), y)),
    };
  }

  stateTensors(state: ProbState): Tensor[] {
    return [state.u, state.s];
  }

  describe(): Record<string, unknown> {
    return { neuron: 'prob', ...this.options };
  }

  dispose(): void {
    for (const v of Object.values(this.variables)) v.dispose();
  }
}

export const probNeuron: NeuronKind = {
  kind: 'prob',
  summary: 'classical probabilistic (sigmoid-Bernoulli) neuron, trainable by BPTT and the local rule (baseline)',
  circuitAngles: false,
  // The shape of the options; their values are checked by probOptions when the layer is built.
  configSchema: z.strictObject({
    neuron: z.literal('prob'),
    size: z.number().int().min(1),
    beta: z.number().optional(),
    reset: z.enum(['none', 'subtract', 'zero']).optional(),
    resetValue: z.number().optional(),
    learnBeta: z.boolean().optional(),
  }),
  create: (cfg) => new ProbLayer(cfg as unknown as ProbLayerConfig),
  shape: (cfg) => ({ channels: 1, intrinsic: probIntrinsicParameters(cfg as unknown as ProbLayerConfig) }),
  executions: noExecutions,
};
