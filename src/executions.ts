/**
 * Circuit executions per inference: how many quantum-circuit runs (shots) one input costs on a
 * device, for the experiment report. Each neuron kind's registry entry says (`NeuronKind.executions`;
 * the report never switches on kinds):
 *
 *   sqs, sqs-compat
 *         T · H       one single-shot run per neuron per step: the measured spike is the output, no
 *                     probability is estimated (the memory qubits carry the state between steps)
 *   qlif  S · T · H   the firing probability is estimated from S shots per neuron per step; with
 *                     exact probabilities (shots = 0) a device would still need shots, so S is
 *                     counted as EXACT_QLIF_SHOT_ESTIMATE and the count is marked as an estimate
 *   lif, prob  0      classical neurons
 *
 * with T the steps and H the layer size. A network's count is the sum over its layers.
 */
import { ConfigError } from './errors';
import { NetworkConfig } from './network';
import { ExecutionCount, NeuronKind } from './neurons/layer';
import { NEURON_KINDS } from './neurons/registry';

export { EXACT_QLIF_SHOT_ESTIMATE } from './neurons/qlif';
export type { ExecutionCount };

/** Circuit executions one input costs in a network run for `steps` steps. */
export function executionsPerInference(network: Pick<NetworkConfig, 'layers'>, steps: number, kinds: readonly NeuronKind[] = NEURON_KINDS): ExecutionCount {
  let executions = 0;
  let estimated = false;
  for (const layer of network.layers) {
    const entry = kinds.find((k) => k.kind === layer.neuron);
    if (!entry) throw new ConfigError(`no circuit-execution count for unknown neuron kind '${layer.neuron}'`);
    const c = entry.executions(layer, steps);
    executions += c.executions;
    estimated ||= c.estimated;
  }
  return { executions, estimated };
}
