/**
 * Surrogate-gradient BPTT (src/learn/bptt.ts) against finite differences and against its own
 * definition: the loss, the straight-through and p(1−p) surrogates, determinism, and a flat tfjs
 * tensor count over many training steps.
 *
 * Sampling makes the forward pass stochastic, so every finite-difference check runs a loss that is
 * a smooth function of the parameters: the output layer is teacher-forced (`forcedOutput`), and
 * any sampled hidden layer draws the same uniforms in every evaluation (a fresh `Rng(seed)` each
 * time), so only the output layer's parameters are compared there.
 */
import { setupBackend, tf } from './helpers';
import { Tensor } from '../kernels/tf';
import { bpttGradients, bpttStep, countLoss } from '../src/learn/bptt';
import { Optimizer } from '../src/learn/optimizer';
import { Network, NetworkConfig } from '../src/network';
import { Rng } from '../src/random';
import { surrogateSpikes } from '../kernels/statevector';
import { prng } from './fixtures-train';

beforeAll(async () => {
  await setupBackend();
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** Binary tensor of `shape` with P(1) = rate, from a fixed-seed JS PRNG. */
function bits(shape: number[], rate: number, seed: number): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => (r() < rate ? 1 : 0)), shape);
}

function uniformTensor(shape: number[], lo: number, hi: number, seed: number): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * r()), shape);
}

/** Nonzero biases, so that no current sits on the kink of φ = π·max(z, 0) at zero input. */
function randomiseBiases(net: Network, seed: number): void {
  net.biases.forEach((b, i) => b && tf.tidy(() => b.assign(uniformTensor(b.shape, -0.6, 0.6, seed + i))));
}

function evalScalar(f: () => Tensor): number {
  return tidyValue(() => f().dataSync()[0]);
}

/** Run f inside tf.tidy and return its plain (non-tensor) result. */
function tidyValue<R>(f: () => R): R {
  let out: R | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as R;
}

/**
 * Central differences of `f` w.r.t. every element of `v`, using the float32 values actually
 * stored (x ± eps rounded), so the step in the denominator is exact.
 */
function finiteDiff(v: tf.Variable, f: () => Tensor, eps: number): Float32Array {
  const base = Float32Array.from(v.dataSync());
  const out = new Float32Array(base.length);
  const set = (a: Float32Array) => tf.tidy(() => v.assign(tf.tensor(a, v.shape)));
  for (let i = 0; i < base.length; i++) {
    const p = base.slice();
    const m = base.slice();
    p[i] = base[i] + eps;
    m[i] = base[i] - eps;
    set(p);
    const fp = evalScalar(f);
    set(m);
    const fm = evalScalar(f);
    out[i] = (fp - fm) / (p[i] - m[i]);
  }
  set(base);
  return out;
}

/**
 * Every element within atol + rtol·|fd|, atol relative to the largest FD entry of the tensor, and
 * the whole tensor within rtol in norm.
 */
function expectGradClose(name: string, g: ArrayLike<number>, fd: ArrayLike<number>, rtol = 1e-2): void {
  expect(g.length).toBe(fd.length);
  let scale = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < fd.length; i++) {
    scale = Math.max(scale, Math.abs(fd[i]), Math.abs(g[i]));
    num += (g[i] - fd[i]) ** 2;
    den += fd[i] ** 2;
  }
  const atol = Math.max(1e-4, 2e-3 * scale);
  const bad: string[] = [];
  for (let i = 0; i < fd.length; i++)
    if (!(Math.abs(g[i] - fd[i]) <= atol + rtol * Math.abs(fd[i]))) bad.push(`${name}[${i}]: autodiff ${g[i]} vs FD ${fd[i]}`);
  expect(bad).toEqual([]);
  if (den > 1e-12) expect(Math.sqrt(num / den)).toBeLessThan(rtol);
}

function gradsOf(f: () => tf.Scalar, vars: Record<string, tf.Variable>): Record<string, Float32Array> {
  return tidyValue(() => {
    const { grads } = tf.variableGrads(f, Object.values(vars));
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(vars)) out[k] = Float32Array.from(grads[v.name].dataSync());
    return out;
  });
}

/** Per-step slice [P, 1, B] of inputs [T, P, B]. */
function stepInput(x: Tensor, t: number): Tensor {
  const [, p, b] = x.shape as number[];
  return tf.reshape(tf.slice(x, [t, 0, 0], [1, p, b]), [p, 1, b]);
}

