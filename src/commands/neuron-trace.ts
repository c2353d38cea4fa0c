/** `sqsnn neuron-trace --spec FILE|-`: JSON {outcomeProbs, spikeProb, outcomes} on stdout. */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { backendOption, runCommand, stringOption } from '../cli/options';
import { parseNeuronSpec, readJsonInput } from '../spec';
import { traceNeuron } from '../trace';

export function neuronTraceCommand(): Command {
  return new Command('neuron-trace')
    .description('simulate one SQS neuron from a JSON spec: outcome probabilities, spike probabilities, sampled outcomes')
    .addOption(stringOption('--spec <file>', '(required) the neuron spec JSON (sqsnn schema neuron-spec), or - for stdin'))
    .addOption(backendOption())
    .action(async (o: { spec?: string; backend?: string }) => {
      const spec = parseNeuronSpec(readJsonInput(o.spec, '--spec'));
      await initBackend(o.backend);
      const t = traceNeuron(spec);
      process.stdout.write(JSON.stringify({ outcomeProbs: t.outcomeProbs, spikeProb: t.spikeProb, outcomes: t.outcomes }) + '\n');
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(neuronTraceCommand(), argv);
