/**
 * `sqsnn likelihood --spec FILE|- --shots FILE|- [--bit-order qiskit|lsb-first]
 *  [--reference-samples N] [--seed S]` (or --checkpoint DIR --layer L [--neuron I] --currents FILE
 * instead of --spec): the average log-likelihood of spike records from a device under the model,
 * and per-step predicted vs observed spike rates, as JSON on stdout. The records are the register
 * `c` of the program `sqsnn export-qasm` writes for the same neuron(s); see src/likelihood.ts for
 * the accepted formats and bit orders.
 */
import { UsageError, checkKnown, num, parseArgs, str } from '../args';
import { initBackend } from '../backend';
import { BIT_ORDERS, BitOrder, likelihoodReport, parseRecords, recordWidth } from '../likelihood';
import { SpecError, readJsonInput } from '../spec';
import { SOURCE_FLAGS, neuronSource } from './export-qasm';

export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  checkKnown(p, [...SOURCE_FLAGS, 'shots', 'bit-order', 'reference-samples', 'seed']);
  const shotsFile = str(p, 'shots');
  if (!shotsFile) throw new UsageError('--shots FILE (or - for stdin) is required: the spike records from the device');
  if (shotsFile === '-' && str(p, 'spec') === '-') throw new UsageError('--spec and --shots cannot both be read from stdin');
  const order = str(p, 'bit-order');
  if (order !== undefined && !BIT_ORDERS.includes(order as BitOrder))
    throw new UsageError(`--bit-order must be one of ${BIT_ORDERS.join(', ')}, got '${order}'`);
  const refSamples = num(p, 'reference-samples', 1000, { integer: true, min: 0, max: 1_000_000 }) as number;
  const seed = num(p, 'seed', undefined, { integer: true });
  const src = await neuronSource(p);
  src.specs.forEach((s, h) => {
    if (s.outcomes)
      throw new SpecError(`${src.layer ? `neuron ${h}: ` : ''}spec.outcomes is not used here: the outcomes are the records given by --shots (remove "outcomes")`);
  });
  const width = recordWidth(src.specs);
  const t = src.specs[0].steps;
  const hint = src.layer
    ? `T = ${t} steps × ${src.specs.map((s) => s.circuit.ioQubits).join(' + ')} IO qubits of ${src.specs.length} neurons`
    : `T·N = ${t} steps × ${src.specs[0].circuit.ioQubits} IO qubit(s)`;
  const recs = parseRecords(readJsonInput(shotsFile, '--shots'), width, { bitOrder: order as BitOrder | undefined, widthHint: hint });
  await initBackend(str(p, 'backend'));
  const report = likelihoodReport(src.specs, recs, { referenceSamples: refSamples, seed });
  process.stdout.write(JSON.stringify(report) + '\n');
}
