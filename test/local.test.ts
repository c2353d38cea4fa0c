/**
 * Local rule (docs/model.md §6): parameter-shift eligibilities against tfjs autodiff with the memory held
 * fixed, the four-term rule for controlled rotations, weight eligibilities through the encoding
 * shift, unbiased finite-shot estimates, and local training without any gradient function.
 */
import { compileCircuit, GateOp } from '../kernels/circuit';
import { combineShifts, shiftTable, shotEstimate } from '../kernels/shift';
import { circuitUnitary, evolveDense } from '../kernels/evolve';
import { occurrenceAngles } from '../kernels/circuit';
import { encodingAngles, inputState, ioAmplitudes, outcomeProbabilities, sqsStep } from '../kernels/statevector';
import { loadDataset } from '../src/data';
import { LocalRule, centredSignal } from '../src/learn/local';
import { Network } from '../src/network';
import { neuronGradients } from '../src/neuron-grad';
import { SqsLayer } from '../src/neurons/sqs';
import { createLayer } from '../src/neurons/registry';
import { Rng } from '../src/random';
import { parseNeuronSpec } from '../src/spec';
import { traceNeuron } from '../src/trace';
import { trainRun } from '../src/train';
import { maxAbsDiff, setupBackend, tf } from './helpers';
import { mulberry32 } from './reference/sim64';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

beforeAll(async () => {
  await setupBackend();
});

/** A spec whose forced outcomes are a sampled (hence probable) trajectory of the same neuron. */
function specWithLikelyOutcomes(raw: Record<string, unknown>): ReturnType<typeof parseNeuronSpec> {
  const sampled = traceNeuron(parseNeuronSpec(raw));
  return parseNeuronSpec({ ...raw, outcomes: sampled.outcomes });
}

const GATE_TYPES = ['RX', 'RY', 'RZ', 'CRX', 'CRY', 'CRZ'] as const;

describe('shift-rule eligibilities equal autodiff with the memory held fixed', () => {
  for (const gate of GATE_TYPES) {
    test(`${gate} in a general circuit (N = 2, N_M = 1)`, () => {
      const rnd = mulberry32(GATE_TYPES.indexOf(gate) + 11);
      const controlled = gate.startsWith('C');
      // The gate under test between mixing gates on every qubit, so no rule is exact by accident.
      const layers: GateOp[][] = [
        [{ gate: 'H', qubits: [2] }, { gate: 'RY', qubits: [0], param: 'a' }],
        [controlled ? { gate, qubits: [1, 0], param: 'g' } : { gate, qubits: [1], param: 'g' }],
        [{ gate: 'CNOT', qubits: [2, 1] }, { gate: 'H', qubits: [1] }],
        [controlled ? { gate, qubits: [2, 1], param: 'g2' } : { gate, qubits: [2], param: 'g2' }],
        [{ gate: 'CZ', qubits: [0, 2] }, { gate: 'X', qubits: [0] }, { gate: 'RX', qubits: [1], param: 'b' }],
      ];
      const params = Object.fromEntries(['a', 'g', 'g2', 'b'].map((k) => [k, 2 * Math.PI * rnd()]));
      const currents = Array.from({ length: 4 }, () => [rnd() * 1.2 - 0.2, rnd() * 1.2 - 0.2]);
      const spec = specWithLikelyOutcomes({ ioQubits: 2, memoryQubits: 1, ansatz: layers, params, currents, seed: 5 });
      const shift = neuronGradients(spec, { method: 'shift' });
      const auto = neuronGradients(spec, { method: 'autodiff' });
      for (let t = 0; t < spec.steps; t++) {
        for (const k of Object.keys(params)) expect(Math.abs(shift.gradLogProb[t][k] - auto.gradLogProb[t][k])).toBeLessThan(1e-4 * Math.max(1, Math.abs(auto.gradLogProb[t][k])));
        expect(maxAbsDiff(shift.gradEncoding[t], auto.gradEncoding[t])).toBeLessThan(1e-4 * Math.max(1, ...auto.gradEncoding[t].map(Math.abs)));
      }
    });
  }

  test('the paper circuit', () => {
    const spec = specWithLikelyOutcomes({ ioQubits: 1, memoryQubits: 1, ansatz: 'paper', params: { ent: 1.3, in: 0.4, mem: 2.2 }, currents: [[0.3], [0.8], [-0.1], [0.5], [0.2]], seed: 2 });
    const shift = neuronGradients(spec, { method: 'shift' });
    const auto = neuronGradients(spec, { method: 'autodiff' });
    for (let t = 0; t < spec.steps; t++) for (const k of ['ent', 'in', 'mem']) expect(Math.abs(shift.gradLogProb[t][k] - auto.gradLogProb[t][k])).toBeLessThan(1e-4);
  });

  test('the two-term rule is wrong for CRX when a later gate mixes its control before measurement', () => {
    // CRX from IO qubit 1 to IO qubit 0, then H on the (measured) control.
    const layers: GateOp[][] = [[{ gate: 'RY', qubits: [1], param: 'a' }], [{ gate: 'CRX', qubits: [1, 0], param: 'g' }], [{ gate: 'H', qubits: [1] }]];
    const spec = parseNeuronSpec({ ioQubits: 2, memoryQubits: 0, ansatz: layers, params: { a: 1.6, g: 3.0 }, currents: [[0, 0]], outcomes: [[0, 0]] });
    const auto = neuronGradients(spec, { method: 'autodiff' }).gradLogProb[0].g;
    const four = neuronGradients(spec, { method: 'shift' }).gradLogProb[0].g;
    const two = neuronGradients(spec, { method: 'shift', twoTermOnly: true }).gradLogProb[0].g;
    expect(Math.abs(four - auto)).toBeLessThan(1e-4);
    // Off by about 40 % here (p(y) ≈ 0.27, so not a small-probability artefact).
    expect(Math.abs(two - auto)).toBeGreaterThan(0.2 * Math.abs(auto));
  });
});

