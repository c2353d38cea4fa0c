/**
 * Circuit executions per inference: how many quantum-circuit runs (shots) one input costs on a
 * device, for the experiment report. One small function per neuron kind, registered by kind (a new
 * kind adds its own with `registerExecutions`; the report never switches on kinds):
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
import { NetworkConfig } from './network';
import { ConfigError, LayerConfig } from './neurons/registry';

/** Shots assumed for a QLIF layer simulated with exact probabilities (Qiskit's default shot count). */
export const EXACT_QLIF_SHOT_ESTIMATE = 1024;

export interface ExecutionCount {
  executions: number;
  /** True when the count rests on an assumed shot number (QLIF in exact mode). */
  estimated: boolean;
}

type ExecutionsOfLayer = (layer: LayerConfig, steps: number) => ExecutionCount;

const EXECUTIONS = new Map<string, ExecutionsOfLayer>();

/** Declare how many circuit executions a layer of neuron kind `kind` costs per inference. */
export function registerExecutions(kind: string, count: ExecutionsOfLayer): void {
  EXECUTIONS.set(kind, count);
}

const classical: ExecutionsOfLayer = () => ({ executions: 0, estimated: false });

const singleShotPerStep: ExecutionsOfLayer = (layer, steps) => ({ executions: steps * layer.size, estimated: false });
registerExecutions('sqs', singleShotPerStep);
registerExecutions('sqs-compat', singleShotPerStep);
registerExecutions('qlif', (layer, steps) => {
  const shots = Number(layer.shots ?? 0);
  return { executions: (shots > 0 ? shots : EXACT_QLIF_SHOT_ESTIMATE) * steps * layer.size, estimated: !(shots > 0) };
});
registerExecutions('lif', classical);
registerExecutions('prob', classical);

/** Circuit executions one input costs in a network run for `steps` steps. */
export function executionsPerInference(network: Pick<NetworkConfig, 'layers'>, steps: number): ExecutionCount {
  let executions = 0;
  let estimated = false;
  for (const layer of network.layers) {
    const count = EXECUTIONS.get(layer.neuron);
    if (!count) throw new ConfigError(`no circuit-execution count is registered for neuron kind '${layer.neuron}' (src/executions.ts)`);
    const c = count(layer, steps);
    executions += c.executions;
    estimated ||= c.estimated;
  }
  return { executions, estimated };
}
