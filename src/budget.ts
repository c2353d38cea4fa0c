/**
 * Parameter budgets (docs/model.md §7: baselines are compared at a fixed total number of trainable
 * parameters). The count of a network config, without building it, is
 *
 *   total = Σ_edges N_to · H_to · P_from            synapse weights, one matrix per edge
 *                                                   (layer i−1 → i, plus skip connections);
 *                                                   P_from = H_from, or `inputs` for the input
 *         + Σ_layers N · H                          biases (unless `bias: false`)
 *         + Σ_layers intrinsic(layer)               per-neuron parameters of the neuron kind,
 *                                                   from its registry entry (`NeuronKind.shape`):
 *             sqs:  H · K   (K circuit angles per neuron; 3 for the paper ansatz,
 *                            ioQubits N and memoryQubits N_M default to 1)
 *             qlif: 0
 *             lif:  H if learnBeta else 0
 *             prob: H if learnBeta else 0
 *
 * with H the layer size and N its channels (ioQubits for SQS, 1 for the baselines). It equals
 * `new Network(cfg).parameterCount()` (test/registries.test.ts checks this for every kind).
 *
 * `sizeHidden` picks hidden layer sizes so that the total matches a budget within a tolerance
 * (default 1 %): e.g. a LIF network gets a few more hidden neurons than an SQS network with the
 * same budget, because its neurons have no circuit angles.
 */
import { ConfigError } from './errors';
import { LayerConfig, LayerShape, NeuronKind } from './neurons/layer';
import { NEURON_KINDS, neuronKind } from './neurons/registry';
import { NetworkConfig, validateNetworkConfig } from './network';

/** What a network config contributes to the count (no weight scale etc. needed). */
export type BudgetConfig = Pick<NetworkConfig, 'inputs' | 'layers' | 'skip' | 'bias'>;

export type { LayerShape };

/** Channels N and trainable intrinsic parameters of one layer config, from its kind's entry. */
export function layerShape(l: LayerConfig, kinds: readonly NeuronKind[] = NEURON_KINDS): LayerShape {
  return neuronKind(l.neuron, kinds).shape(l);
}

export interface ParameterBreakdown {
  synapses: number;
  biases: number;
  intrinsic: number;
  total: number;
}

export function parameterBreakdown(cfg: BudgetConfig, kinds: readonly NeuronKind[] = NEURON_KINDS): ParameterBreakdown {
  validateNetworkConfig(cfg as NetworkConfig);
  const shapes = cfg.layers.map((l) => layerShape(l, kinds));
  const edges: [number, number][] = cfg.layers.map((_, i) => [i - 1, i]);
  for (const s of cfg.skip ?? []) edges.push([s[0], s[1]]);
  let synapses = 0;
  for (const [from, to] of edges) synapses += shapes[to].channels * cfg.layers[to].size * (from < 0 ? cfg.inputs : cfg.layers[from].size);
  const biases = cfg.bias === false ? 0 : cfg.layers.reduce((s, l, i) => s + shapes[i].channels * l.size, 0);
  const intrinsic = shapes.reduce((s, x) => s + x.intrinsic, 0);
  return { synapses, biases, intrinsic, total: synapses + biases + intrinsic };
}

/** Trainable parameters of a network config (= `new Network(cfg).parameterCount()`). */
export function countParameters(cfg: BudgetConfig, kinds: readonly NeuronKind[] = NEURON_KINDS): number {
  return parameterBreakdown(cfg, kinds).total;
}

export interface SizeHiddenOptions {
  /** Allowed relative deviation |count − budget| / budget (default 0.01). */
  tolerance?: number;
}

export interface SizedNetwork<C extends BudgetConfig> {
  config: C;
  /** The chosen sizes of the resized layers, in the order of the indices given. */
  sizes: number[];
  parameters: number;
  relativeError: number;
}

/**
 * Resize the hidden layer(s) `hidden` (default: every layer but the output) of `template` so that
 * the parameter count is as close as possible to `budget`. One index: the best integer size. Several:
 * they keep the template's proportions (sizes round(s·H_i), at least 1) and the scale s is searched.
 * Throws a ConfigError when the closest count misses the budget by more than the tolerance.
 */
export function sizeHidden<C extends BudgetConfig>(template: C, budget: number, hidden?: number | number[], opts: SizeHiddenOptions = {}): SizedNetwork<C> {
  const tol = opts.tolerance ?? 0.01;
  if (!(Number.isFinite(budget) && budget > 0)) throw new ConfigError(`budget must be a positive number, got ${budget}`);
  const last = template.layers.length - 1;
  const idx = hidden === undefined ? template.layers.map((_, i) => i).slice(0, last) : typeof hidden === 'number' ? [hidden] : hidden;
  if (idx.length === 0) throw new ConfigError('sizeHidden: the network has no hidden layer to resize');
  for (const i of idx)
    if (!(Number.isInteger(i) && i >= 0 && i < last)) throw new ConfigError(`sizeHidden: ${i} is not a hidden layer index (0..${last - 1})`);
  if (new Set(idx).size !== idx.length) throw new ConfigError('sizeHidden: repeated layer index');
  const base = idx.map((i) => template.layers[i].size);
  // A single layer is searched over integer sizes directly (scale = size).
  const unit = idx.length === 1 ? [1] : base;
  const sizesAt = (s: number) => unit.map((h) => Math.max(1, Math.round(s * h)));
  const configFor = (sizes: number[]): C => {
    const layers = template.layers.map((l) => ({ ...l }));
    idx.forEach((i, k) => (layers[i].size = sizes[k]));
    return { ...template, layers };
  };
  const count = (s: number) => countParameters(configFor(sizesAt(s)));
  let lo = 0;
  let hi = 1;
  while (count(hi) <= budget) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 40) throw new ConfigError(`sizeHidden: budget ${budget} cannot be reached`);
  }
  for (let it = 0; it < 80 && hi - lo > 1e-9 * hi; it++) {
    const mid = (lo + hi) / 2;
    if (count(mid) <= budget) lo = mid;
    else hi = mid;
  }
  const candidates = [sizesAt(lo), sizesAt(hi)].map((sizes) => {
    const parameters = countParameters(configFor(sizes));
    return { sizes, parameters, relativeError: Math.abs(parameters - budget) / budget };
  });
  const best = candidates[0].relativeError <= candidates[1].relativeError ? candidates[0] : candidates[1];
  if (best.relativeError > tol)
    throw new ConfigError(`sizeHidden: the closest count to the budget ${budget} is ${best.parameters} (sizes ${best.sizes.join(', ')}), off by ${(100 * best.relativeError).toFixed(2)} % > ${(100 * tol).toFixed(2)} %`);
  return { config: configFor(best.sizes), ...best };
}

/** `sizeHidden(template, countParameters(reference), …)`: match another network's budget. */
export function matchBudget<C extends BudgetConfig>(reference: BudgetConfig, template: C, hidden?: number | number[], opts?: SizeHiddenOptions): SizedNetwork<C> {
  return sizeHidden(template, countParameters(reference), hidden, opts);
}