test('weight eligibilities through the encoding shift equal autodiff with respect to the weights', () => {
  const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 3 }], bias: true, weightScale: 3 }, 4);
  const layer = net.layers[0] as SqsLayer;
  const b = 5;
  const rng = new Rng(9);
  const x = tf.cast(tf.less(tf.randomUniform([6, 1, b], 0, 1, 'float32', 1), 0.6), 'float32');
  const prep = layer.prepare({ local: true });
  // A non-trivial memory: one sampled step first.
  const s1 = layer.step(prep, layer.initialState(b), net.currentsInto(0, [], x), { rng, train: false, surrogate: 'straight-through' });
  const mem = s1.state.mem;
  const y = tf.cast(tf.less(tf.randomUniform([3, 1, b], 0, 1, 'float32', 2), 0.5), 'float32');
  const z = net.currentsInto(0, [], x);
  const e = layer.eligibility(prep, { mem }, z, y, { rng, train: false, surrogate: 'straight-through' }, { shots: 0 });
  const fromShift = tf.matMul(tf.reshape(e.dLogPdCurrent, [3, b]), tf.reshape(x, [6, b]), false, true);
  const w = net.synapses[0].weight;
  const { grads } = tf.variableGrads(() => {
    const out = layer.stepForced(layer.prepare(), { mem }, net.currentsInto(0, [], x), y);
    return tf.sum(out.logProb) as tf.Scalar;
  }, [w]);
  expect(maxAbsDiff(fromShift.dataSync(), tf.reshape(grads[w.name], [3, 6]).dataSync())).toBeLessThan(1e-4);
  net.dispose();
});

test('finite-shot shift estimates of ∂p/∂θ are unbiased', () => {
  const layers: GateOp[][] = [[{ gate: 'CRY', qubits: [1, 0], param: 'g' }], [{ gate: 'RX', qubits: [0], param: 'a' }, { gate: 'H', qubits: [1] }]];
  const circuit = compileCircuit({ ioQubits: 1, memoryQubits: 1, layers });
  const copies = 4000;
  const shots = 20;
  const table = shiftTable(circuit);
  const theta = tf.tensor2d([[0.9, 2.1]]);
  const angles = occurrenceAngles(circuit, theta);
  const shifted = tf.reshape(tf.add(tf.reshape(angles, [1, 1, 2]), tf.reshape(tf.tensor2d(table.offsets, [table.size, 2]), [table.size, 1, 2])), [table.size, 2]);
  const uS = circuitUnitary(circuit, shifted);
  const phi = encodingAngles(tf.fill([1, 1, 1], 0.4));
  const mem = { re: tf.tensor3d([[[0.6], [0.8]]]), im: tf.zeros([1, 2, 1]) };
  const input = inputState(ioAmplitudes(phi), mem);
  const tiled = { re: tf.tile(input.re, [table.size, 1, 1]), im: tf.tile(input.im, [table.size, 1, 1]) };
  const pS = tf.reshape(tf.slice(outcomeProbabilities(evolveDense(uS, tiled), 1), [0, 1, 0], [table.size, 1, 1]), [table.size, 1, 1]);
  const exact = combineShifts(table, 2, pS).dataSync();
  const est = combineShifts(table, 2, shotEstimate(tf.tile(pS, [1, 1, copies]), shots, 123)); // [1, 2, copies]
  const mean = tf.mean(est, 2).dataSync();
  const sd = tf.sqrt(tf.moments(est, 2).variance).dataSync();
  for (let k = 0; k < 2; k++) {
    expect(Math.abs(mean[k] - exact[k])).toBeLessThan((5 * sd[k]) / Math.sqrt(copies));
    expect(sd[k]).toBeGreaterThan(0);
  }
  void sqsStep;
});