function bpGrads(net: Network, x: Tensor, labels: Tensor, seed: string, surrogate: 'straight-through' | 'pq', logitScale?: number) {
  return tidyValue(() => {
    const r = bpttGradients(net, x, labels, new Rng(seed), { surrogate, logitScale });
    const out: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(r.grads)) out[k] = Float32Array.from(t.dataSync());
    const res = { grads: out, loss: r.loss.dataSync()[0], predictions: Array.from(r.predictions.dataSync()), dtype: r.predictions.dtype };
    r.predictions.dispose();
    return res;
  });
}

const T = 3;
const B = 4;

interface Case {
  label: string;
  cfg: NetworkConfig;
}

// Finite differences need a generic point: θ spread over [0, 2π) (the default N(0, 0.1²) puts some
// derivatives at ~1e-5, below float32 finite-difference noise).
const GENERIC = { kind: 'uniform' } as const;

const SINGLE_LAYER_CASES: Case[] = [
  { label: 'paper neuron, dense unitaries', cfg: { inputs: 6, layers: [{ neuron: 'sqs', init: GENERIC, size: 3, path: 'dense' }] } },
  { label: 'paper neuron, gate by gate', cfg: { inputs: 6, layers: [{ neuron: 'sqs', init: GENERIC, size: 3, path: 'gates' }] } },
  {
    label: 'hardware-efficient, 2 memory qubits',
    cfg: { inputs: 5, layers: [{ neuron: 'sqs', init: GENERIC, size: 2, memoryQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 } }] },
  },
  {
    label: 'hardware-efficient, 2 IO qubits (channel-wise synapse)',
    cfg: { inputs: 5, layers: [{ neuron: 'sqs', init: GENERIC, size: 2, ioQubits: 2, memoryQubits: 1, ansatz: { type: 'hardware-efficient', layers: 1 } }] },
  },
];

// ---------------------------------------------------------------------------------------------

describe('countLoss', () => {
  test('is the batch-mean cross-entropy of softmax(scale·counts/T)', () => {
    const counts = [
      [0, 3, 1],
      [2, 1, 1],
    ]; // [C=2, B=3]
    const labels = [1, 0, 0];
    for (const scale of [1, 2.5]) {
      const got = evalScalar(() => countLoss(tf.tensor2d(counts), tf.tensor1d(labels, 'int32'), 3, scale));
      let want = 0;
      for (let b = 0; b < 3; b++) {
        const z = [0, 1].map((c) => (scale * counts[c][b]) / 3);
        const lse = Math.log(Math.exp(z[0]) + Math.exp(z[1]));
        want += lse - z[labels[b]];
      }
      expect(got).toBeCloseTo(want / 3, 5);
    }
  });
});

describe('surrogate spikes', () => {
  test('value is the sampled bits; gradient is dy (straight-through) or dy·p(1−p) (pq)', () => {
    const p = tf.tensor3d([0.1, 0.5, 0.9, 0.3], [2, 1, 2]);
    const s = tf.tensor3d([0, 1, 1, 0], [2, 1, 2]);
    const c = tf.tensor3d([1, -2, 3, 0.5], [2, 1, 2]);
    for (const kind of ['straight-through', 'pq'] as const) {
      const v = tidyValue(() => Array.from(surrogateSpikes(p, s, kind).dataSync()));
      expect(v).toEqual([0, 1, 1, 0]);
      const g = tidyValue(() => Array.from(tf.grad((q: Tensor) => tf.sum(tf.mul(c, surrogateSpikes(q, s, kind))))(p).dataSync()));
      const pv = [0.1, 0.5, 0.9, 0.3];
      const cv = [1, -2, 3, 0.5];
      const want = cv.map((ci, i) => (kind === 'pq' ? ci * pv[i] * (1 - pv[i]) : ci));
      g.forEach((gi, i) => expect(gi).toBeCloseTo(want[i], 6));
    }
    tf.dispose([p, s, c]);
  });
});

