/**
 * Training on tensorflow equals training on wasm (fused kernels, fused gradients) within float32
 * tolerance, on both tensorflow paths: the composed ops and autodiff (what a GPU runs) and the host
 * kernels (tfjs-node here: option fusedOnTensorflow). One BPTT step and one local-rule step from the
 * same seed and the same random draws. SGD, so the comparison is of the gradients themselves (Adam's first step
 * would amplify float noise in near-zero gradients to a full ±lr). Tensor counts stay flat.
 */
import { configureSqsStep, sqsStepOptions, withSqsStepOptions } from '../../kernels/sqs-step';
import { tf } from '../../kernels/tf';
import { bpttGradients, bpttStep } from '../../src/learn/bptt';
import { LocalRule } from '../../src/learn/local';
import { Optimizer } from '../../src/learn/optimizer';
import { Network, NetworkConfig } from '../../src/network';
import { Rng } from '../../src/random';
import { onBackend, relMaxDiff, useTensorflow } from './helpers';

beforeAll(useTensorflow);

const PATHS = [
  ['composed ops (a GPU)', false],
  ['host kernels (tfjs-node)', true],
] as const;

test('initBackend runs the host kernels on tfjs-node (not on a GPU build)', () => {
  expect(sqsStepOptions().fusedOnTensorflow).toBe(true);
});

const NET: NetworkConfig = { inputs: 24, layers: [{ neuron: 'sqs', size: 12 }, { neuron: 'sqs', size: 4 }], skip: [[-1, 1]] };
const T = 4;
const B = 16;

function batch(seed: string) {
  const r = new Rng(seed);
  const x = tf.tensor3d(Float32Array.from({ length: T * NET.inputs * B }, () => (r.next() < 0.3 ? 1 : 0)), [T, NET.inputs, B]);
  const y = tf.tensor1d(Int32Array.from({ length: B }, () => Math.floor(r.next() * 4)), 'int32');
  return { x, y };
}

function params(net: Network): Record<string, number[]> {
  return Object.fromEntries(Object.entries(net.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]));
}

function expectClose(a: Record<string, number[]>, b: Record<string, number[]>, tol: number): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  const bad = Object.keys(a).filter((k) => !(relMaxDiff(a[k], b[k]) < tol)).map((k) => `${k}: ${relMaxDiff(a[k], b[k])}`);
  expect(bad).toEqual([]);
}

describe.each(PATHS)('tensorflow, %s', (_label, fusedOnTensorflow) => {
  const onTensorflow = <R>(f: () => R) => withSqsStepOptions({ fusedOnTensorflow }, () => onBackend('tensorflow', f));

  test('one BPTT step: gradients, loss and SGD update on tensorflow equal wasm', async () => {
    const run = () => {
      const net = new Network(NET, 3);
      const { x, y } = batch('bptt-data');
      const g = bpttGradients(net, x, y, new Rng('bptt-step'), { surrogate: 'straight-through' });
      const grads = Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, Array.from(t.dataSync())]));
      const loss = g.loss.dataSync()[0];
      const opt = new Optimizer(net.namedVariables(), { kind: 'sgd', lr: 0.1 });
      const res = bpttStep(net, opt, x, y, new Rng('bptt-step'), { surrogate: 'straight-through' });
      const after = params(net);
      net.dispose();
      return { grads, loss, res, after };
    };
    const wasm = await onBackend('wasm', run);
    const tensorflow = await onTensorflow(run);
    expect(Object.values(wasm.grads).some((g) => g.some((v) => v !== 0))).toBe(true);
    expectClose(tensorflow.grads, wasm.grads, 1e-4);
    expect(Math.abs(tensorflow.loss - wasm.loss)).toBeLessThan(1e-5);
    expect(tensorflow.res).toEqual({ ...wasm.res, loss: tensorflow.res.loss });
    expectClose(tensorflow.after, wasm.after, 1e-5);
  });

  test('one local-rule step on tensorflow equals wasm', async () => {
    const run = () => {
      const net = new Network(NET, 4);
      const { x, y } = batch('local-data');
      const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.05 }, bptt: { surrogate: 'straight-through' } });
      const before = params(net);
      const res = rule.trainBatch(x, y, new Rng('local-step'));
      const after = params(net);
      const moved = Object.keys(after).some((k) => after[k].some((v, i) => v !== before[k][i]));
      rule.dispose();
      net.dispose();
      return { res, after, moved };
    };
    const wasm = await onBackend('wasm', run);
    const tensorflow = await onTensorflow(run);
    expect(wasm.moved).toBe(true);
    expect(tensorflow.res.correct).toBe(wasm.res.correct);
    expect(Math.abs(tensorflow.res.loss - wasm.res.loss)).toBeLessThan(1e-5);
    // Looser than BPTT: the eligibilities divide by p(y), which magnifies float32 rounding where p is small.
    expectClose(tensorflow.after, wasm.after, 1e-4);
  });

  test('tensor count stays flat over many BPTT and local-rule steps on tensorflow', async () => {
    expect(await tf.setBackend('tensorflow')).toBe(true);
    const saved = configureSqsStep({ fusedOnTensorflow });
    const net = new Network(NET, 5);
    const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: 0.01, clipNorm: 1 });
    const rule = new LocalRule(net, { optimizer: { kind: 'adam', lr: 0.01 }, bptt: { surrogate: 'straight-through' } });
    const { x, y } = batch('flat');
    const rng = new Rng('flat');
    bpttStep(net, opt, x, y, rng, { surrogate: 'pq' });
    rule.trainBatch(x, y, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 8; i++) {
      bpttStep(net, opt, x, y, rng, { surrogate: i % 2 ? 'pq' : 'straight-through' });
      rule.trainBatch(x, y, rng);
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
    y.dispose();
    opt.dispose();
    rule.dispose();
    net.dispose();
    configureSqsStep(saved);
  });
});
