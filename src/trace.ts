/**
 * Simulate one neuron from a parsed spec over T steps: outcome probabilities, per-qubit spike
 * probabilities and the outcomes (sampled, or forced). Statevector mode, or density mode with noise.
 */
import { Complex } from '../kernels/complex';
import { densityFromPure, densityStep } from '../kernels/density';
import { occurrenceAngles } from '../kernels/circuit';
import { encodingAngles, initialMemory, oneHotFromBits, perQubit } from '../kernels/statevector';
import { tf, tidy } from '../kernels/tf';
import { SqsLayer } from './neurons/sqs';
import { StatefulLayer } from './neurons/stateful';
import { Rng } from './random';
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
  const currentsAt = (t: number) => tf.tensor3d([spec.currents[t].map((z) => [z])]);

  if (spec.noise) {
    const rng = new Rng(spec.seed);
    const angles = occurrenceAngles(circuit, tf.tensor2d([spec.theta]));
    let rho: Complex = tidy(() => densityFromPure(initialMemory(1, circuit.memoryQubits, 1)));
    for (let t = 0; t < spec.steps; t++) {
      const next = tidy(() => {
        const forced = spec.outcomes ? oneHotFromBits(tf.tensor3d([spec.outcomes[t].map((v) => [v])])) : undefined;
        const out = densityStep({
          circuit, angles, rhoMem: rho, phi: encodingAngles(currentsAt(t)), noise: spec.noise, forced,
          uniforms: forced ? undefined : rng.uniform([1, 1]),
        });
        const oneHot = Array.from((out.oneHot as tf.Tensor).dataSync());
        record(t, out.probs.dataSync() as Float32Array, bitsOf(oneHot.indexOf(1), n));
        return out.rhoMem;
      });
      rho.re.dispose();
      rho.im.dispose();
      rho = next;
    }
    rho.re.dispose();
    rho.im.dispose();
    angles.dispose();
    return res;
  }

  const layer = new SqsLayer(
    { size: 1, ioQubits: n, memoryQubits: circuit.memoryQubits, ansatz: circuit.layers },
    { theta: tf.tensor2d([spec.theta]) },
  );
  const neuron = new StatefulLayer(layer, spec.seed);
  try {
    neuron.reset(1);
    for (let t = 0; t < spec.steps; t++) {
      const z = currentsAt(t);
      const out = spec.outcomes ? neuron.stepForced(z, tf.tensor3d([spec.outcomes[t].map((v) => [v])])) : neuron.step(z);
      const probs = (out.outcomeProbs as tf.Tensor).dataSync() as Float32Array;
      const bits = Array.from(out.spikes.dataSync()).map((v) => Math.round(v));
      record(t, probs, bits);
      for (const x of Object.values(out)) (x as tf.Tensor).dispose();
      z.dispose();
    }
  } finally {
    neuron.dispose();
    layer.dispose();
  }
  return res;
}