describe('local training', () => {
  const data = () => loadDataset('mnist-1v7-16', { limitTrain: 500, limitTest: 200 });
  const config = (dir: string) => ({
    dataset: 'mnist-1v7-16',
    network: { inputs: 256, layers: [{ neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: 2 }], skip: [[-1, 1]] as [number, number][] },
    steps: 10,
    epochs: 3,
    batch: 20,
    seed: 3,
    rule: 'local',
    encoding: { kind: 'rate' as const, pMax: 0.5 },
    ruleConfig: { optimizer: { kind: 'adam' as const, lr: 0.02 }, bptt: { surrogate: 'straight-through' as const }, local: {} },
    _dir: dir,
  });

  test('learns 1 vs 7 well above chance and never calls a tfjs gradient function', async () => {
    const engine = tf.engine() as unknown as { gradients: (...a: unknown[]) => unknown };
    const spy = jest.spyOn(engine, 'gradients');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-local-'));
    const res = await trainRun(config(dir), { checkpointDir: dir, data: data() });
    expect(spy).not.toHaveBeenCalled();
    expect(res.metrics[res.metrics.length - 1].testAccuracy).toBeGreaterThan(0.8);
    res.network.dispose();
    // The spy does see autodiff when it is used, so the assertion above can fail.
    tf.grad((a: tf.Tensor) => tf.sum(tf.square(a)))(tf.ones([2]));
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the tensor count stays flat over many local steps', () => {
    const cfg = config('');
    const net = new Network(cfg.network, 1);
    const rule = new LocalRule(net, cfg.ruleConfig);
    const rng = new Rng(1);
    const x = tf.cast(tf.less(tf.randomUniform([4, 256, 8], 0, 1, 'float32', 3), 0.2), 'float32');
    const y = tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1], 'int32');
    rule.trainBatch(x, y, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 15; i++) rule.trainBatch(x, y, rng);
    expect(tf.memory().numTensors).toBe(before);
    rule.dispose();
    net.dispose();
  });
});

