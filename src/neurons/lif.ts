/**
 * Classical leaky integrate-and-fire (LIF) neurons (docs/model.md §7), the deterministic baseline trained by
 * surrogate-gradient BPTT:
 *
 *   U_t = β U_{t−1} + I_t − S_{t−1} ϑ,     S_t = H(U_t − ϑ)  (spike when U_t > ϑ),
 *
 * with subtractive reset, U_0 = 0, S_0 = 0. β and ϑ are options; β may be made trainable per neuron
 * (`learnBeta`, off by default; β is clipped to [0, 1] in the forward pass, as snnTorch does). The
 * Heaviside step carries a surrogate derivative in the backward pass (x = U_t − ϑ):
 *   - `fast-sigmoid` (default, Zenke & Ganguli / snnTorch): dS/dU = 1 / (1 + k|x|)², slope k = 25;
 *   - `arctan` (snnTorch `atan`):                            dS/dU = (α/2) / (1 + (π α x / 2)²), α = 2.
 * The reset term uses the spike *value* only (`detachReset`, default true, as snnTorch's Leaky does):
 * no gradient flows through S_{t−1} ϑ. Layout [H, 1, B]: one channel per neuron.
 *
 * This module also holds the small spike helpers the other baselines share (`heavisideSurrogate`,
 * `detach`, `surrogateDerivative`).
 */
import { z } from 'zod';
import { Tensor, tf } from '../../kernels/tf';
import { ForcedResult, NeuronKind, NeuronLayer, StepContext, StepResult } from './layer';
import { ConfigError } from '../errors';

export type ThresholdSurrogate = 'fast-sigmoid' | 'arctan';
export const THRESHOLD_SURROGATES: ThresholdSurrogate[] = ['fast-sigmoid', 'arctan'];

/** Default slope parameter of each surrogate (k of the fast sigmoid, α of the arctan). */
export function defaultSlope(kind: ThresholdSurrogate): number {
  return kind === 'arctan' ? 2 : 25;
}

/** Surrogate derivative dH/dx of the Heaviside step at x (see the module comment for the forms). */
export function surrogateDerivative(x: Tensor, kind: ThresholdSurrogate, slope: number): Tensor {
  if (kind === 'arctan') {
    const a = tf.mul(x, (Math.PI * slope) / 2);
    return tf.div(slope / 2, tf.add(1, tf.square(a)));
  }
  return tf.div(1, tf.square(tf.add(1, tf.mul(tf.abs(x), slope))));
}

/**
 * H(x) = [x > 0] as float32, with the surrogate derivative as its gradient. The comparison runs
 * inside a tf.customGrad, so it never lands on the gradient tape (tfjs cannot differentiate it).
 * Tensors the backward pass needs go through `save`: a gradient tape's forward pass is a tidy, so
 * tensors merely captured by the closure are already disposed when gradFunc runs.
 */
export function heavisideSurrogate(x: Tensor, kind: ThresholdSurrogate, slope: number): Tensor {
  const f = tf.customGrad(((v: Tensor, save: (t: Tensor[]) => void) => {
    save([v]);
    return {
      value: tf.cast(tf.greater(v, 0), 'float32'),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.mul(dy, surrogateDerivative(saved[0], kind, slope))],
    };
  }) as any) as any;
  return f(x);
}

/** The value of x with zero gradient (tfjs 4.22 has no tf.stopGradient). */
export const detach: (x: Tensor) => Tensor = tf.customGrad(((x: Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: Tensor) => [tf.zerosLike(dy)],
})) as any) as any;

/** H(x) = [x > 0] with zero gradient: comparisons whose result must not carry gradient. */
export function stepNoGrad(x: Tensor): Tensor {
  const f = tf.customGrad(((v: Tensor) => ({
    value: tf.cast(tf.greater(v, 0), 'float32'),
    gradFunc: (dy: Tensor) => [tf.zerosLike(dy)],
  })) as any) as any;
  return f(x);
}

/** Rejects options a layer kind does not know (e.g. `memoryQubits` given to a classical layer). */
export function checkKeys(kind: string, cfg: object, known: string[]): void {
  const extra = Object.keys(cfg).filter((k) => !['neuron', 'size', ...known].includes(k));
  if (extra.length) throw new ConfigError(`${kind} neurons do not take option(s) ${extra.join(', ')}; known: ${known.join(', ')}`);
}

