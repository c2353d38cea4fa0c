/**
 * Training recipes: the default hyper-parameters of each neuron kind under each learning rule, kept
 * in this one place and chosen from measured sweeps (the figures are in docs/recipes.md). `sqsnn train`
 * and the experiment runner both start from `recipeFor`, and print or record what they used.
 */
import { LocalConfig } from './learn/local';
import { ThetaInit } from './neurons/init';
import { NEURON_KINDS } from './neurons/registry';

export interface Recipe {
  lr: number;
  batch: number;
  optimizer: 'adam' | 'sgd';
  /** Global gradient-norm clip (0 = off). */
  clipNorm: number;
  surrogate: 'straight-through' | 'pq';
  logitScale: number;
  /** Initial circuit angles of SQS layers. */
  thetaInit: ThetaInit;
  local: LocalConfig;
}

/** What every recipe starts from: the authors' BPTT settings (Adam, batch 256, θ ~ N(0, 0.1²)). */
const BASE: Recipe = {
  lr: 1e-3,
  batch: 256,
  optimizer: 'adam',
  clipNorm: 0,
  surrogate: 'straight-through',
  logitScale: 1,
  thetaInit: { kind: 'normal', mean: 0, std: 0.1 },
  local: {},
};

/**
 * Overrides by rule, then by `neuron/rule`. Keys not listed inherit. Each value comes from a sweep
 * on a validation split (docs/recipes.md); change them only with a new sweep.
 */
const BY_RULE: Record<string, Partial<Recipe>> = {
  bptt: {},
  // The local rule updates once per batch from a noisy, likelihood-weighted estimate: small batches
  // and a larger step train the paper's 1 vs 7 network in a few epochs. Its hidden signal is a
  // likelihood-ratio estimate whose variance grows as 1/p(y): near-silent neurons (θ ~ N(0, 0.1²))
  // give rare, huge eligibilities, so θ starts spread over [0, 2π) here. The output neurons' memory
  // follows their own shots, as at inference: under teacher forcing one seed in five of the paper's
  // 1 vs 7 network learns to replay its target from memory and tests near chance (docs/recipes.md).
  local: { batch: 20, lr: 0.01, thetaInit: { kind: 'uniform', low: 0, high: 2 * Math.PI }, local: { outputMemory: 'sampled' } },
};

const BY_NEURON_RULE: Record<string, Partial<Recipe>> = {
  'sqs/bptt': { lr: 2e-3 },
  'sqs-compat/bptt': { lr: 2e-3 },
  'lif/bptt': { lr: 2e-3 },
  'qlif/bptt': { lr: 2e-3 },
  'prob/bptt': { lr: 2e-3 },
};

export interface ResolvedRecipe extends Recipe {
  /** The key whose overrides applied last (for the printed recipe), e.g. `sqs/bptt`. */
  source: string;
}

export function recipeFor(neuron: string, rule: string): ResolvedRecipe {
  const key = `${neuron}/${rule}`;
  const r: Recipe = { ...BASE, ...(BY_RULE[rule] ?? {}), ...(BY_NEURON_RULE[key] ?? {}) };
  return { ...r, local: { ...r.local }, source: BY_NEURON_RULE[key] ? key : BY_RULE[rule] && Object.keys(BY_RULE[rule]).length ? rule : 'base' };
}

/** The neuron kinds whose layers take a θ initialisation (their registry entry says so). */
export function hasCircuitAngles(neuron: string): boolean {
  return NEURON_KINDS.some((k) => k.kind === neuron && k.circuitAngles);
}
