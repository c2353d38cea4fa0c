/** `sqsnn neuron-grad --spec FILE|- [--method shift|autodiff] [--shots S --seed K]`. */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { backendOption, choiceOption, numberOption, runCommand, stringOption, UsageError } from '../cli/options';
import { neuronGradients } from '../neuron-grad';
import { parseNeuronSpec, readJsonInput } from '../spec';

export function neuronGradCommand(): Command {
  return new Command('neuron-grad')
    .description('local eligibilities ∂log p/∂θ of one neuron along a forced spike history')
    .addOption(stringOption('--spec <file>', '(required) the neuron spec JSON with "outcomes", or - for stdin'))
    .addOption(choiceOption('--method <m>', 'parameter-shift rule or autodiff through the simulation', ['shift', 'autodiff'] as const, { default: 'shift' }))
    .addOption(numberOption('--shots <s>', 'estimate each shifted probability from S sampled shots (0 = exact; shift only)', { integer: true, min: 0, default: 0 }))
    .addOption(numberOption('--seed <k>', 'seed of the sampled shots', { integer: true, defaultText: 'the spec\'s "seed"' }))
    .addOption(backendOption())
    .action(async (o: { spec?: string; method: 'shift' | 'autodiff'; shots: number; seed?: number; backend?: string }) => {
      if (o.shots > 0 && o.method !== 'shift') throw new UsageError('--shots applies to --method shift only');
      const spec = parseNeuronSpec(readJsonInput(o.spec, '--spec'), { requireOutcomes: true });
      await initBackend(o.backend);
      const g = neuronGradients(spec, { method: o.method, shots: o.shots, seed: o.seed ?? spec.seed });
      process.stdout.write(JSON.stringify(g) + '\n');
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(neuronGradCommand(), argv);