export function checkNumber(kind: string, name: string, v: unknown, ok: (x: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new ConfigError(`${kind}.${name} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

export interface LifLayerConfig {
  size: number;
  /** Membrane decay per step β ∈ [0, 1] (default 0.9); initial value when `learnBeta`. */
  beta?: number;
  /** Firing threshold ϑ > 0 (default 1). */
  threshold?: number;
  /** Surrogate derivative of the spike (default 'fast-sigmoid'). */
  surrogate?: ThresholdSurrogate;
  /** Its slope (default 25 for fast-sigmoid, 2 for arctan). */
  slope?: number;
  /** Per-neuron trainable β (variable `beta` [H, 1]; default false). */
  learnBeta?: boolean;
  /** No gradient through the reset term (default true). */
  detachReset?: boolean;
}

export interface LifState {
  /** Membrane U_{t−1} [H, 1, B]. */
  u: Tensor;
  /** Previous spikes S_{t−1} [H, 1, B] (for the reset). */
  s: Tensor;
}

export interface LifPrep {
  /** β as a scalar, or [H, 1, 1] when trainable (clipped to [0, 1]). */
  beta: Tensor | number;
}

const LIF_KEYS = ['beta', 'threshold', 'surrogate', 'slope', 'learnBeta', 'detachReset'];

/** Resolved LIF options with validation. */
export function lifOptions(cfg: LifLayerConfig): Required<LifLayerConfig> {
  checkKeys('lif', cfg, LIF_KEYS);
  const surrogate = cfg.surrogate ?? 'fast-sigmoid';
  if (!THRESHOLD_SURROGATES.includes(surrogate)) throw new ConfigError(`lif.surrogate must be one of ${THRESHOLD_SURROGATES.join(', ')}, got ${JSON.stringify(surrogate)}`);
  return {
    size: cfg.size,
    beta: checkNumber('lif', 'beta', cfg.beta ?? 0.9, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    threshold: checkNumber('lif', 'threshold', cfg.threshold ?? 1, (x) => x > 0, 'a positive number'),
    surrogate,
    slope: checkNumber('lif', 'slope', cfg.slope ?? defaultSlope(surrogate), (x) => x > 0, 'a positive number'),
    learnBeta: Boolean(cfg.learnBeta ?? false),
    detachReset: Boolean(cfg.detachReset ?? true),
  };
}

/** Trainable intrinsic parameters of a LIF layer: H when β is learnt, else 0. */
export function lifIntrinsicParameters(cfg: LifLayerConfig): number {
  return lifOptions(cfg).learnBeta ? cfg.size : 0;
}

export class LifLayer implements NeuronLayer<LifState, LifPrep> {
  readonly kind = 'lif';
  readonly size: number;
  readonly channels = 1;
  readonly variables: Record<string, tf.Variable>;
  readonly options: Required<LifLayerConfig>;

  constructor(config: LifLayerConfig) {
    this.options = lifOptions(config);
    this.size = config.size;
    this.variables = this.options.learnBeta ? { beta: betaVariable(this.size, this.options.beta) } : {};
  }

  prepare(): LifPrep {
    const v = this.variables.beta;
    return { beta: v ? tf.reshape(tf.clipByValue(v, 0, 1), [this.size, 1, 1]) : this.options.beta };
  }

  initialState(batch: number): LifState {
    return { u: tf.zeros([this.size, 1, batch]), s: tf.zeros([this.size, 1, batch]) };
  }

  /** U_t = β U_{t−1} + I_t − S_{t−1} ϑ. */
  membrane(prep: LifPrep, state: LifState, currents: Tensor): Tensor {
    this.checkCurrents(currents);
    return tf.sub(tf.add(tf.mul(state.u, prep.beta), currents), tf.mul(state.s, this.options.threshold));
  }

  step(prep: LifPrep, state: LifState, currents: Tensor, _ctx: StepContext): StepResult<LifState> {
    const u = this.membrane(prep, state, currents);
    const spikes = heavisideSurrogate(tf.sub(u, this.options.threshold), this.options.surrogate, this.options.slope);
    const bits = detach(spikes);
    // Deterministic neuron: the "spike probability" is the spike itself.
    return { state: { u, s: this.options.detachReset ? bits : spikes }, spikes, spikeProb: bits };
  }

  /**
   * Teacher forcing: the reset follows the forced spikes; log p(forced) is 0 where they agree with
   * the deterministic threshold crossing and log(1e−30) where they do not.
   */
  stepForced(prep: LifPrep, state: LifState, currents: Tensor, spikes: Tensor): ForcedResult<LifState> {
    const u = this.membrane(prep, state, currents);
    const fired = stepNoGrad(tf.sub(u, this.options.threshold));
    const agree = tf.sub(1, tf.abs(tf.sub(fired, spikes)));
    const logProb = tf.sum(tf.log(tf.maximum(agree, 1e-30)), 1);
    return { state: { u, s: tf.clone(spikes) }, spikes, spikeProb: fired, logProb };
  }

  stateTensors(state: LifState): Tensor[] {
    return [state.u, state.s];
  }

  describe(): Record<string, unknown> {
    return { neuron: 'lif', ...this.options };
  }

  dispose(): void {
    for (const v of Object.values(this.variables)) v.dispose();
  }

  private checkCurrents(z: Tensor): void {
    if (z.shape.length !== 3 || z.shape[0] !== this.size || z.shape[1] !== 1)
      throw new Error(`lif layer expects currents [${this.size}, 1, B], got [${z.shape}]`);
  }
}

/** A per-neuron trainable β [H, 1] initialised to `beta` (the initial value is not leaked). */
export function betaVariable(size: number, beta: number): tf.Variable {
  const init = tf.fill([size, 1], beta);
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** A classical neuron runs no circuit. */
export const noExecutions: NeuronKind['executions'] = () => ({ executions: 0, estimated: false });

export const lifNeuron: NeuronKind = {
  kind: 'lif',
  summary: 'classical leaky integrate-and-fire neuron with surrogate gradients (baseline)',
  circuitAngles: false,
  // The shape of the options; their values are checked by lifOptions when the layer is built.
  configSchema: z.strictObject({
    neuron: z.literal('lif'),
    size: z.number().int().min(1),
    beta: z.number().optional(),
    threshold: z.number().optional(),
    surrogate: z.enum(THRESHOLD_SURROGATES).optional(),
    slope: z.number().optional(),
    learnBeta: z.boolean().optional(),
    detachReset: z.boolean().optional(),
  }),
  create: (cfg) => new LifLayer(cfg as unknown as LifLayerConfig),
  shape: (cfg) => ({ channels: 1, intrinsic: lifIntrinsicParameters(cfg as unknown as LifLayerConfig) }),
  executions: noExecutions,
};
