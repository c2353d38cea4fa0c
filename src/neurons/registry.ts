/**
 * The neuron kinds, by name, so networks, checkpoints and experiment configs describe layers as data.
 * Each kind is one object (see `NeuronKind` in ./layer.ts) exported by its own file; this list is the
 * only place that names them all. Adding a neuron: a new file exporting its `NeuronKind`, plus one
 * entry below. Nothing registers itself on import.
 */
import { ConfigError } from '../errors';
import { LayerConfig, NeuronKind, NeuronLayer } from './layer';
import { lifNeuron } from './lif';
import { probNeuron } from './probabilistic';
import { qlifNeuron } from './qlif';
import { sqsCompatNeuron, sqsNeuron } from './sqs';

export { ConfigError };
export type { LayerConfig, NeuronKind };

export const NEURON_KINDS: readonly NeuronKind[] = [sqsNeuron, sqsCompatNeuron, qlifNeuron, lifNeuron, probNeuron];

/** The names of the kinds in `kinds` (default: all). */
export function neuronKinds(kinds: readonly NeuronKind[] = NEURON_KINDS): string[] {
  return kinds.map((k) => k.kind);
}

/** The entry of neuron kind `kind`, or a ConfigError listing the known kinds. */
export function neuronKind(kind: string, kinds: readonly NeuronKind[] = NEURON_KINDS): NeuronKind {
  const entry = kinds.find((k) => k.kind === kind);
  if (!entry) throw new ConfigError(`unknown neuron kind '${kind}'; known: ${neuronKinds(kinds).join(', ')}`);
  return entry;
}

/** A layer from its config; `kinds` replaces the registry (e.g. with an extra kind of your own). */
export function createLayer(cfg: LayerConfig, seed: number, kinds: readonly NeuronKind[] = NEURON_KINDS): NeuronLayer {
  const entry = neuronKind(cfg.neuron, kinds);
  if (!Number.isInteger(cfg.size) || cfg.size < 1) throw new ConfigError(`layer size must be an integer ≥ 1, got ${cfg.size}`);
  return entry.create(cfg, seed);
}
