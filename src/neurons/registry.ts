/**
 * Neuron kinds by name, so networks, checkpoints and experiment configs describe layers as data.
 * Baseline neurons register themselves here too.
 */
import { SqsnnError } from '../../kernels/errors';
import { NeuronLayer } from './layer';
import { SqsLayer, SqsLayerConfig } from './sqs';

export class ConfigError extends SqsnnError {}

export interface LayerConfig {
  neuron: string;
  size: number;
  [option: string]: unknown;
}

type Factory = (cfg: LayerConfig, seed: number) => NeuronLayer;

const FACTORIES: Record<string, Factory> = {
  sqs: (cfg, seed) => new SqsLayer(cfg as unknown as SqsLayerConfig, { seed }),
  // The authors' public code's neuron (θ_mem on the IO qubit, the measured spike carried as memory): for ablations.
  'sqs-compat': (cfg, seed) => new SqsLayer({ ansatz: 'paper-compat', memory: 'measured', ...(cfg as unknown as SqsLayerConfig) }, { seed }),
};

export function registerNeuron(kind: string, factory: Factory): void {
  FACTORIES[kind] = factory;
}

export function neuronKinds(): string[] {
  return Object.keys(FACTORIES);
}

export function createLayer(cfg: LayerConfig, seed: number): NeuronLayer {
  const f = FACTORIES[cfg.neuron];
  if (!f) throw new ConfigError(`unknown neuron kind '${cfg.neuron}'; known: ${neuronKinds().join(', ')}`);
  if (!Number.isInteger(cfg.size) || cfg.size < 1) throw new ConfigError(`layer size must be an integer ≥ 1, got ${cfg.size}`);
  return f(cfg, seed);
}
