/**
 * θ initialisation (src/neurons/init.ts), recipes (src/recipes.ts) and the memory-carry variants of
 * the SQS layer: `reset` (no quantum memory) and `measured` (the authors' code's `sqs-compat`), the
 * latter checked against its closed form p(1) = sin²((π z⁺ + θ_ent·y_{t−1} + θ_in + θ_mem)/2).
 */
import { setupBackend, tf } from './helpers';
import { Network } from '../src/network';
import { resolveThetaInit, sampleTheta } from '../src/neurons/init';
import { parseThetaInit } from '../src/cli/theta-init';
import { ConfigError, createLayer } from '../src/neurons/registry';
import { SqsLayer } from '../src/neurons/sqs';
import { createRule } from '../src/learn/registry';
import { Rng } from '../src/random';
import { recipeFor } from '../src/recipes';

beforeAll(async () => {
  await setupBackend();
});

const NAMES = ['ent', 'in', 'mem'];

function stats(x: Float32Array): { mean: number; std: number } {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
  return { mean, std };
}

describe('θ initialisation', () => {
  test('normal(0, 0.1²) is the default: sample mean and std within 5 standard errors', () => {
    const x = sampleTheta(undefined, 4000, NAMES, 3);
    const { mean, std } = stats(x);
    const n = x.length;
    expect(Math.abs(mean)).toBeLessThan((5 * 0.1) / Math.sqrt(n));
    expect(Math.abs(std - 0.1)).toBeLessThan(5 * 0.1 / Math.sqrt(2 * n));
  });

  test('uniform stays in [low, high) and fills it', () => {
    const x = sampleTheta({ kind: 'uniform', low: -1, high: 2 }, 2000, NAMES, 1);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x)).toBeLessThan(2);
    expect(Math.abs(stats(x).mean - 0.5)).toBeLessThan(0.05);
  });

  test('authors-local: every angle within jitter of π/4, π/3, π/2 or 2π/3, all four used; mirror adds π to θ_mem of odd neurons', () => {
    const centres = [Math.PI / 4, Math.PI / 3, Math.PI / 2, (2 * Math.PI) / 3];
    const x = sampleTheta({ kind: 'authors-local', jitter: 0.05 }, 200, NAMES, 2);
    const used = new Set<number>();
    for (const v of x) {
      const i = centres.findIndex((c) => Math.abs(v - c) <= 0.05 + 1e-6);
      expect(i).toBeGreaterThanOrEqual(0);
      used.add(i);
    }
    expect(used.size).toBe(4);
    const m = sampleTheta({ kind: 'authors-local', mirror: true }, 4, NAMES, 2);
    for (const [even, odd] of [[0, 1], [2, 3]]) {
      expect(m[odd * 3 + 0]).toBeCloseTo(m[even * 3 + 0], 6);
      expect(m[odd * 3 + 1]).toBeCloseTo(m[even * 3 + 1], 6);
      expect(m[odd * 3 + 2]).toBeCloseTo(m[even * 3 + 2] + Math.PI, 5);
    }
  });

  test('same seed, same angles; another seed, other angles', () => {
    expect(Array.from(sampleTheta(undefined, 10, NAMES, 7))).toEqual(Array.from(sampleTheta(undefined, 10, NAMES, 7)));
    expect(Array.from(sampleTheta(undefined, 10, NAMES, 7))).not.toEqual(Array.from(sampleTheta(undefined, 10, NAMES, 8)));
  });

  test('flag parsing and bad inits name the problem', () => {
    expect(parseThetaInit('normal:0.2')).toEqual({ kind: 'normal', std: 0.2 });
    expect(parseThetaInit('uniform:0,3.14')).toEqual({ kind: 'uniform', low: 0, high: 3.14 });
    expect(parseThetaInit('authors-local:mirror')).toEqual({ kind: 'authors-local', mirror: true });
    expect(() => parseThetaInit('gauss')).toThrow(/--theta-init must be/);
    expect(() => parseThetaInit('uniform:1')).toThrow(/two numbers/);
    expect(() => parseThetaInit('normal:-1')).toThrow(/std must be ≥ 0/);
    expect(() => resolveThetaInit({ kind: 'normal', sigma: 1 })).toThrow(/unknown field\(s\) sigma/);
    expect(() => resolveThetaInit({ kind: 'uniform', low: 2, high: 1 })).toThrow(ConfigError);
    // Mirroring needs a parameter named 'mem'.
    expect(() => new SqsLayer({ size: 2, ansatz: [{ gate: 'RX', qubits: [0], param: 'a' }], init: { kind: 'authors-local', mirror: true } })).toThrow(/'mem'/);
  });

  test('the layer records its init, and a mirrored output layer starts with negated input weights', () => {
    const net = new Network({
      inputs: 5,
      layers: [
        { neuron: 'sqs', size: 3, init: { kind: 'uniform' } },
        { neuron: 'sqs', size: 2, init: { kind: 'authors-local', mirror: true } },
      ],
    }, 4);
    expect((net.layers[0] as SqsLayer).describe().init).toEqual({ kind: 'uniform', low: 0, high: 2 * Math.PI });
    const w = net.synapses[1].weight.arraySync() as number[][][];
    w[0][1].forEach((v, p) => expect(v).toBeCloseTo(-w[0][0][p], 7));
    const w0 = net.synapses[0].weight.arraySync() as number[][][];
    expect(w0[0][1][0]).not.toBeCloseTo(-w0[0][0][0], 7);
    net.dispose();
  });

  test('recipes: per neuron kind and rule, one source', () => {
    const sqs = recipeFor('sqs', 'bptt');
    expect(sqs.thetaInit).toEqual({ kind: 'normal', mean: 0, std: 0.1 });
    expect(sqs.source).toBe('sqs/bptt');
    expect(recipeFor('sqs', 'local').batch).toBeLessThan(sqs.batch);
    // The output memory follows the outputs' own shots under the local rule (docs/recipes.md, 1 vs 7).
    expect(recipeFor('sqs', 'local').local.outputMemory).toBe('sampled');
    expect(recipeFor('unknown-kind', 'bptt').lr).toBeGreaterThan(0);
  });
});

