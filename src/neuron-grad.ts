/**
 * Per-step local eligibilities of one neuron along a forced spike history: ∂ log p(y_t | m_t, z_t)/∂θ
 * and ∂/∂φ_n with the memory m_t held at its forced-history state. By parameter shifts (what a
 * hardware neuron would estimate, optionally from finite shots) or by tfjs autodiff, for comparison.
 */
import { Complex } from '../kernels/complex';
import { circuitUnitary } from '../kernels/evolve';
import { occurrenceAngles } from '../kernels/circuit';
import { encodingAngles, oneHotFromBits, sqsStep } from '../kernels/statevector';
import { Tensor, tf, tidy } from '../kernels/tf';
import { SqsLayer, SqsState } from './neurons/sqs';
import { Rng } from './random';
import { ParsedNeuronSpec, SpecError } from './spec';

export interface NeuronGradients {
  gradLogProb: Record<string, number>[];
  gradEncoding: number[][];
}

export interface GradOptions {
  method: 'shift' | 'autodiff';
  shots?: number;
  seed?: number;
  /** Two-term rule everywhere (inexact for controlled rotations): for demonstrations. */
  twoTermOnly?: boolean;
}

function disposeState(s: SqsState): void {
  s.mem.re.dispose();
  s.mem.im.dispose();
}

export function neuronGradients(spec: ParsedNeuronSpec, opts: GradOptions): NeuronGradients {
  if (spec.noise) throw new SpecError('neuron-grad works in the statevector mode only: remove "noise"');
  if (!spec.outcomes) throw new SpecError('neuron-grad needs spec.outcomes (the forced spike history)');
  const { circuit } = spec;
  const n = circuit.ioQubits;
  const names = circuit.paramNames;
  const layer = new SqsLayer({ size: 1, ioQubits: n, memoryQubits: circuit.memoryQubits, ansatz: circuit.layers }, { theta: tf.tensor2d([spec.theta]) });
  const out: NeuronGradients = { gradLogProb: [], gradEncoding: [] };
  const rng = new Rng(opts.seed ?? spec.seed);
  const ctx = { rng, train: false, surrogate: 'straight-through' as const };
  const prep = tidy(() => layer.prepare({ local: opts.method === 'shift', twoTermOnly: opts.twoTermOnly }));
  let state = tidy(() => layer.initialState(1));
  try {
    for (let t = 0; t < spec.steps; t++) {
      const z = tf.tensor3d([spec.currents[t].map((v) => [v])]);
      const y = tf.tensor3d([(spec.outcomes[t] as number[]).map((v) => [v])]);
      const next = tidy(() => {
        if (opts.method === 'shift') {
          const e = layer.eligibility(prep, state, z, y, ctx, { shots: opts.shots ?? 0 });
          const th = e.dLogPdParams.theta.dataSync();
          out.gradLogProb.push(Object.fromEntries(names.map((k, i) => [k, th[i]])));
          out.gradEncoding.push(Array.from(e.dLogPdEncoding.dataSync()));
          checkPossible(e.logProb, t, spec.outcomes![t]);
          return e.state;
        }
        const g = autodiffStep(layer, state.mem, z, y);
        out.gradLogProb.push(Object.fromEntries(names.map((k, i) => [k, g.theta[i]])));
        out.gradEncoding.push(g.phi);
        const r = layer.stepForced(prep, state, z, y);
        checkPossible(r.logProb, t, spec.outcomes![t]);
        return r.state;
      });
      disposeState(state);
      state = next;
      z.dispose();
      y.dispose();
    }
  } finally {
    disposeState(state);
    tf.dispose(prep as never);
    layer.dispose();
  }
  return out;
}

function checkPossible(logProb: Tensor, t: number, outcome: number[]): void {
  const lp = logProb.dataSync()[0];
  if (!(lp > Math.log(1e-9))) throw new SpecError(`forced outcomes[${t}] = ${JSON.stringify(outcome)} has probability 0 given the history: impossible`);
}

/**
 * tfjs autodiff of log p(y | m, φ, θ) with the memory m passed in from outside the differentiated
 * function, so it is held constant (tfjs has no stopGradient).
 */
export function autodiffStep(layer: SqsLayer, mem: Complex, currents: Tensor, spikes: Tensor): { theta: number[]; phi: number[] } {
  const circuit = layer.circuit;
  const forced = oneHotFromBits(spikes);
  const f = (theta: Tensor, phi: Tensor) => {
    const angles = occurrenceAngles(circuit, theta);
    const out = layer.dense
      ? sqsStep({ circuit, unitary: circuitUnitary(circuit, angles), mem, phi, forced })
      : sqsStep({ circuit, angles, mem, phi, forced });
    return tf.sum(tf.log(out.prob));
  };
  const [gTheta, gPhi] = tf.grads(f as never)([layer.theta, encodingAngles(currents)]);
  return { theta: Array.from(gTheta.dataSync()), phi: Array.from(gPhi.dataSync()) };
}
