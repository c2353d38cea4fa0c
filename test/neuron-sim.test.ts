/**
 * The single-neuron simulator (src/neuron-sim.ts) that trace, likelihood and neuron-grad share:
 * its two modes agree where they must, trajectories of a batch are independent, a custom step
 * replaces the layer's, and it holds no tensors after dispose.
 */
import { NeuronSimulator } from '../src/neuron-sim';
import { Rng } from '../src/random';
import { parseNeuronSpec } from '../src/spec';
import { setupBackend, tf } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const SPEC = parseNeuronSpec({
  ioQubits: 2,
  memoryQubits: 1,
  ansatz: [
    { gate: 'CRY', qubits: [2, 0], param: 'a' },
    { gate: 'RY', qubits: [1], param: 'b' },
    { gate: 'CRX', qubits: [0, 2], param: 'c' },
    { gate: 'CNOT', qubits: [1, 2] },
    { gate: 'RZ', qubits: [2], param: 'd' },
  ],
  params: { a: 1.1, b: 0.4, c: 2.3, d: -0.7 },
  currents: [[0.6, 0.2], [0.1, 0.9], [1.2, 0.3], [0.5, 0.5]],
  seed: 4,
});

/** Forced spikes [N, B] of step t for B records given as [B][T][N]. */
function forcedAt(records: number[][][], t: number): Float32Array {
  const b = records.length;
  const out = new Float32Array(2 * b);
  records.forEach((r, j) => r[t].forEach((v, i) => (out[i * b + j] = v)));
  return out;
}

function currentsAt(t: number, b: number): Float32Array {
  const z = new Float32Array(2 * b);
  for (let i = 0; i < 2; i++) z.fill(SPEC.currents[t][i], i * b, (i + 1) * b);
  return z;
}

const RECORDS = [
  [[1, 0], [0, 0], [1, 1], [0, 1]],
  [[0, 0], [0, 1], [1, 0], [0, 0]],
  [[1, 1], [1, 1], [0, 0], [1, 0]],
];

test('density mode without noise gives the pure mode forced probabilities; each trajectory of a batch is its own', () => {
  const b = RECORDS.length;
  const pure = new NeuronSimulator(SPEC, { batch: b });
  const density = new NeuronSimulator(SPEC, { batch: b, mode: 'density' });
  const single = RECORDS.map((r) => new NeuronSimulator(SPEC, { batch: 1 }));
  for (let t = 0; t < SPEC.steps; t++) {
    const p = pure.step(currentsAt(t, b), forcedAt(RECORDS, t));
    const d = density.step(currentsAt(t, b), forcedAt(RECORDS, t));
    expect(p.probs).toHaveLength(4 * b);
    p.probs.forEach((v, i) => expect(d.probs[i]).toBeCloseTo(v, 5));
    expect(Array.from(p.spikes!)).toEqual(Array.from(forcedAt(RECORDS, t)));
    // Different forced histories leave different memories: the trajectories' distributions part.
    if (t === 1 || t === 2) expect([0, 1, 2, 3].some((k) => Math.abs(p.probs[k * b] - p.probs[k * b + 1]) > 1e-3)).toBe(true);
    single.forEach((s, j) => {
      const one = s.step(currentsAt(t, 1), forcedAt([RECORDS[j]], t));
      for (let k = 0; k < 4; k++) expect(one.probs[k]).toBeCloseTo(p.probs[k * b + j], 6);
    });
  }
  [pure, density, ...single].forEach((s) => s.dispose());
});

test('sampling draws from the given Rng: the same seed gives the same spikes, another seed other spikes', () => {
  const run = (seed: number) => {
    const sim = new NeuronSimulator(SPEC, { batch: 64, rng: new Rng(seed) });
    const spikes = Array.from({ length: SPEC.steps }, (_, t) => Array.from(sim.step(currentsAt(t, 64)).spikes!));
    sim.dispose();
    return spikes;
  };
  expect(run(3)).toEqual(run(3));
  expect(run(3)).not.toEqual(run(4));
  for (const v of run(5).flat()) expect(v === 0 || v === 1).toBe(true);
});

test('a custom step replaces the layer step, sees forced spikes or null, and its state carries on', () => {
  const seen: (number[] | null)[] = [];
  const sim = new NeuronSimulator(SPEC, {
    step: ({ layer, prep, state, currents, spikes, ctx }) => {
      seen.push(spikes ? Array.from(spikes.dataSync()) : null);
      return spikes ? layer.stepForced(prep, state, currents, spikes) : layer.step(prep, state, currents, ctx);
    },
  });
  const plain = new NeuronSimulator(SPEC);
  const first = sim.stepSpec(0);
  expect(seen).toEqual([null]);
  expect(first.probs).toEqual(plain.stepSpec(0).probs);
  const second = sim.step(currentsAt(1, 1), Float32Array.from([1, 0]));
  expect(seen[1]).toEqual([1, 0]);
  expect(second.probs).toEqual(plain.step(currentsAt(1, 1), Float32Array.from([1, 0])).probs);
  [sim, plain].forEach((s) => s.dispose());
});

test('no tensors are left after dispose, in either mode and with averaging', () => {
  const before = tf.memory().numTensors;
  for (const opts of [{}, { mode: 'density' as const }, { mode: 'density' as const, average: true }, { prepare: { local: true } }]) {
    const sim = new NeuronSimulator(SPEC, { batch: 3, ...opts });
    for (let t = 0; t < SPEC.steps; t++) sim.stepSpec(t);
    sim.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
});
