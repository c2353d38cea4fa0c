/**
 * Data-parallel BPTT (src/learn/shards.ts): the shard layout, the gradient of shards equal to the
 * whole batch's for a deterministic network, and a sharded run that is the same bit for bit whether
 * its shards run on a worker thread or one after another here; no tensors left behind.
 */
import { withSqsStepOptions } from '../kernels/sqs-step';
import { bpttGradients, bpttStep, BpttOptions } from '../src/learn/bptt';
import { Optimizer } from '../src/learn/optimizer';
import { shardedGradients, shardRanges, shardThreadInfo, shutdownShardWorkers } from '../src/learn/shards';
import { Network, NetworkConfig } from '../src/network';
import { Rng } from '../src/random';
import { maxAbsDiff, setupBackend, tf } from './helpers';

let backend = '';
beforeAll(async () => {
  backend = await setupBackend();
});
afterAll(async () => {
  await shutdownShardWorkers();
});

const spikes = (steps: number, p: number, b: number, seed: string) => tf.tidy(() => tf.cast(tf.less(new Rng(seed).uniform([steps, p, b]), 0.3), 'float32'));
const labels = (b: number) => tf.tensor1d(Int32Array.from({ length: b }, (_, i) => (i * 7) % 3), 'int32');
const opts: BpttOptions = { surrogate: 'straight-through' };

test('shards are contiguous, cover the batch, the first b mod K one larger, never empty', () => {
  expect(shardRanges(10, 3)).toEqual([[0, 4], [4, 7], [7, 10]]);
  expect(shardRanges(256, 2)).toEqual([[0, 128], [128, 256]]);
  expect(shardRanges(2, 4)).toEqual([[0, 1], [1, 2]]);
  expect(shardRanges(5, 1)).toEqual([[0, 5]]);
});

test('deterministic neurons (LIF): the shards\' gradient is the whole batch\'s', () => {
  const net = new Network({ inputs: 12, layers: [{ neuron: 'lif', size: 6 }, { neuron: 'lif', size: 3 }] }, 3);
  const x = spikes(4, 12, 10, 'lif-x');
  const y = labels(10);
  tf.tidy(() => {
    const whole = bpttGradients(net, x, y, new Rng(1), opts);
    const parts = withSqsStepOptions({ threads: 1 }, () => shardedGradients(net, x, y, new Rng(1), opts, 3));
    expect(Object.keys(parts.grads).sort()).toEqual(Object.keys(whole.grads).sort());
    for (const k of Object.keys(whole.grads)) expect(maxAbsDiff(parts.grads[k].dataSync(), whole.grads[k].dataSync())).toBeLessThan(1e-6);
    expect(parts.loss.dataSync()[0]).toBeCloseTo(whole.loss.dataSync()[0], 5);
  });
  tf.dispose([x, y]);
  net.dispose();
});

test('SQS, two shards: the same run on a worker thread as here, bit for bit; tensors flat', () => {
  const config: NetworkConfig = { inputs: 20, layers: [{ neuron: 'sqs', size: 8 }, { neuron: 'sqs', size: 3 }] };
  const train = (threads: number) =>
    withSqsStepOptions({ threads }, () => {
      const net = new Network(config, 5);
      const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: 0.01 });
      const rng = new Rng('shard-run');
      const y = labels(16);
      const results = [];
      let before = 0;
      for (let s = 0; s < 4; s++) {
        if (s === 2) before = tf.memory().numTensors;
        const x = spikes(3, 20, 16, `x${s}`);
        results.push(bpttStep(net, opt, x, y, rng, { ...opts, shards: 2 }));
        x.dispose();
      }
      const after = tf.memory().numTensors;
      const weights = Object.values(net.namedVariables()).map((v) => Array.from(v.dataSync()));
      y.dispose();
      opt.dispose();
      net.dispose();
      return { results, weights, grew: after - before };
    });
  const here = train(1);
  const threaded = train(2);
  // Workers on cpu and wasm; tensorflow threads its own ops, and its shards run here.
  expect(shardThreadInfo()).toEqual({ workersAlive: backend === 'tensorflow' ? 0 : 1, broken: null });
  expect(threaded.results).toEqual(here.results);
  expect(threaded.weights).toEqual(here.weights);
  expect(here.grew).toBe(0);
  expect(threaded.grew).toBe(0);
  expect(here.results[3].size).toBe(16);
});