describe('memory carry variants', () => {
  /** Run T forced steps of one layer and read p(y = 1) per step [T][H][B]. */
  function forcedProbs(layer: SqsLayer, currents: number[][][], spikes: number[][][]): number[][][] {
    return tf.tidy(() => {
      const prep = layer.prepare();
      const b = currents[0][0].length;
      let state = layer.initialState(b);
      const out: number[][][] = [];
      currents.forEach((z, t) => {
        const r = layer.stepForced(prep, state, tf.tensor3d(z.map((row) => [row])), tf.tensor3d(spikes[t].map((row) => [row])));
        state = r.state;
        out.push((tf.squeeze(r.spikeProb, [1]).arraySync() as number[][]));
      });
      return out;
    });
  }

  const theta = [[0.7, 1.1, 0.3], [2.0, -0.4, 1.3]];
  const z = [[[0.4, -0.2], [0.9, 0.1]], [[0.3, 0.6], [-0.5, 0.2]], [[0.8, 0.0], [0.2, 0.7]]]; // [T][H][B]
  const y = [[[1, 0], [1, 1]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]];

  test("'measured' (sqs-compat) equals its closed form in float64", () => {
    const layer = createLayer({ neuron: 'sqs-compat', size: 2 }, 0) as SqsLayer;
    layer.theta.assign(tf.tensor2d(theta));
    const probs = forcedProbs(layer, z, y);
    for (let t = 0; t < 3; t++)
      for (let h = 0; h < 2; h++)
        for (let b = 0; b < 2; b++) {
          const [ent, inn, mem] = theta[h];
          const prev = t === 0 ? 0 : y[t - 1][h][b];
          const angle = Math.PI * Math.max(z[t][h][b], 0) + ent * prev + inn + mem;
          expect(probs[t][h][b]).toBeCloseTo(Math.sin(angle / 2) ** 2, 5);
        }
    layer.dispose();
  });

  test("'reset' forgets: each step equals the first step of a fresh neuron; 'quantum' does not", () => {
    const reset = new SqsLayer({ size: 2, memory: 'reset' });
    const quantum = new SqsLayer({ size: 2 });
    const fresh = new SqsLayer({ size: 2 });
    for (const l of [reset, quantum, fresh]) l.theta.assign(tf.tensor2d(theta));
    const pr = forcedProbs(reset, z, y);
    const pq = forcedProbs(quantum, z, y);
    let memoryEffect = 0;
    for (let t = 0; t < 3; t++) {
      const p0 = forcedProbs(fresh, [z[t]], [y[t]])[0];
      for (let h = 0; h < 2; h++)
        for (let b = 0; b < 2; b++) {
          expect(pr[t][h][b]).toBeCloseTo(p0[h][b], 6);
          memoryEffect = Math.max(memoryEffect, Math.abs(pq[t][h][b] - p0[h][b]));
        }
    }
    expect(memoryEffect).toBeGreaterThan(0.01);
    for (const l of [reset, quantum, fresh]) l.dispose();
  });

  test("'measured' needs as many memory as IO qubits; unknown carry is refused", () => {
    expect(() => new SqsLayer({ size: 1, ioQubits: 1, memoryQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 }, memory: 'measured' })).toThrow(/memoryQubits = ioQubits/);
    expect(() => new SqsLayer({ size: 1, memory: 'classical' as never })).toThrow(/memory must be/);
  });

  test('variants train by BPTT and by the local rule without leaking tensors', () => {
    for (const neuron of [{ neuron: 'sqs', memory: 'reset' }, { neuron: 'sqs-compat' }]) {
      const net = new Network({ inputs: 4, layers: [{ ...neuron, size: 3 }, { ...neuron, size: 2 }] }, 1);
      const rng = new Rng(1);
      const x = tf.cast(tf.less(tf.randomUniform([3, 4, 5], 0, 1, 'float32', 1), 0.5), 'float32');
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const g = tf.variableGrads(() => tf.sum(net.forward(x, { ctx: { rng, train: true, surrogate: 'straight-through' } }).counts) as tf.Scalar);
        expect(Object.values(g.grads).every((t) => t.shape.length > 0)).toBe(true);
      });
      expect(tf.memory().numTensors).toBe(before);
      const rule = createRule('local', net, { optimizer: { kind: 'adam', lr: 0.01 }, bptt: { surrogate: 'straight-through' }, local: {} });
      const labels = tf.tensor1d([0, 1, 1, 0, 1], 'int32');
      const w0 = net.synapses[0].weight.arraySync() as number[][][];
      rule.trainBatch(x, labels, rng);
      const afterOne = tf.memory().numTensors;
      rule.trainBatch(x, labels, rng);
      expect(tf.memory().numTensors).toBe(afterOne);
      expect(net.synapses[0].weight.arraySync()).not.toEqual(w0);
      rule.dispose();
      labels.dispose();
      x.dispose();
      net.dispose();
    }
  });
});