describe('gradients through the simulation vs finite differences', () => {
  for (const { label, cfg } of SINGLE_LAYER_CASES) {
    test(`single layer, ${label}: teacher-forced log-likelihood Σ log p(y_t) (weights, bias, θ, memory chain)`, () => {
      const net = new Network(cfg, 11);
      randomiseBiases(net, 5);
      const layer = net.output;
      const x = bits([T, cfg.inputs, B], 0.4, 1);
      const forced = bits([T, layer.size, layer.channels, B], 0.5, 2);
      const loss = (): tf.Scalar => {
        const prep = layer.prepare();
        let state = layer.initialState(B);
        let acc: Tensor = tf.scalar(0);
        for (let t = 0; t < T; t++) {
          const z = net.currentsInto(0, [], stepInput(x, t));
          const y = tf.squeeze(tf.slice(forced, [t, 0, 0, 0], [1, -1, -1, -1]), [0]);
          const r = layer.stepForced(prep, state, z, y);
          acc = tf.add(acc, tf.sum(r.logProb));
          state = r.state;
        }
        return acc as tf.Scalar;
      };
      const vars = net.namedVariables();
      const g = gradsOf(loss, vars);
      for (const [k, v] of Object.entries(vars)) expectGradClose(k, g[k], finiteDiff(v, loss, 2e-3));
      // The memory chain matters: step t's likelihood depends on θ through earlier steps too.
      expect(Math.max(...Array.from(g['layer.0.theta'], Math.abs))).toBeGreaterThan(1e-3);
      tf.dispose([x, forced]);
      net.dispose();
    });

    test(`single layer, ${label}: Σ c·(summed spike probabilities) with forced outputs`, () => {
      const net = new Network(cfg, 12);
      randomiseBiases(net, 6);
      const x = bits([T, cfg.inputs, B], 0.4, 3);
      const forced = bits([T, net.output.size, net.output.channels, B], 0.5, 4);
      const c = uniformTensor([net.classes, B], -1, 1, 9);
      const loss = (): tf.Scalar =>
        tf.sum(tf.mul(c, net.forward(x, { ctx: { rng: new Rng(1), train: true, surrogate: 'straight-through' }, forcedOutput: forced }).probSum)) as tf.Scalar;
      const vars = net.namedVariables();
      const g = gradsOf(loss, vars);
      for (const [k, v] of Object.entries(vars)) expectGradClose(k, g[k], finiteDiff(v, loss, 2e-3));
      tf.dispose([x, forced, c]);
      net.dispose();
    });
  }

  test('two layers: output-layer gradients with the hidden spikes fixed by the seed; hidden gradients come from the surrogate', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 3 }] }, 13);
    randomiseBiases(net, 7);
    const x = bits([T, 6, B], 0.5, 5);
    const forced = bits([T, 3, 1, B], 0.5, 6);
    const c = uniformTensor([3, B], -1, 1, 10);
    const loss = (): tf.Scalar =>
      tf.sum(tf.mul(c, net.forward(x, { ctx: { rng: new Rng('fd'), train: true, surrogate: 'straight-through' }, forcedOutput: forced }).probSum)) as tf.Scalar;
    const vars = net.namedVariables();
    const g = gradsOf(loss, vars);
    // The same seed gives the same hidden spikes: the loss is a deterministic function.
    expect(evalScalar(loss)).toBe(evalScalar(loss));
    for (const k of ['synapse.0.1.weight', 'layer.1.bias', 'layer.1.theta']) expectGradClose(k, g[k], finiteDiff(vars[k], loss, 2e-3));
    // Gradient reaches the hidden layer through the straight-through spikes.
    for (const k of ['synapse.-1.0.weight', 'layer.0.bias', 'layer.0.theta']) {
      expect(g[k].every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(g[k], Math.abs))).toBeGreaterThan(1e-4);
    }
    tf.dispose([x, forced, c]);
    net.dispose();
  });

  test('bpttGradients (straight-through) equals finite differences of its linearisation Σ_t (∂L/∂counts)·p_t at the sampled outcomes', () => {
    const cfg: NetworkConfig = { inputs: 6, layers: [{ neuron: 'sqs', size: 3 }] };
    const net = new Network(cfg, 14);
    randomiseBiases(net, 8);
    const x = bits([T, 6, B], 0.5, 7);
    const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
    const seed = 'bptt-fd';
    // The outcomes that bpttGradients will sample with Rng(seed), and ∂L/∂counts there.
    const { spikes, gc } = tf.tidy(() => {
      const r = net.forward(x, { ctx: { rng: new Rng(seed), train: false, surrogate: 'straight-through' }, record: true });
      const s = tf.stack((r.spikes as Tensor[][])[0]); // [T, H, 1, B]
      return { spikes: s, gc: tf.grad((k: Tensor) => countLoss(k, labels, T))(r.counts) };
    });
    const lin = (): tf.Scalar =>
      tf.sum(tf.mul(gc, net.forward(x, { ctx: { rng: new Rng(0), train: true, surrogate: 'straight-through' }, forcedOutput: spikes }).probSum)) as tf.Scalar;
    const bp = tidyValue(() => {
      const r = bpttGradients(net, x, labels, new Rng(seed), { surrogate: 'straight-through' });
      r.predictions.dispose();
      const out: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(r.grads)) out[k] = Float32Array.from(t.dataSync());
      return out;
    });
    const vars = net.namedVariables();
    expect(Object.keys(bp).sort()).toEqual(Object.keys(vars).sort());
    for (const [k, v] of Object.entries(vars)) expectGradClose(k, bp[k], finiteDiff(v, lin, 2e-3));
    tf.dispose([x, labels, spikes, gc]);
    net.dispose();
  });
});

