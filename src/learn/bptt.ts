/**
 * Surrogate-gradient backpropagation through time (docs/model.md §6): tfjs autodiff through all T steps of
 * the network, the memory state carrying gradient from step to step, and the sampled spikes passing
 * gradient straight through or scaled by p(1−p). Loss: cross-entropy of spike counts / T.
 */
import { Surrogate } from '../../kernels/statevector';
import { Tensor, tf } from '../../kernels/tf';
import { Network, predict } from '../network';
import { Rng } from '../random';
import { Optimizer } from './optimizer';
import { shardedGradients } from './shards';
import type { LearningRule, RuleConfig, RuleKind } from './rule';

export interface BpttOptions {
  surrogate: Surrogate;
  /** Multiplier on counts/T before the softmax (1 = the paper's loss). */
  logitScale?: number;
  /**
   * Cut each batch into this many shards, each with its own random stream, run on spare threads
   * (./shards.ts); default 1. The result depends on the shards, not on the threads.
   */
  shards?: number;
}

export interface BatchResult {
  loss: number;
  correct: number;
  size: number;
}

/** Cross-entropy of softmax(scale·counts/T) against integer labels [B]. */
export function countLoss(counts: Tensor, labels: Tensor, steps: number, scale = 1): Tensor {
  const logits = tf.mul(tf.transpose(counts), scale / steps);
  const classes = counts.shape[0] as number;
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits);
}

/**
 * Loss and gradients of one batch, without touching the parameters. `lossScale` multiplies the loss
 * (and so the gradients): a shard's share of its batch.
 */
export function bpttGradients(
  net: Network, inputs: Tensor, labels: Tensor, rng: Rng, opts: BpttOptions, lossScale = 1,
): { loss: Tensor; grads: Record<string, Tensor>; predictions: Tensor } {
  const named = net.namedVariables();
  const names = Object.keys(named);
  const steps = inputs.shape[0] as number;
  let predictions: Tensor | null = null;
  // Split before the tape: a slice taped inside would save a copy of the whole input per step.
  // (tf.slice, not tf.unstack: wasm's Unpack calls its own Slice, which copies the whole input per step.)
  const [, p, b] = inputs.shape as number[];
  const perStep = tf.tidy(() => Array.from({ length: steps }, (_, t) => tf.reshape(tf.slice(inputs, [t, 0, 0], [1, p, b]), [p, b])));
  const { value, grads } = tf.variableGrads(() => {
    const r = net.forward(perStep, { ctx: { rng, train: true, surrogate: opts.surrogate }, constantInputs: true });
    predictions = tf.keep(predict(r.counts, r.probSum, steps));
    const loss = countLoss(r.counts, labels, steps, opts.logitScale ?? 1) as tf.Scalar;
    return lossScale === 1 ? loss : tf.mul(loss, lossScale);
  }, Object.values(named));
  const byName: Record<string, Tensor> = {};
  perStep.forEach((x) => x.dispose());
  for (const k of names) if (grads[named[k].name]) byName[k] = grads[named[k].name];
  return { loss: value, grads: byName, predictions: predictions as unknown as Tensor };
}

/** Correct predictions [B] vs labels [B], as a float32 scalar (exact below 2^24). */
export function correctCount(predictions: Tensor, labels: Tensor): Tensor {
  return tf.sum(tf.cast(tf.equal(predictions, tf.cast(labels, 'int32')), 'float32'));
}

/**
 * Scalars read back to the host in one transfer: each read waits for the device, so a training step
 * makes exactly one, at its end.
 */
export function readScalars(...xs: Tensor[]): number[] {
  const stacked = tf.tidy(() => tf.stack(xs.map((x) => tf.reshape(x, []))));
  const values = Array.from(stacked.dataSync());
  stacked.dispose();
  return values;
}

/** One optimisation step on a batch; all tensors it creates are released. One host read. */
export function bpttStep(net: Network, opt: Optimizer, inputs: Tensor, labels: Tensor, rng: Rng, opts: BpttOptions): BatchResult {
  let loss = 0;
  let correct = 0;
  tf.tidy(() => {
    if ((opts.shards ?? 1) > 1) {
      const g = shardedGradients(net, inputs, labels, rng, opts, opts.shards as number);
      opt.applyOnDevice(g.grads);
      [loss, correct] = readScalars(g.loss, g.correct);
      return;
    }
    const g = bpttGradients(net, inputs, labels, rng, opts);
    opt.applyOnDevice(g.grads);
    [loss, correct] = readScalars(g.loss, correctCount(g.predictions, labels));
    g.predictions.dispose();
  });
  return { loss, correct, size: labels.shape[0] as number };
}

class BpttRule implements LearningRule {
  readonly name = 'bptt';
  readonly optimizer: Optimizer;
  constructor(private readonly net: Network, private readonly cfg: RuleConfig) {
    this.optimizer = new Optimizer(net.namedVariables(), cfg.optimizer);
  }
  trainBatch(inputs: Tensor, labels: Tensor, rng: Rng): BatchResult {
    return bpttStep(this.net, this.optimizer, inputs, labels, rng, this.cfg.bptt);
  }
  saveState(): Record<string, unknown> {
    return { step: this.optimizer.step };
  }
  loadState(s: Record<string, unknown>): void {
    this.optimizer.step = Number(s.step ?? 0);
  }
  dispose(): void {
    this.optimizer.dispose();
  }
}

export const bpttRule: RuleKind = {
  name: 'bptt',
  summary: 'surrogate-gradient backpropagation through time (tfjs autodiff through all T steps)',
  create: (net, cfg) => new BpttRule(net, cfg),
};
