/**
 * Per-step local eligibilities of one neuron along a forced spike history: ∂ log p(y_t | m_t, z_t)/∂θ
 * and ∂/∂φ_n with the memory m_t held at its forced-history state. By parameter shifts (what a
 * hardware neuron would estimate, optionally from finite shots) or by tfjs autodiff, for comparison.
 */
import { Complex } from '../kernels/complex';
import { circuitUnitary } from '../kernels/evolve';
import { occurrenceAngles } from '../kernels/circuit';
import { encodingAngles, oneHotFromBits, sqsStep } from '../kernels/statevector';
import { Tensor, tf } from '../kernels/tf';
import { StepResult } from './neurons/layer';
import { SqsLayer, SqsState } from './neurons/sqs';
import { NeuronSimulator, PureStepArgs } from './neuron-sim';
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

export function neuronGradients(spec: ParsedNeuronSpec, opts: GradOptions): NeuronGradients {
  if (spec.noise) throw new SpecError('neuron-grad works in the statevector mode only: remove "noise"');
  if (!spec.outcomes) throw new SpecError('neuron-grad needs spec.outcomes (the forced spike history)');
  const outcomes = spec.outcomes;
  const names = spec.circuit.paramNames;
  const out: NeuronGradients = { gradLogProb: [], gradEncoding: [] };
  let t = 0;
  // Each forced step records the eligibilities at the memory the forced history left, then moves on.
  const step = ({ layer, prep, state, currents, spikes, ctx }: PureStepArgs): StepResult<SqsState> => {
    const y = spikes as Tensor;
    if (opts.method === 'shift') {
      const e = layer.eligibility(prep, state, currents, y, ctx, { shots: opts.shots ?? 0 });
      const th = e.dLogPdParams.theta.dataSync();
      out.gradLogProb.push(Object.fromEntries(names.map((k, i) => [k, th[i]])));
      out.gradEncoding.push(Array.from(e.dLogPdEncoding.dataSync()));
      checkPossible(e.logProb, t, outcomes[t]);
      return e;
    }
    const g = autodiffStep(layer, state.mem, currents, y);
    out.gradLogProb.push(Object.fromEntries(names.map((k, i) => [k, g.theta[i]])));
    out.gradEncoding.push(g.phi);
    const r = layer.stepForced(prep, state, currents, y);
    checkPossible(r.logProb, t, outcomes[t]);
    return r;
  };
  const sim = new NeuronSimulator(spec, {
    mode: 'pure',
    rng: new Rng(opts.seed ?? spec.seed),
    prepare: { local: opts.method === 'shift', twoTermOnly: opts.twoTermOnly },
    step,
  });
  try {
    for (t = 0; t < spec.steps; t++) sim.stepSpec(t);
  } finally {
    sim.dispose();
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