describe('bpttGradients: the surrogate rules', () => {
  test('two layers, straight-through: equals the gradient of Σ (∂L/∂counts)·probSum at the same samples, for every parameter', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 3 }] }, 15);
    randomiseBiases(net, 9);
    const x = bits([T, 6, B], 0.5, 8);
    const labels = tf.tensor1d([1, 0, 2, 2], 'int32');
    const seed = 'st';
    const gc = tf.tidy(() => {
      const r = net.forward(x, { ctx: { rng: new Rng(seed), train: true, surrogate: 'straight-through' } });
      return tf.grad((k: Tensor) => countLoss(k, labels, T))(r.counts);
    });
    const lin = gradsOf(
      () => tf.sum(tf.mul(gc, net.forward(x, { ctx: { rng: new Rng(seed), train: true, surrogate: 'straight-through' } }).probSum)) as tf.Scalar,
      net.namedVariables(),
    );
    const bp = bpGrads(net, x, labels, seed, 'straight-through');
    for (const k of Object.keys(lin)) expectGradClose(k, bp.grads[k], lin[k], 1e-4);
    tf.dispose([x, labels, gc]);
    net.dispose();
  });

  test('single layer, pq: each step\'s gradient is scaled by p(1−p) (regression: it read a disposed tensor)', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 3 }] }, 16);
    randomiseBiases(net, 10);
    const x = bits([T, 6, B], 0.5, 9);
    const labels = tf.tensor1d([2, 0, 1, 0], 'int32');
    const seed = 'pq';
    const gc = tf.tidy(() => {
      const r = net.forward(x, { ctx: { rng: new Rng(seed), train: true, surrogate: 'pq' } });
      return tf.reshape(tf.grad((k: Tensor) => countLoss(k, labels, T))(r.counts), [3, 1, B]);
    });
    // d/dp (p²/2 − p³/3) = p(1−p): the same steps as Network.forward, one layer, same uniforms.
    const layer = net.output;
    const lin = gradsOf(() => {
      const rng = new Rng(seed);
      const prep = layer.prepare();
      let state = layer.initialState(B);
      let acc: Tensor = tf.scalar(0);
      for (let t = 0; t < T; t++) {
        const r = layer.step(prep, state, net.currentsInto(0, [], stepInput(x, t)), { rng, train: true, surrogate: 'pq' });
        const p = r.spikeProb;
        acc = tf.add(acc, tf.sum(tf.mul(gc, tf.sub(tf.mul(tf.square(p), 0.5), tf.div(tf.pow(p, 3), 3)))));
        state = r.state;
      }
      return acc as tf.Scalar;
    }, net.namedVariables());
    const bp = bpGrads(net, x, labels, seed, 'pq');
    const st = bpGrads(net, x, labels, seed, 'straight-through');
    for (const k of Object.keys(lin)) expectGradClose(k, bp.grads[k], lin[k], 1e-4);
    expect(Array.from(bp.grads['layer.0.theta'])).not.toEqual(Array.from(st.grads['layer.0.theta']));
    tf.dispose([x, labels, gc]);
    net.dispose();
  });

  test('the loss is countLoss of the sampled counts at logitScale s (same samples as a plain forward with the same seed)', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 3 }] }, 17);
    randomiseBiases(net, 11);
    const x = bits([T, 6, B], 0.5, 10);
    const labels = tf.tensor1d([2, 0, 1, 0], 'int32');
    for (const scale of [1, 4]) {
      const r = bpGrads(net, x, labels, 's', 'straight-through', scale);
      const want = evalScalar(() => {
        const f = net.forward(x, { ctx: { rng: new Rng('s'), train: false, surrogate: 'straight-through' } });
        return countLoss(f.counts, labels, T, scale);
      });
      expect(r.loss).toBeCloseTo(want, 5);
      for (const k of Object.keys(r.grads)) expect(r.grads[k].every(Number.isFinite)).toBe(true);
    }
    tf.dispose([x, labels]);
    net.dispose();
  });

  test('returns a scalar loss, a gradient for every named variable, int32 predictions in [0, C); parameters untouched; deterministic per seed', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 3 }] }, 18);
    const x = bits([T, 6, B], 0.5, 11);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    const before = Object.fromEntries(Object.entries(net.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]));
    const a = bpGrads(net, x, labels, 'same', 'straight-through');
    const b = bpGrads(net, x, labels, 'same', 'straight-through');
    const after = Object.fromEntries(Object.entries(net.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]));
    expect(after).toEqual(before);
    expect(Object.keys(a.grads).sort()).toEqual(Object.keys(net.namedVariables()).sort());
    for (const [k, v] of Object.entries(net.namedVariables())) {
      expect(a.grads[k].length).toBe(v.size);
      expect(a.grads[k].every(Number.isFinite)).toBe(true);
    }
    expect(Number.isFinite(a.loss)).toBe(true);
    expect(a.dtype).toBe('int32');
    expect(a.predictions).toHaveLength(B);
    for (const p of a.predictions) expect(p >= 0 && p < 3).toBe(true);
    // Same seed, same everything (bitwise).
    expect(b.loss).toBe(a.loss);
    for (const k of Object.keys(a.grads)) expect(Array.from(b.grads[k])).toEqual(Array.from(a.grads[k]));
    tf.dispose([x, labels]);
    net.dispose();
  });
});

