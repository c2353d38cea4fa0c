/**
 * The wasm backend's faster Slice (kernels/wasm-slice.ts) gives the same values as tfjs's own kernel,
 * for contiguous and strided slices of every rank the engine uses, int32 included, and under autodiff.
 */
import { restoreWasmSlice, useFastWasmSlice } from '../kernels/wasm-slice';
import { tf } from '../kernels/tf';
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

describe('fast wasm Slice', () => {
  beforeAll(async () => {
    await setupBackend('wasm'); // the kernel belongs to wasm, whatever backend the suite runs on
  });
  afterAll(() => useFastWasmSlice());

  test('initBackend installed it on wasm, and it does not leak tensors', () => {
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).toBe('fastSlice');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) slices('float32');
    expect(tf.memory().numTensors).toBe(before);
  });

  test('equals tfjs own Slice, float32 and int32, and its gradient', () => {
    useFastWasmSlice();
    const fast = [...slices('float32'), ...slices('int32')];
    const grad = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.slice(x, [0, 1, 0], [-1, 1, -1]))))(tf.ones([3, 2, 4])).dataSync()));
    restoreWasmSlice();
    const own = [...slices('float32'), ...slices('int32')];
    expect(fast).toEqual(own);
    expect(grad).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2]);
  });
});
