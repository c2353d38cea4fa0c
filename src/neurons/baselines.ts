/**
 * Baseline neurons of docs/model.md §7, registered by kind so networks and configs name them as data:
 * - `qlif`: quantum leaky integrate-and-fire (Brand & Petruccione 2024), `QlifLayer`;
 * - `lif`: classical LIF with surrogate gradients, `LifLayer`;
 * - `prob`: classical probabilistic (sigmoid-Bernoulli) neuron with local-rule eligibilities, `ProbLayer`.
 * Importing this module (for its side effect) makes the three kinds available to `createLayer`.
 */
import { LifLayer, LifLayerConfig } from './lif';
import { ProbLayer, ProbLayerConfig } from './probabilistic';
import { QlifLayer, QlifLayerConfig } from './qlif';
import { registerNeuron } from './registry';

registerNeuron('qlif', (cfg) => new QlifLayer(cfg as unknown as QlifLayerConfig));
registerNeuron('lif', (cfg) => new LifLayer(cfg as unknown as LifLayerConfig));
registerNeuron('prob', (cfg) => new ProbLayer(cfg as unknown as ProbLayerConfig));

export { LifLayer, ProbLayer, QlifLayer };
export type { LifLayerConfig, ProbLayerConfig, QlifLayerConfig };
