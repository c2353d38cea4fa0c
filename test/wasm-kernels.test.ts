/**
 * The wasm backend's cheaper Slice and Identity (kernels/wasm-kernels.ts) give the same values as
 * tfjs's own kernels: slices contiguous and strided, of every rank the engine uses, int32 included;
 * clones that outlive their source; gradients through both; and a short BPTT run whose weights are
 * bit-identical with tfjs's kernels and with ours.
 */
import { restoreWasmKernels, useFastWasmKernels } from '../kernels/wasm-kernels';
import { tf } from '../kernels/tf';
import { bpttStep } from '../src/learn/bptt';
import { Optimizer } from '../src/learn/optimizer';
import { Network } from '../src/network';
import { Rng } from '../src/random';
import { setupBackend } from './helpers';

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [5, 7, 3], begin: [2, 0, 0], size: [1, 7, 3] }, // one time step: contiguous
  { shape: [6, 2, 5], begin: [0, 1, 0], size: [-1, 1, -1] }, // one plane of a memory: strided
  { shape: [4, 3, 2, 5], begin: [1, 0, 1, 2], size: [2, 3, 1, 3] },
  { shape: [9], begin: [3], size: [4] },
  { shape: [4, 6], begin: [1, 2], size: [3, 3] },
  { shape: [3, 4], begin: [0, 0], size: [0, 4] }, // empty
  { shape: [2, 3, 4, 2, 3], begin: [1, 1, 0, 1, 0], size: [1, 2, 4, 1, 2] },
];

function slices(dtype: 'float32' | 'int32'): number[][] {
  return CASES.map(({ shape, begin, size }) =>
    tf.tidy(() => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: n }, (_, i) => (i * 37) % 101 - 50 + (dtype === 'float32' ? 0.25 : 0)), shape, dtype);
      return Array.from(tf.slice(x, begin, size).dataSync());
    }),
  );
}

/** A clone outlives its source; a gradient flows through slice and clone. */
function clonesAndGradients(): number[][] {
  const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  const kept = Array.from(y.dataSync());
  y.dispose();
  const grad = tf.tidy(() => Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.clone(tf.slice(v, [0, 1, 0], [-1, 1, -1])))))(tf.ones([3, 2, 4])).dataSync()));
  return [kept, grad];
}

/** Weights after three BPTT steps of a small network (the path that saves tensors for gradients). */
function trainedWeights(): number[] {
  const net = new Network({ inputs: 12, layers: [{ neuron: 'sqs', size: 6 }, { neuron: 'sqs', size: 3 }] } as never, 5);
  const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: 0.01 });
  const r = new Rng('wasm-kernels');
  const x = tf.tensor3d(Float32Array.from({ length: 4 * 12 * 8 }, () => (r.next() < 0.4 ? 1 : 0)), [4, 12, 8]);
  const y = tf.tensor1d(Int32Array.from({ length: 8 }, (_, i) => i % 3), 'int32');
  for (let i = 0; i < 3; i++) bpttStep(net, opt, x, y, r, { surrogate: 'straight-through' });
  const w = Object.values(net.namedVariables()).flatMap((v) => Array.from(v.dataSync()));
  x.dispose();
  y.dispose();
  opt.dispose();
  net.dispose();
  return w;
}

describe('cheaper wasm Slice and Identity', () => {
  beforeAll(async () => {
    await setupBackend('wasm'); // the kernels belong to wasm, whatever backend the suite runs on
  });
  afterAll(() => useFastWasmKernels());

  test('initBackend installed them on wasm, and they do not leak tensors', () => {
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).toBe('fastSlice');
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc.name).toBe('sharedIdentity');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      slices('float32');
      clonesAndGradients();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test('equal tfjs own kernels: slices (float32, int32), clones, gradients, a BPTT run bit for bit', () => {
    useFastWasmKernels();
    const fast = { slices: [...slices('float32'), ...slices('int32')], clones: clonesAndGradients(), weights: trainedWeights() };
    restoreWasmKernels();
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc.name).toBe('identity');
    const own = { slices: [...slices('float32'), ...slices('int32')], clones: clonesAndGradients(), weights: trainedWeights() };
    expect(fast).toEqual(own);
    expect(own.clones).toEqual([[1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2]]);
  });
});
