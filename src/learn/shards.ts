/**
 * Data-parallel BPTT (`bptt.shards` = K > 1): a batch is cut into K contiguous shards; each shard's
 * loss and gradients are computed by `bpttGradients` with its own random stream (forked from the
 * step's in shard order) and its loss scaled by its share of the batch, then summed in shard order. The layout depends on
 * the config only, never on the threads: shards run on worker threads (each with its own tfjs
 * backend and a replica of the network, sent the weights every step) when threads are spare, else
 * one after another on this thread — the same numbers either way, bit for bit. Two cores, two
 * shards: each core runs a whole BPTT step on half the batch (tfjs's wasm and cpu backends use one).
 */
import { Worker } from 'worker_threads';
import { startWorker } from '../../kernels/worker-start';
import { sqsStepOptions, SqsStepOptions, withSqsStepOptions } from '../../kernels/sqs-step';
import { readNow } from '../../kernels/host-arrays';
import { Tensor, tf } from '../../kernels/tf';
import { Network, NetworkConfig } from '../network';
import { NEURON_KINDS } from '../neurons/registry';
import { Rng } from '../random';
import { BpttOptions, bpttGradients, correctCount } from './bptt';

export interface ShardedGradients {
  loss: Tensor;
  grads: Record<string, Tensor>;
  correct: Tensor;
}

/** Sample ranges [start, end) of K contiguous shards of a batch of b (the first b mod K one larger). */
export function shardRanges(b: number, k: number): [number, number][] {
  const n = Math.max(1, Math.min(k, b));
  const base = Math.floor(b / n);
  const extra = b % n;
  const out: [number, number][] = [];
  for (let i = 0, s = 0; i < n; i++) {
    const e = s + base + (i < extra ? 1 : 0);
    out.push([s, e]);
    s = e;
  }
  return out;
}

/** What a worker needs to build its replica of the network. */
export interface ShardSetup {
  network: NetworkConfig;
  backend: string;
  kernelOptions: SqsStepOptions;
  names: string[];
}

/** One step of a shard, as the worker reads it (the arrays live in `sab`). */
export interface ShardStep {
  sab: SharedArrayBuffer;
  steps: number;
  inputs: number;
  batch: number;
  rngSeed: string;
  /** The shard's share of the batch: its loss (and gradients) are scaled by it. */
  scale: number;
  opts: BpttOptions;
}

/**
 * A tensor's values from a region of a shared buffer: on wasm a view (the backend copies it into its
 * heap), elsewhere a copy — the cpu backend would keep the view itself, which the next step overwrites.
 */
export function fromShared(f: Float32Array, offset: number, length: number, backendName: string): Float32Array {
  return backendName === 'wasm' ? f.subarray(offset, offset + length) : f.slice(offset, offset + length);
}

/** Float offsets into a shard's shared buffer: weights, gradients, inputs [T, P, b], labels, loss/correct, grad present. */
export function shardLayout(sizes: number[], steps: number, inputs: number, batch: number) {
  const total = sizes.reduce((a, b) => a + b, 0);
  const weights = 0;
  const grads = weights + total;
  const x = grads + total;
  const labels = x + steps * inputs * batch;
  const scalars = labels + batch;
  const present = scalars + 2;
  return { weights, grads, x, labels, scalars, present, floats: present + sizes.length };
}

interface Slot {
  worker: Worker;
  /** [0] status: 0 running, 1 done, 2 failed; [1] ready. */
  ctrl: Int32Array;
  /** The error text of a failed step (UTF-16 codes, [0] = length). */
  error: Int32Array;
  setupKey: string;
  sab: SharedArrayBuffer | null;
}

let slots: Slot[] = [];
let broken: string | null = null;
const READY_TIMEOUT_MS = 60000;
/** Least wait for a worker's shard before it is taken as dead (else 20 × this thread's own shards' time). */
const STALL_MS = 60000;
const WORKER_BACKENDS = ['cpu', 'wasm'];

