import { checkKnown, num, parseArgs, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { neuronGradients } from '../neuron-grad';
import { parseNeuronSpec, readJsonInput } from '../spec';

/** `sqsnn neuron-grad --spec FILE|- [--method shift|autodiff] [--shots S --seed K]`. */
export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  checkKnown(p, ['spec', 'method', 'shots', 'seed', 'backend']);
  const method = (str(p, 'method') ?? 'shift') as 'shift' | 'autodiff';
  if (method !== 'shift' && method !== 'autodiff') throw new UsageError(`--method must be shift or autodiff, got '${method}'`);
  const shots = num(p, 'shots', 0, { integer: true, min: 0 }) as number;
  if (shots > 0 && method !== 'shift') throw new UsageError('--shots applies to --method shift only');
  const spec = parseNeuronSpec(readJsonInput(str(p, 'spec')), { requireOutcomes: true });
  await initBackend(str(p, 'backend'));
  const g = neuronGradients(spec, { method, shots, seed: num(p, 'seed', spec.seed, { integer: true }) });
  process.stdout.write(JSON.stringify(g) + '\n');
}
