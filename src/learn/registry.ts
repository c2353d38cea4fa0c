/**
 * The learning rules, by name. Each rule's file exports its `RuleKind`; this list is the only place
 * that names them all. Adding a rule: a new file exporting its `RuleKind`, plus one entry below.
 */
import { ConfigError } from '../errors';
import { Network } from '../network';
import { bpttRule } from './bptt';
import { localRule } from './local';
import { LearningRule, RuleConfig, RuleKind } from './rule';

export type { LearningRule, RuleConfig, RuleKind };

export const LEARNING_RULES: readonly RuleKind[] = [bpttRule, localRule];

export function ruleNames(rules: readonly RuleKind[] = LEARNING_RULES): string[] {
  return rules.map((r) => r.name);
}

/** The rule `name` for a network; `rules` replaces the registry (e.g. with a rule of your own). */
export function createRule(name: string, net: Network, cfg: RuleConfig, rules: readonly RuleKind[] = LEARNING_RULES): LearningRule {
  const entry = rules.find((r) => r.name === name);
  if (!entry) throw new ConfigError(`unknown training rule '${name}'; known: ${ruleNames(rules).join(', ')}`);
  return entry.create(net, cfg);
}
