/**
 * Kernel launches and host syncs of one call, e.g. one training step. A sync is a read of tensor
 * data back to JavaScript (dataSync, data, arraySync, array, or a read inside a kernel): on a GPU
 * each one waits for the device queue to drain. Launches are the tfjs kernels `tf.profile` lists
 * (every op of the forward and backward passes; a tfjs kernel is one TensorFlow op call on
 * `tensorflow`). On `tensorflow` the TensorFlow op calls and host→device tensor creations are counted
 * at the binding too: some tfjs kernels are free there (Identity only bumps a reference count) and
 * some cost more than one call (Reshape uploads its shape as a tensor, then runs the op).
 * Counts, not timings: they do not depend on the machine's load.
 */
import { tf } from '../kernels/tf';

export interface StepCounts {
  /** tfjs kernels run (tf.profile). */
  launches: number;
  /** Reads of tensor data to the host. */
  syncs: number;
  /** Launches by kernel name, most frequent first. */
  byKernel: [string, number][];
  /** On `tensorflow`: TensorFlow ops executed (TFE_Execute) and tensors created from host data. */
  tensorflowOps?: number;
  uploads?: number;
}

interface NodeBinding {
  executeOp: (...args: unknown[]) => unknown;
  createTensor: (...args: unknown[]) => unknown;
}

/**
 * Run `f`, counting calls of two functions of the tfjs-node binding (null off `tensorflow`). The
 * native binding's properties are read-only, so the backend gets a stand-in that inherits from it.
 */
function countBindingCalls(f: () => void): { ops: number; uploads: number } | null {
  const backend = tf.backend() as unknown as { binding?: NodeBinding };
  const binding = backend.binding;
  if (!binding || typeof binding.executeOp !== 'function') {
    f();
    return null;
  }
  const counts = { ops: 0, uploads: 0 };
  const standIn = Object.create(binding) as NodeBinding;
  Object.defineProperties(standIn, {
    executeOp: { value: (...args: unknown[]) => (counts.ops++, binding.executeOp(...args)) },
    createTensor: { value: (...args: unknown[]) => (counts.uploads++, binding.createTensor(...args)) },
  });
  backend.binding = standIn;
  try {
    f();
  } finally {
    backend.binding = binding;
  }
  return counts;
}

interface Readable {
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
}

/** Backends whose tensors live in host memory: their kernels read data internally (wasm's Slice does). */
const HOST_BACKENDS = ['cpu', 'wasm'];

/**
 * Run `f` counting host reads: on device backends (tensorflow, webgl, …) every read the backend
 * makes, including kernel-internal ones (tfjs-node's GatherV2 reads its indices); on cpu and wasm
 * the reads user code asks for through the engine (dataSync, data, arraySync, array).
 */
export function countSyncs<R>(f: () => R): { result: R; syncs: number } {
  const backend = (HOST_BACKENDS.includes(tf.getBackend()) ? tf.engine() : tf.backend()) as unknown as Readable;
  const own = Object.prototype.hasOwnProperty.call(backend, 'readSync');
  const readSync = backend.readSync;
  const read = backend.read;
  let syncs = 0;
  backend.readSync = function (this: Readable, id: object) {
    syncs++;
    return readSync.call(this, id);
  };
  backend.read = function (this: Readable, id: object) {
    syncs++;
    return read.call(this, id);
  };
  try {
    return { result: f(), syncs };
  } finally {
    if (own) {
      backend.readSync = readSync;
      backend.read = read;
    } else {
      delete (backend as Partial<Readable>).readSync;
      delete (backend as Partial<Readable>).read;
    }
  }
}

/**
 * Launches and syncs of one call of `step`. The launches come from a profiled call and the syncs
 * from a separate, unprofiled one: the profiler itself reads every kernel output on backends
 * without a timer. `step` is called twice, so it must be repeatable (e.g. a training step).
 */
export async function countStep(step: () => void): Promise<StepCounts> {
  const profile = await tf.profile(() => step());
  let syncs = 0;
  const binding = countBindingCalls(() => (syncs = countSyncs(step).syncs));
  const byName = new Map<string, number>();
  for (const k of profile.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const out: StepCounts = { launches: profile.kernels.length, syncs, byKernel: [...byName].sort((a, b) => b[1] - a[1]) };
  if (binding) Object.assign(out, { tensorflowOps: binding.ops, uploads: binding.uploads });
  return out;
}