describe('bpttStep', () => {
  test('updates the parameters, reports loss/correct/size, and the tfjs tensor count stays flat over 20 steps', () => {
    const net = new Network({ inputs: 8, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 2 }] }, 19);
    const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: 0.01 });
    const x = bits([T, 8, 6], 0.5, 12);
    const y = tf.tensor1d([0, 1, 0, 1, 1, 0], 'int32');
    const rng = new Rng('steps');
    const w0 = Array.from(net.synapses[1].weight.dataSync());
    const first = bpttStep(net, opt, x, y, rng, { surrogate: 'straight-through' });
    const afterOne = tf.memory().numTensors;
    const bytesAfterOne = tf.memory().numBytes;
    expect(Array.from(net.synapses[1].weight.dataSync())).not.toEqual(w0);
    expect(first.size).toBe(6);
    expect(Number.isFinite(first.loss)).toBe(true);
    expect(Number.isInteger(first.correct) && first.correct >= 0 && first.correct <= 6).toBe(true);
    const counts: number[] = [];
    for (let i = 0; i < 19; i++) {
      const r = bpttStep(net, opt, x, y, rng, { surrogate: 'straight-through', logitScale: 2 });
      expect(Number.isFinite(r.loss)).toBe(true);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(new Array(19).fill(afterOne));
    expect(tf.memory().numBytes).toBe(bytesAfterOne);
    expect(opt.step).toBe(20);
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
  });

  test('the pq surrogate trains too (regression: its gradient read a disposed tensor) and keeps the tensor count flat', () => {
    const net = new Network({ inputs: 8, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 2 }] }, 20);
    const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: 0.01 });
    const x = bits([T, 8, 6], 0.5, 13);
    const y = tf.tensor1d([0, 1, 0, 1, 1, 0], 'int32');
    const rng = new Rng('pq-steps');
    try {
      bpttStep(net, opt, x, y, rng, { surrogate: 'pq' });
      const n = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) expect(Number.isFinite(bpttStep(net, opt, x, y, rng, { surrogate: 'pq' }).loss)).toBe(true);
      expect(tf.memory().numTensors).toBe(n);
    } finally {
      tf.dispose([x, y]);
      opt.dispose();
      net.dispose();
    }
  });
});
