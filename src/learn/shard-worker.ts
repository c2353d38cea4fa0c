/**
 * A worker thread of data-parallel BPTT (./shards.ts): its own tfjs backend and a replica of the
 * network; each step it takes the weights, its shard's inputs and labels and random stream from a
 * shared buffer, runs `bpttGradients`, and writes back loss, correct count and gradients.
 */
import { parentPort, workerData } from 'worker_threads';
import { configureSqsStep } from '../../kernels/sqs-step';
import { readNow } from '../../kernels/host-arrays';
import { tf } from '../../kernels/tf';
import { initBackend } from '../backend';
import { Network } from '../network';
import { Rng } from '../random';
import { bpttGradients, correctCount } from './bptt';
import { fromShared, shardLayout, ShardSetup, ShardStep, writeError } from './shards';

const ctrl = new Int32Array(workerData.ctrl as SharedArrayBuffer);
const error = new Int32Array(workerData.error as SharedArrayBuffer);
let net: Network | null = null;
let names: string[] = [];

function fail(e: unknown, at: 1 | 0): void {
  writeError(error, (e as Error)?.stack ?? String(e));
  Atomics.store(ctrl, at, 2);
  Atomics.notify(ctrl, at);
}

async function setup(s: ShardSetup): Promise<void> {
  await initBackend(s.backend);
  configureSqsStep(s.kernelOptions);
  net?.dispose();
  net = new Network(s.network, 0);
  names = s.names;
  const have = Object.keys(net.namedVariables());
  if (have.join() !== names.join()) throw new Error(`replica variables ${have.join()} differ from ${names.join()}`);
}

function step(s: ShardStep): void {
  const n = net as Network;
  const named = n.namedVariables();
  const sizes = names.map((k) => named[k].size);
  const lay = shardLayout(sizes, s.steps, s.inputs, s.batch);
  const f = new Float32Array(s.sab);
  const backend = tf.getBackend();
  let o = lay.weights;
  for (const k of names) {
    tf.tidy(() => named[k].assign(tf.tensor(fromShared(f, o, named[k].size, backend), named[k].shape, 'float32')));
    o += named[k].size;
  }
  tf.tidy(() => {
    const x = tf.tensor3d(fromShared(f, lay.x, s.steps * s.inputs * s.batch, backend), [s.steps, s.inputs, s.batch]);
    const y = tf.tensor1d(Int32Array.from(f.subarray(lay.labels, lay.labels + s.batch)), 'int32');
    const g = bpttGradients(n, x, y, new Rng(s.rngSeed), s.opts, s.scale);
    const correct = correctCount(g.predictions, y);
    g.predictions.dispose();
    let q = lay.grads;
    names.forEach((k, i) => {
      const grad = g.grads[k];
      f[lay.present + i] = grad ? 1 : 0;
      if (grad) f.set(readNow(grad, tf.getBackend(), tf.backend()), q);
      q += sizes[i];
    });
    f[lay.scalars] = g.loss.dataSync()[0];
    f[lay.scalars + 1] = correct.dataSync()[0];
    g.loss.dispose();
  });
}

parentPort?.on('message', (m: { kind: 'setup'; setup: ShardSetup } | { kind: 'step'; step: ShardStep }) => {
  if (m.kind === 'setup')
    setup(m.setup).then(
      () => {
        Atomics.store(ctrl, 1, 1);
        Atomics.notify(ctrl, 1);
      },
      (e) => fail(e, 1),
    );
  else
    try {
      step(m.step);
      Atomics.store(ctrl, 0, 1);
      Atomics.notify(ctrl, 0);
    } catch (e) {
      fail(e, 0);
    }
});
