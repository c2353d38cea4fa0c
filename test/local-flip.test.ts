/**
 * The local rule's `flip` hidden signal (docs/model.md §6): on a network small enough to enumerate
 * every hidden spike pattern, its batch mean matches the exact gradient of E[ℓ_t] (taken by tfjs
 * autodiff over the enumeration), as does the paper's broadcast signal — with far less spread.
 */
import { LocalRule } from '../src/learn/local';
import { Network } from '../src/network';
import { Rng } from '../src/random';
import { setupBackend, tf } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const P = 4;
const H = 2;
const network = {
  inputs: P,
  layers: [
    { neuron: 'sqs', size: H, init: { kind: 'uniform' as const, low: 0.3, high: 2.5 } },
    { neuron: 'sqs', size: 2, init: { kind: 'uniform' as const, low: 0.3, high: 2.5 } },
  ],
};
const pattern = [1, 0, 1, 1];
const hiddenNames = (net: Network) => Object.keys(net.namedVariables()).filter((k) => k.startsWith('layer.0.') || k === 'synapse.-1.0.weight');

/** ∇ E_s[log p(y = (1, 0) | s)] (label 0: output 0 spikes, output 1 is silent) over the hidden parameters, summing over all 2^H hidden spike patterns. */
function exactGradient(net: Network): Record<string, Float32Array> {
  const vars = net.namedVariables();
  const names = hiddenNames(net);
  const x = tf.reshape(tf.tensor1d(pattern), [P, 1, 1]);
  const { grads } = tf.variableGrads(() => {
    const [hidden, out] = net.layers;
    const ctx = { rng: new Rng(1), train: true, surrogate: 'straight-through' as const };
    const p = tf.reshape(hidden.step(hidden.prepare(), hidden.initialState(1), net.currentsInto(0, [], x), ctx).spikeProb, [H]);
    const outPrep = out.prepare();
    let expected: tf.Tensor = tf.scalar(0);
    for (let pat = 0; pat < 1 << H; pat++) {
      const bits = Array.from({ length: H }, (_, h) => (pat >> h) & 1);
      const s = tf.tensor1d(bits);
      const prob = tf.prod(tf.add(tf.mul(s, p), tf.mul(tf.sub(1, s), tf.sub(1, p))));
      const z = net.currentsInto(1, [tf.reshape(s, [H, 1, 1])], x);
      const logP = tf.sum(out.stepForced(outPrep, out.initialState(1), z, tf.tensor3d([[[1]], [[0]]])).logProb);
      expected = tf.add(expected, tf.mul(prob, logP));
    }
    return expected as tf.Scalar;
  }, names.map((n) => vars[n]));
  const out: Record<string, Float32Array> = {};
  for (const n of names) out[n] = grads[vars[n].name].dataSync() as Float32Array;
  tf.dispose(grads);
  return out;
}

/** Per-sample estimates of the rule for the hidden parameters: mean and standard error per element. */
function ruleEstimate(net: Network, hiddenSignal: 'broadcast' | 'flip', batch: number): Record<string, { mean: Float32Array; se: number }> {
  const rule = new LocalRule(net, {
    optimizer: { kind: 'sgd', lr: 0.1 },
    bptt: { surrogate: 'straight-through' },
    local: { hiddenSignal, baseline: 'batch', balance: false },
  });
  const out: Record<string, { mean: Float32Array; se: number }> = {};
  tf.tidy(() => {
    const x = tf.tile(tf.reshape(tf.tensor1d(pattern), [1, P, 1]), [1, 1, batch]);
    const labels = tf.zeros([batch], 'int32');
    // Two half batches give a standard error of the mean without reaching into the rule.
    const halves = [0, 1].map((k) => {
      const r = rule.estimate(tf.slice(x, [0, 0, 0], [1, P, batch / 2]), tf.slice(labels, [0], [batch / 2]), new Rng(100 + k));
      return r.grads;
    });
    for (const n of hiddenNames(net)) {
      const a = tf.div(halves[0][n], batch / 2);
      const b = tf.div(halves[1][n], batch / 2);
      const mean = tf.div(tf.add(a, b), 2).dataSync() as Float32Array;
      const spread = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      out[n] = { mean, se: spread };
    }
  });
  rule.dispose();
  return out;
}

test("the 'flip' and 'broadcast' hidden signals both estimate the exact gradient of E[ℓ_t]", () => {
  const net = new Network(network, 7);
  const exact = exactGradient(net);
  const batch = 8000;
  const flip = ruleEstimate(net, 'flip', batch);
  const broadcast = ruleEstimate(net, 'broadcast', batch);
  let scale = 0;
  for (const n of Object.keys(exact)) scale = Math.max(scale, ...Array.from(exact[n]).map(Math.abs));
  expect(scale).toBeGreaterThan(1e-3); // the test has something to measure
  for (const n of Object.keys(exact)) {
    const e = Array.from(exact[n]);
    e.forEach((v, i) => {
      expect(Math.abs(flip[n].mean[i] - v)).toBeLessThan(0.05 * scale + 3 * flip[n].se);
      expect(Math.abs(broadcast[n].mean[i] - v)).toBeLessThan(0.05 * scale + 3 * broadcast[n].se);
    });
  }
  net.dispose();
});

test("in a wide hidden layer the 'flip' signal's estimates spread far less than the broadcast one's", () => {
  // 32 hidden neurons share one broadcast ℓ_t − b: each neuron's signal carries the other 31's noise.
  const wide = { ...network, inputs: P, layers: [{ ...network.layers[0], size: 32 }, network.layers[1]] };
  const net = new Network(wide, 3);
  const variance = (hiddenSignal: 'broadcast' | 'flip'): number => {
    const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local: { hiddenSignal, baseline: 'batch', balance: false } });
    const total = tf.tidy(() => {
      const x = tf.tile(tf.reshape(tf.tensor1d(pattern), [1, P, 1]), [1, 1, 100]);
      const labels = tf.zeros([100], 'int32');
      // 20 independent batch means of the hidden theta's direction; their variance, summed over elements.
      const means = Array.from({ length: 20 }, (_, k) => tf.div(rule.estimate(x, labels, new Rng(500 + k)).grads['layer.0.theta'], 100));
      return tf.sum(tf.moments(tf.stack(means), 0).variance).dataSync()[0];
    });
    rule.dispose();
    return total;
  };
  const [flip, broadcast] = [variance('flip'), variance('broadcast')];
  expect(flip).toBeGreaterThan(0);
  expect(flip * 4).toBeLessThan(broadcast);
  net.dispose();
});

test("'flip' is refused for a hidden layer that does not feed the output layer directly", () => {
  const deep = new Network({ inputs: 3, layers: [{ neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: 1 }] }, 1);
  expect(
    () => new LocalRule(deep, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local: { hiddenSignal: 'flip' } }),
  ).toThrow(/hiddenSignal 'flip' needs every hidden layer .* layer 0 feeds \[1\]/);
  deep.dispose();
});
