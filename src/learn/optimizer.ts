/**
 * Adam (and plain SGD) over named variables, with state keyed by the same stable names as
 * checkpoints, so a resumed run continues exactly. Each parameter tensor's Adam update is one kernel
 * pass on host-memory backends (kernels/adam.ts), one composed expression elsewhere.
 */
import { Tensor, tf } from '../../kernels/tf';
import { adamUpdate } from '../../kernels/adam';
import { ConfigError } from '../errors';

export interface OptimizerConfig {
  kind: 'adam' | 'sgd';
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Clip the global gradient norm to this value (0 = off). */
  clipNorm?: number;
  /** Per-variable learning-rate multipliers, matched by name prefix (e.g. {"layer.0.": 2}). */
  lrScale?: Record<string, number>;
  /**
   * Exponential decay: the learning rate halves every `lrHalfLife` optimiser steps (0 or absent: constant).
   * Counted in steps, which checkpoints keep, so a resumed run decays exactly as an uninterrupted one.
   */
  lrHalfLife?: number;
  /**
   * Weight averaging (Polyak): keep an exponential moving average of every parameter whose weight
   * on past steps halves every `averageHalfLife` optimiser steps (0 or absent: off). Evaluation and
   * checkpoints' deployed network use the average — the noise of single-shot gradient estimates
   * averages out of it instead of being frozen in by the last steps. Until the EMA's window is
   * reached it is the plain mean of the steps so far (no pull towards the initial weights).
   */
  averageHalfLife?: number;
}

/** Checkpoint names of the averaged parameters: `average.<variable name>`. */
export const AVERAGE_PREFIX = 'average.';

export class Optimizer {
  step = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};
  private readonly avg: Record<string, tf.Variable> = {};

  constructor(readonly vars: Record<string, tf.Variable>, readonly config: OptimizerConfig) {
    if (!(config.lr > 0)) throw new ConfigError(`learning rate must be > 0, got ${config.lr}`);
    if (config.lrHalfLife !== undefined && !(config.lrHalfLife >= 0)) throw new ConfigError(`optimizer.lrHalfLife must be ≥ 0 (steps), got ${config.lrHalfLife}`);
    const h = config.averageHalfLife;
    if (h !== undefined && !(h >= 0)) throw new ConfigError(`optimizer.averageHalfLife must be ≥ 0 (steps), got ${h}`);
    if (h) for (const [k, x] of Object.entries(vars)) this.avg[k] = tf.tidy(() => tf.variable(x.clone(), false));
    if (config.kind === 'adam')
      for (const [k, x] of Object.entries(vars)) {
        this.m[k] = tf.tidy(() => tf.variable(tf.zerosLike(x), false));
        this.v[k] = tf.tidy(() => tf.variable(tf.zerosLike(x), false));
      }
  }

  private scaleFor(name: string): number {
    let s = 1;
    for (const [prefix, f] of Object.entries(this.config.lrScale ?? {})) if (name.startsWith(prefix)) s = f;
    return s;
  }

  /** Descend along `grads` (by variable name); missing names are left unchanged. Returns the pre-clip norm. */
  apply(grads: Record<string, Tensor>): number {
    const norm = this.applyOnDevice(grads);
    const value = norm.dataSync()[0];
    norm.dispose();
    return value;
  }

  /**
   * As `apply`, without reading anything back to the host (one sync per step costs a GPU a queue
   * drain): the global norm and the clip factor min(1, clipNorm/norm) stay on the device, and the
   * pre-clip norm is returned as a scalar tensor that the caller disposes.
   */
  applyOnDevice(grads: Record<string, Tensor>): tf.Scalar {
    this.step += 1;
    const t = this.step;
    const lr = this.learningRate(t);
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, clipNorm = 0 } = this.config;
    return tf.tidy(() => {
      const names = Object.keys(grads).filter((k) => this.vars[k]);
      const norm = (names.length ? tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]))))) : tf.scalar(0)) as tf.Scalar;
      const clip = clipNorm > 0 ? tf.minimum(1, tf.div(clipNorm, norm)) : null;
      for (const k of names) {
        const rate = lr * this.scaleFor(k);
        if (this.config.kind === 'sgd') {
          const g = clip ? tf.mul(grads[k], clip) : grads[k];
          this.vars[k].assign(tf.sub(this.vars[k], tf.mul(g, rate)));
          continue;
        }
        const stepSize = (rate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        const [p, m, v] = adamUpdate(this.vars[k], this.m[k], this.v[k], grads[k], clip, { beta1, beta2, epsilon, stepSize });
        this.m[k].assign(m);
        this.v[k].assign(v);
        this.vars[k].assign(p);
      }
      this.updateAverage(t);
      return norm;
    });
  }

  /** avg ← avg + (1 − β_t)(p − avg), β_t = min(2^(−1/h), 1 − 1/t): the running mean, then the EMA. */
  private updateAverage(t: number): void {
    const h = this.config.averageHalfLife ?? 0;
    if (!h) return;
    const keep = Math.min(2 ** (-1 / h), 1 - 1 / t);
    for (const [k, a] of Object.entries(this.avg)) a.assign(tf.add(a, tf.mul(tf.sub(this.vars[k], a), 1 - keep)));
  }

  /** Whether parameters are averaged (`averageHalfLife` > 0). */
  get averaging(): boolean {
    return Object.keys(this.avg).length > 0;
  }

  /**
   * Run `fn` with the averaged parameters in the network's variables (evaluation, export), then put
   * the trained ones back. Without averaging, just `fn()`.
   */
  withAveraged<T>(fn: () => T): T {
    if (!this.averaging) return fn();
    const swap = () => {
      for (const [k, a] of Object.entries(this.avg)) {
        const trained = this.vars[k].clone();
        this.vars[k].assign(a);
        a.assign(trained);
        trained.dispose();
      }
    };
    swap();
    try {
      return fn();
    } finally {
      swap();
    }
  }

  /** Put the averaged parameters into the network's variables for good (the end of a run). */
  adoptAveraged(): void {
    for (const [k, a] of Object.entries(this.avg)) this.vars[k].assign(a);
  }

  /** The learning rate of optimiser step t (1-based), before per-variable scales. */
  learningRate(t: number): number {
    const h = this.config.lrHalfLife ?? 0;
    return h > 0 ? this.config.lr * 2 ** (-(t - 1) / h) : this.config.lr;
  }

  /** State tensors by name, for checkpoints. */
  stateTensors(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const k of Object.keys(this.m)) {
      out[`adam.m.${k}`] = this.m[k];
      out[`adam.v.${k}`] = this.v[k];
    }
    for (const [k, a] of Object.entries(this.avg)) out[`${AVERAGE_PREFIX}${k}`] = a;
    return out;
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v), ...Object.values(this.avg)]) x.dispose();
  }
}