/** Worker slots for `wanted` shards (started once, reused), or [] when threads are unavailable. */
function getSlots(wanted: number, setup: ShardSetup): Slot[] {
  if (broken || wanted < 1) return [];
  const key = JSON.stringify(setup);
  while (slots.length < wanted) {
    const ctrl = new Int32Array(new SharedArrayBuffer(8));
    const error = new Int32Array(new SharedArrayBuffer(4 * 2049));
    let worker: Worker;
    try {
      worker = startWorker(__dirname, 'shard-worker', { ctrl: ctrl.buffer, error: error.buffer }, __filename.endsWith('.ts'));
    } catch (e) {
      broken = `shard worker could not start: ${(e as Error).message}`;
      return [];
    }
    worker.unref();
    worker.on('error', (e) => (broken = `shard worker error: ${(e as Error).message}`));
    slots.push({ worker, ctrl, error, setupKey: '', sab: null });
  }
  const chosen = slots.slice(0, wanted);
  for (const s of chosen)
    if (s.setupKey !== key) {
      Atomics.store(s.ctrl, 1, 0);
      s.worker.postMessage({ kind: 'setup', setup });
      const t0 = Date.now();
      while (Atomics.load(s.ctrl, 1) === 0 && Date.now() - t0 < READY_TIMEOUT_MS) Atomics.wait(s.ctrl, 1, 0, 50);
      if (Atomics.load(s.ctrl, 1) !== 1) {
        broken = Atomics.load(s.ctrl, 1) === 2 ? `shard worker setup failed: ${readError(s.error)}` : 'shard worker did not start in time';
        void shutdownShardWorkers();
        return [];
      }
      s.setupKey = key;
    }
  return chosen;
}

function readError(e: Int32Array): string {
  return String.fromCharCode(...Array.from(e.subarray(1, 1 + e[0])));
}

/** Writes an error text into a slot's error buffer (the worker side). */
export function writeError(e: Int32Array, text: string): void {
  const n = Math.min(text.length, e.length - 1);
  for (let i = 0; i < n; i++) e[1 + i] = text.charCodeAt(i);
  e[0] = n;
}

/** Terminates the shard workers (they are unref'd and never keep the process alive anyway). */
export async function shutdownShardWorkers(): Promise<void> {
  const old = slots;
  slots = [];
  await Promise.all(old.map((s) => s.worker.terminate()));
}

/** Whether shards run on workers in this process, and why not when they do not. */
export function shardThreadInfo(): { workersAlive: number; broken: string | null } {
  return { workersAlive: slots.length, broken };
}

/** Whether a network can be rebuilt in a worker: built-in neuron kinds only. */
function replicable(net: Network): boolean {
  return net.config.layers.every((l) => NEURON_KINDS.some((k) => k.kind === l.neuron));
}

/**
 * Loss, gradients and correct count of a batch in K shards (see the file comment). Tensors returned
 * are the caller's (inside its tidy); the parameters are not touched.
 */
