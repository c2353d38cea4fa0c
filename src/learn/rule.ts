/** A training rule (BPTT, local, …) behind one interface, so the training loop is written once. Types only. */
import type { Tensor } from '../../kernels/tf';
import type { Network } from '../network';
import type { Rng } from '../random';
import type { BatchResult, BpttOptions } from './bptt';
import type { Optimizer, OptimizerConfig } from './optimizer';

export interface LearningRule {
  readonly name: string;
  readonly optimizer: Optimizer;
  trainBatch(inputs: Tensor, labels: Tensor, rng: Rng): BatchResult;
  /** JSON state beyond tensors (e.g. a running baseline), for checkpoints. */
  saveState(): Record<string, unknown>;
  loadState(state: Record<string, unknown>): void;
  dispose(): void;
}

export interface RuleConfig {
  optimizer: OptimizerConfig;
  bptt: BpttOptions;
  /** Options of other rules, by rule name. */
  [rule: string]: unknown;
}

/**
 * One learning rule of the registry (src/learn/registry.ts): its file exports this object, the
 * registry lists it. `cfg.optimizer` is shared; a rule's own options sit under its name in `cfg`.
 */
export interface RuleKind {
  readonly name: string;
  /** One line for listings. */
  readonly summary: string;
  create(net: Network, cfg: RuleConfig): LearningRule;
}
