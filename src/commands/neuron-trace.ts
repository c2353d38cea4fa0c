import { checkKnown, parseArgs, str } from '../args';
import { initBackend } from '../backend';
import { parseNeuronSpec, readJsonInput } from '../spec';
import { traceNeuron } from '../trace';

/** `sqsnn neuron-trace --spec FILE|-`: JSON {outcomeProbs, spikeProb, outcomes} on stdout. */
export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  checkKnown(p, ['spec', 'backend']);
  const spec = parseNeuronSpec(readJsonInput(str(p, 'spec')));
  await initBackend(str(p, 'backend'));
  const t = traceNeuron(spec);
  process.stdout.write(JSON.stringify({ outcomeProbs: t.outcomeProbs, spikeProb: t.spikeProb, outcomes: t.outcomes }) + '\n');
}