export function shardedGradients(net: Network, inputs: Tensor, labels: Tensor, rng: Rng, opts: BpttOptions, shards: number): ShardedGradients {
  const [steps, p, b] = inputs.shape as number[];
  const ranges = shardRanges(b, shards);
  const rngs = ranges.map((_, k) => rng.fork(`shard${k}`));
  const named = net.namedVariables();
  const names = Object.keys(named);
  const options = sqsStepOptions();
  const spare = Math.min(ranges.length - 1, options.threads - 1);
  const setup: ShardSetup = { network: net.config, backend: tf.getBackend(), kernelOptions: { ...options, threads: 1 }, names };
  // Workers on cpu and wasm (one thread each); tensorflow threads its own ops.
  const workers = spare > 0 && replicable(net) && WORKER_BACKENDS.includes(setup.backend) ? getSlots(spare, setup) : [];
  // Shards 1..W on the workers, the rest here; the workers start first.
  const remote = ranges.map((_, k) => (k >= 1 && k <= workers.length ? workers[k - 1] : null));
  const sizes = names.map((n) => named[n].size);
  let x: Float32Array | null = null;
  let y: Int32Array | null = null;
  const read = (t: Tensor) => readNow(t, setup.backend, tf.backend());
  remote.forEach((slot, k) => {
    if (!slot) return;
    x ??= read(inputs);
    y ??= Int32Array.from(labels.dataSync());
    const [s, e] = ranges[k];
    const lay = shardLayout(sizes, steps, p, e - s);
    if (!slot.sab || slot.sab.byteLength < 4 * lay.floats) slot.sab = new SharedArrayBuffer(4 * Math.ceil(lay.floats * 1.25));
    const f = new Float32Array(slot.sab);
    let o = lay.weights;
    for (const n of names) {
      f.set(read(named[n]), o);
      o += named[n].size;
    }
    for (let r = 0; r < steps * p; r++) f.set(x.subarray(r * b + s, r * b + e), lay.x + r * (e - s));
    for (let i = s; i < e; i++) f[lay.labels + i - s] = y[i];
    Atomics.store(slot.ctrl, 0, 0);
    const step: ShardStep = { sab: slot.sab, steps, inputs: p, batch: e - s, rngSeed: String(rngs[k].seed), scale: (e - s) / b, opts };
    slot.worker.postMessage({ kind: 'step', step });
  });
  // This thread's shards, without the kernel pool (the workers have the other cores).
  const parts: { loss: Tensor; grads: Record<string, Tensor>; correct: Tensor }[] = [];
  const local = (k: number) =>
    withSqsStepOptions({ threads: workers.length ? 1 : options.threads }, () => {
      const [s, e] = ranges[k];
      const xs = ranges.length === 1 ? inputs : tf.slice(inputs, [0, 0, s], [steps, p, e - s]);
      const ys = ranges.length === 1 ? labels : tf.slice(labels, [s], [e - s]);
      const g = bpttGradients(net, xs, ys, rngs[k], opts, (e - s) / b);
      const correct = correctCount(g.predictions, ys);
      g.predictions.dispose();
      return { loss: g.loss, grads: g.grads, correct };
    });
  const t0 = Date.now();
  ranges.forEach((_, k) => {
    if (!remote[k]) parts[k] = local(k);
  });
  // A worker that failed, or has not answered long after this thread's own shards took (it died:
  // this thread cannot see its 'exit' event while it waits), has its shard redone here — the same
  // numbers, as a shard's result does not depend on where it runs — and workers are off from then on.
  const patience = Math.max(STALL_MS, 20 * (Date.now() - t0));
  remote.forEach((slot, k) => {
    if (!slot) return;
    if (broken) {
      parts[k] = local(k); // another worker failed in this step: the pool is gone
      return;
    }
    const waitFrom = Date.now();
    while (Atomics.load(slot.ctrl, 0) === 0 && Date.now() - waitFrom < patience) Atomics.wait(slot.ctrl, 0, 0, 100);
    const status = Atomics.load(slot.ctrl, 0);
    if (status !== 1) {
      broken = status === 0 ? 'a shard worker stopped answering' : `a shard worker failed: ${readError(slot.error)}`;
      void shutdownShardWorkers();
      parts[k] = local(k);
      return;
    }
    const [s, e] = ranges[k];
    const lay = shardLayout(sizes, steps, p, e - s);
    const f = new Float32Array(slot.sab as SharedArrayBuffer);
    const grads: Record<string, Tensor> = {};
    let o = lay.grads;
    names.forEach((n, i) => {
      if (f[lay.present + i]) grads[n] = tf.tensor(fromShared(f, o, sizes[i], setup.backend), named[n].shape, 'float32');
      o += sizes[i];
    });
    parts[k] = { loss: tf.scalar(f[lay.scalars]), grads, correct: tf.scalar(f[lay.scalars + 1]) };
  });
  // Each shard's loss was scaled by its share of the batch: summed in shard order.
  const combine = (xs: (Tensor | undefined)[]) => {
    let acc: Tensor | null = null;
    for (const t of xs) if (t) acc = acc ? tf.add(acc, t) : t;
    return acc;
  };
  const grads: Record<string, Tensor> = {};
  for (const n of names) {
    const g = combine(parts.map((q) => q.grads[n]));
    if (g) grads[n] = g;
  }
  const loss = combine(parts.map((q) => q.loss)) as unknown as Tensor;
  let correct = parts[0].correct;
  for (let k = 1; k < parts.length; k++) correct = tf.add(correct, parts[k].correct);
  return { loss, grads, correct };
}
