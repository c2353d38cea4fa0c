/**
 * Input synapses over sparse data (kernels/synapse.ts with `constantInput`, the SIMD kernel
 * `SqsSparseInputT`) and the local rule's products over sample-major spikes (`SqsRowSparse`, `SqsRowDense` for a few neurons): equal
 * the dense matmul's to float32 rounding, on cpu and wasm, for spike inputs and for real-valued ones,
 * odd sizes included; option off = dense.
 */
import seedrandom from 'seedrandom';
import { sparseInputSupported, withSqsStepOptions } from '../kernels/sqs-step';
import { dataOuterProduct, dataProduct, synapseCurrents, transposedInputWeight } from '../kernels/synapse';
import { initBackend } from '../src/backend';
import { maxAbsDiff, tf } from './helpers';

async function currentsAndGrad(w: tf.Tensor, x: tf.Tensor, dy: tf.Tensor, sparse: boolean): Promise<{ z: Float32Array; g: Float32Array; kernels: string[] }> {
  let out: { z: Float32Array; g: Float32Array } | undefined;
  const run = () =>
    withSqsStepOptions({ sparseInputs: sparse }, () =>
      tf.tidy(() => {
        const f = (wIn: tf.Tensor) => tf.sum(tf.mul(synapseCurrents(wIn, x, undefined, { constantInput: true }), dy));
        const z = synapseCurrents(w, x, undefined, { constantInput: true }).dataSync() as Float32Array;
        const g = tf.grad(f)(w).dataSync() as Float32Array;
        out = { z, g };
      }),
    );
  const info = await tf.profile(run);
  return { ...(out as { z: Float32Array; g: Float32Array }), kernels: info.kernels.map((k) => k.name) };
}

describe.each(['cpu', 'wasm'])('sparse input synapse on %s', (backendName) => {
  beforeAll(async () => {
    await initBackend(backendName);
  });

  test.each([
    [37, 13, 11, 'spikes'],
    [784, 100, 64, 'spikes'],
    [20, 8, 5, 'values'],
  ] as const)('P %i, H %i, B %i, %s: currents and dW equal the dense product', async (p, h, b, kind) => {
    expect(sparseInputSupported()).toBe(true);
    const rng = seedrandom(`sparse-${p}-${h}-${b}`);
    const w = tf.tensor3d(Float32Array.from({ length: h * p }, () => rng() - 0.5), [1, h, p]);
    const x = tf.tensor3d(Float32Array.from({ length: p * b }, () => (rng() < 0.2 ? (kind === 'spikes' ? 1 : rng() * 2 - 1) : 0)), [p, 1, b]);
    const dy = tf.tensor3d(Float32Array.from({ length: h * b }, () => rng() - 0.5), [h, 1, b]);
    const sparse = await currentsAndGrad(w, x, dy, true);
    const dense = await currentsAndGrad(w, x, dy, false);
    expect(sparse.kernels).toContain('SqsSparseInputT');
    expect(dense.kernels).not.toContain('SqsSparseInputT');
    expect(maxAbsDiff(sparse.z, dense.z)).toBeLessThan(1e-5 * Math.max(1, ...Array.from(dense.z).map(Math.abs)));
    expect(maxAbsDiff(sparse.g, dense.g)).toBeLessThan(1e-5 * Math.max(1, ...Array.from(dense.g).map(Math.abs)));
    expect(Math.max(...Array.from(dense.g).map(Math.abs))).toBeGreaterThan(0.01);
    tf.dispose([w, x, dy]);
  });

  test.each([
    [256, 2, 1000, 'SqsRowDense'],
    [37, 5, 13, 'SqsRowDense'],
    [50, 12, 41, 'SqsRowSparse'],
    [784, 100, 64, 'SqsRowSparse'],
  ] as const)('dataProduct and dataOuterProduct (the local rule\'s products), P %i, H %i, B %i (%s): equal to matMul', async (p, h, b, kernel) => {
    const rng = seedrandom(`data-${p}-${h}-${b}`);
    const w = tf.tensor2d(Float32Array.from({ length: h * p }, () => rng() - 0.5), [h, p]);
    const x = tf.tensor2d(Float32Array.from({ length: p * b }, () => (rng() < 0.2 ? 1 : 0)), [p, b]); // [P, B]
    const e = tf.tensor2d(Float32Array.from({ length: h * b }, () => rng() - 0.5), [h, b]);
    const xT = tf.transpose(x);
    const run = (sparse: boolean) =>
      withSqsStepOptions({ sparseInputs: sparse }, () => tf.tidy(() => [dataProduct(w, xT).dataSync(), dataOuterProduct(e, xT).dataSync()] as Float32Array[]));
    const info = await tf.profile(() => void run(true));
    expect(info.kernels.map((k) => k.name)).toContain(kernel);
    const [zs, gs] = run(true);
    const [zd, gd] = run(false);
    expect(maxAbsDiff(zs, zd)).toBeLessThan(1e-5 * Math.max(1, ...Array.from(zd).map(Math.abs)));
    expect(maxAbsDiff(gs, gd)).toBeLessThan(1e-5 * Math.max(1, ...Array.from(gd).map(Math.abs)));
    expect(Math.max(...Array.from(gd).map(Math.abs))).toBeGreaterThan(0.1);
    tf.dispose([w, x, e, xT]);
  });

  test('weights transposed once for all steps (weightT): currents and dW over 3 steps equal the dense product', () => {
    const rng = seedrandom('weight-t');
    const [p, h, b] = [45, 10, 7];
    const w = tf.tensor3d(Float32Array.from({ length: h * p }, () => rng() - 0.5), [1, h, p]);
    const xs = [0, 1, 2].map(() => tf.tensor3d(Float32Array.from({ length: p * b }, () => (rng() < 0.2 ? 1 : 0)), [p, 1, b]));
    const dys = [0, 1, 2].map(() => tf.tensor3d(Float32Array.from({ length: h * b }, () => rng() - 0.5), [h, 1, b]));
    const run = (transposedOnce: boolean) =>
      withSqsStepOptions({ sparseInputs: transposedOnce }, () =>
        tf.tidy(() => {
          const f = (wIn: tf.Tensor) => {
            const weightT = transposedOnce ? (transposedInputWeight(wIn) as tf.Tensor) : undefined;
            return tf.addN(xs.map((x, t) => tf.sum(tf.mul(synapseCurrents(wIn, x, undefined, { constantInput: true, weightT }), dys[t]))));
          };
          return [f(w).dataSync()[0], Array.from(tf.grad(f)(w).dataSync())] as const;
        }),
      );
    const [zs, gs] = run(true);
    const [zd, gd] = run(false);
    expect(zs).toBeCloseTo(zd, 4);
    expect(maxAbsDiff(gs, gd)).toBeLessThan(1e-5);
    expect(Math.max(...gd.map(Math.abs))).toBeGreaterThan(0.1);
    tf.dispose([w, ...xs, ...dys]);
  });
});
