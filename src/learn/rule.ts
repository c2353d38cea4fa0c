/** A training rule (BPTT, local, …) behind one interface, so the training loop is written once. */
import { Tensor, tf } from '../../kernels/tf';
import { Network } from '../network';
import { Rng } from '../random';
import { BatchResult, BpttOptions, bpttStep } from './bptt';
import { Optimizer, OptimizerConfig } from './optimizer';

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

type RuleFactory = (net: Network, cfg: RuleConfig) => LearningRule;
const RULES: Record<string, RuleFactory> = {};

export function registerRule(name: string, f: RuleFactory): void {
  RULES[name] = f;
}

export function ruleNames(): string[] {
  return Object.keys(RULES);
}

export function createRule(name: string, net: Network, cfg: RuleConfig): LearningRule {
  const f = RULES[name];
  if (!f) throw new Error(`unknown training rule '${name}'; known: ${ruleNames().join(', ')}`);
  return f(net, cfg);
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

registerRule('bptt', (net, cfg) => new BpttRule(net, cfg));

export { tf };