test('with class balancing, a single layer learns 10 classes by the local rule alone', async () => {
  const ds = loadDataset('mnist', { limitTrain: 1500, limitTest: 500 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-local10-'));
  const res = await trainRun(
    {
      dataset: 'mnist',
      network: { inputs: 784, layers: [{ neuron: 'sqs', size: 10 }] },
      steps: 5,
      epochs: 3,
      batch: 50,
      seed: 1,
      rule: 'local',
      encoding: { kind: 'rate', pMax: 0.5 },
      ruleConfig: { optimizer: { kind: 'adam', lr: 0.003 }, bptt: { surrogate: 'straight-through' }, local: { balance: true } },
    },
    { checkpointDir: dir, data: ds },
  );
  expect(res.metrics[res.metrics.length - 1].testAccuracy).toBeGreaterThan(0.2); // chance: 0.1
  res.network.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('variance controls of the local rule', () => {
  test("the 'batch' baseline subtracts the mean of the other samples; 'running' the running mean", () => {
    const lt = tf.tensor1d([1, 2, 3, 6]);
    const got = centredSignal(lt, 'batch', 0).dataSync();
    [1 - 11 / 3, 2 - 10 / 3, 3 - 9 / 3, 6 - 6 / 3].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    expect(Array.from(centredSignal(lt, 'running', 2.5).dataSync())).toEqual([-1.5, -0.5, 0.5, 3.5]);
    lt.dispose();
  });

  test('eligibility clipping bounds every per-sample contribution (and is off by default)', () => {
    const network = { inputs: 30, layers: [{ neuron: 'sqs', size: 3 }] };
    const x = tf.cast(tf.less(tf.randomUniform([4, 30, 6], 0, 1, 'float32', 5), 0.4), 'float32');
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    const largest = (clip: number): number => {
      const net = new Network(network, 2);
      const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local: { balance: false, eligibilityClip: clip } });
      const m = tf.tidy(() => {
        const r = rule.estimate(x, y, new Rng(9));
        return Math.max(...Object.values(r.grads).map((g) => tf.max(tf.abs(g)).dataSync()[0]));
      });
      rule.dispose();
      net.dispose();
      return m;
    };
    const c = 0.01;
    // 4 steps × 6 samples, each |e| ≤ c, times at most one presynaptic spike per weight.
    expect(largest(c)).toBeLessThanOrEqual(4 * 6 * c + 1e-6);
    expect(largest(0)).toBeGreaterThan(4 * 6 * c);
    x.dispose();
    y.dispose();
  });
});

test("output memory can follow the neuron's own shot instead of the forced target", () => {
  // sqs-compat carries the measured bit as its memory; with θ = 0 and z ≤ 0 it never fires, so a
  // forced target of 1 leaves memory |1⟩ under teacher forcing and |0⟩ when the memory follows the shot.
  const layer = createLayer({ neuron: 'sqs-compat', size: 1 }, 0) as SqsLayer;
  layer.theta.assign(tf.zeros([1, 3]));
  const prep = layer.prepare({ local: true });
  const z = tf.fill([1, 1, 4], -0.5);
  const target = tf.ones([1, 1, 4]);
  const ctx = { rng: new Rng(3), train: false, surrogate: 'straight-through' as const };
  const memOne = (follows: 'forced' | 'sampled') =>
    tf.tidy(() => {
      const e = layer.eligibility(prep, layer.initialState(4), z, target, ctx, { shots: 0, memoryFollows: follows });
      return Array.from(tf.squeeze(tf.slice((e.state as { mem: { re: tf.Tensor } }).mem.re, [0, 1, 0], [1, 1, 4])).dataSync());
    });
  expect(memOne('forced')).toEqual([1, 1, 1, 1]);
  expect(memOne('sampled')).toEqual([0, 0, 0, 0]);
  layer.dispose();
  tf.dispose([z, target]);
});

test('with several IO qubits per output neuron, class c is the target of channel c mod N of neuron ⌊c/N⌋, as in the readout', () => {
  // One output neuron with 2 IO qubits carries 2 classes: the rule must give it targets [H, N, B].
  const net = new Network({ inputs: 5, layers: [{ neuron: 'sqs', size: 2, ioQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 } }] }, 4);
  expect(net.classes).toBe(4);
  const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local: { balance: false } });
  tf.tidy(() => {
    const x = tf.ones([1, 5, 4]);
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const r = rule.estimate(x, labels, new Rng(2));
    // The rule's loss is −log p(targets)/T: with labels 0..3 the forced one-hots are the identity
    // over (neuron, channel) = classes; compare with log p computed here from the same layer.
    const layer = net.layers[0];
    const y = tf.reshape(tf.transpose(tf.oneHot(labels, 4)), [2, 2, 4]);
    const logp = layer.stepForced(layer.prepare(), layer.initialState(4), net.currentsInto(0, [], tf.ones([5, 1, 4])), y).logProb;
    expect(r.loss.dataSync()[0]).toBeCloseTo(-tf.mean(tf.sum(logp, 0)).dataSync()[0], 4);
  });
  rule.dispose();
  net.dispose();
});

test.each(['broadcast', 'flip', 'spsa'] as const)(
  'class balance with several IO qubits per output neuron (%s signal): each neuron weighted by the mean of its targets\' weights',
  (signal) => {
    // Was a shape error: the balance weights were per IO qubit [H, N, B], the eligibilities per neuron.
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 3 }, { neuron: 'sqs', size: 2, ioQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 } }] }, 7);
    const local = { balance: true, ...(signal === 'spsa' ? { spsa: 2 } : { hiddenSignal: signal }) };
    const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local });
    tf.tidy(() => {
      const x = tf.cast(tf.less(new Rng('io2-x').uniform([3, 6, 4]), 0.5), 'float32');
      const r = rule.estimate(x, tf.tensor1d([0, 1, 2, 3], 'int32'), new Rng(3));
      const names = Object.keys(r.grads);
      expect(names).toEqual(expect.arrayContaining(['layer.1.theta', 'synapse.0.1.weight', 'layer.0.theta']));
      for (const k of names) expect(Array.from(r.grads[k].dataSync()).every(Number.isFinite)).toBe(true);
    });
    rule.dispose();
    net.dispose();
  },
);
