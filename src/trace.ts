/**
 * Simulate one neuron from a parsed spec over T steps: outcome probabilities, per-qubit spike
 * probabilities and the outcomes (sampled, or forced). Statevector mode, or density mode with noise.
 */
import { NeuronSimulator } from './neuron-sim';
import { ParsedNeuronSpec, SpecError } from './spec';

export interface NeuronTrace {
  outcomeProbs: number[][];
  spikeProb: number[][];
  outcomes: number[][];
  /** Probability of the outcome taken at each step. */
  outcomeProb: number[];
}

/** Below this a forced outcome is treated as impossible. */
const IMPOSSIBLE = 1e-9;

function bitsOf(k: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (k >> i) & 1);
}

export function traceNeuron(spec: ParsedNeuronSpec): NeuronTrace {
  const { circuit } = spec;
  const n = circuit.ioQubits;
  const res: NeuronTrace = { outcomeProbs: [], spikeProb: [], outcomes: [], outcomeProb: [] };
  const record = (t: number, probs: Float32Array | number[], outcome: number[]) => {
    const p = Array.from(probs);
    const k = outcome.reduce((acc, b, i) => acc + (b << i), 0);
    if (spec.outcomes && !(p[k] > IMPOSSIBLE))
      throw new SpecError(`forced outcomes[${t}] = ${JSON.stringify(outcome)} has probability ${p[k]} given the history: impossible`);
    res.outcomeProbs.push(p);
    res.spikeProb.push(bitsOf(0, n).map((_, q) => p.reduce((s, v, y) => s + (((y >> q) & 1) ? v : 0), 0)));
    res.outcomes.push(outcome);
    res.outcomeProb.push(p[k]);
  };
  // Statevector mode, or density mode when the spec has noise; outcomes sampled from spec.seed.
  const sim = new NeuronSimulator(spec);
  try {
    for (let t = 0; t < spec.steps; t++) {
      const out = sim.stepSpec(t);
      record(t, out.probs, Array.from(out.spikes as Float32Array, (v) => Math.round(v)));
    }
  } finally {
    sim.dispose();
  }
  return res;
}
