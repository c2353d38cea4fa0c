/**
 * `sqsnn likelihood --spec FILE|- --shots FILE|- [--bit-order qiskit|lsb-first]
 *  [--reference-samples N] [--seed S]` (or --checkpoint DIR --layer L [--neuron I] --currents FILE
 * instead of --spec): the average log-likelihood of spike records from a device under the model,
 * and per-step predicted vs observed spike rates, as JSON on stdout. The records are the register
 * `c` of the program `sqsnn export-qasm` writes for the same neuron(s); see src/likelihood.ts for
 * the accepted formats and bit orders.
 */
import { Command } from 'commander';
import { choiceOption, numberOption, runCommand, stringOption, UsageError } from '../cli/options';
import { initBackend } from '../backend';
import { BIT_ORDERS, BitOrder, likelihoodReport, parseRecords, recordWidth } from '../likelihood';
import { SpecError, readJsonInput } from '../spec';
import { SourceOptions, addSourceOptions, neuronSource } from './export-qasm';

interface LikelihoodOptions extends SourceOptions {
  shots?: string;
  bitOrder?: BitOrder;
  referenceSamples: number;
  seed?: number;
}

export function likelihoodCommand(): Command {
  const cmd = new Command('likelihood').description('log-likelihood of device spike records under the model (--spec FILE --shots FILE)');
  return addSourceOptions(cmd)
    .addOption(stringOption('--shots <file>', '(required) spike records from the device: {"counts"}, {"shots"/"memory"} or a list of bitstrings; - for stdin'))
    .addOption(choiceOption('--bit-order <order>', 'bit order of the records', BIT_ORDERS, { defaultText: 'the records\' "bitOrder", else qiskit' }))
    .addOption(numberOption('--reference-samples <n>', 'records sampled from the model itself, for a reference log-likelihood', { integer: true, min: 0, max: 1_000_000, default: 1000 }))
    .addOption(numberOption('--seed <s>', 'seed of the reference samples', { integer: true, defaultText: 'the spec\'s "seed"' }))
    .action(async (o: LikelihoodOptions) => {
      if (!o.shots) throw new UsageError('--shots FILE (or - for stdin) is required: the spike records from the device');
      if (o.shots === '-' && o.spec === '-') throw new UsageError('--spec and --shots cannot both be read from stdin');
      const src = await neuronSource(o);
      src.specs.forEach((s, h) => {
        if (s.outcomes)
          throw new SpecError(`${src.layer ? `neuron ${h}: ` : ''}spec.outcomes is not used here: the outcomes are the records given by --shots (remove "outcomes")`);
      });
      const width = recordWidth(src.specs);
      const t = src.specs[0].steps;
      const hint = src.layer
        ? `T = ${t} steps × ${src.specs.map((s) => s.circuit.ioQubits).join(' + ')} IO qubits of ${src.specs.length} neurons`
        : `T·N = ${t} steps × ${src.specs[0].circuit.ioQubits} IO qubit(s)`;
      const recs = parseRecords(readJsonInput(o.shots, '--shots'), width, { bitOrder: o.bitOrder, widthHint: hint });
      await initBackend(o.backend);
      const report = likelihoodReport(src.specs, recs, { referenceSamples: o.referenceSamples, seed: o.seed });
      process.stdout.write(JSON.stringify(report) + '\n');
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(likelihoodCommand(), argv);
