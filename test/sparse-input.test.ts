/**
 * Input synapses over sparse data (kernels/synapse.ts with `constantInput`, the SIMD kernel
 * `SqsSparseInputT`): currents and weight gradients equal the dense matmul's to float32 rounding, on
 * cpu and wasm, for spike inputs and for real-valued ones, odd sizes included; option off = dense.
 */
import seedrandom from 'seedrandom';
import { sparseInputSupported, withSqsStepOptions } from '../kernels/sqs-step';
import { synapseCurrents } from '../kernels/synapse';
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
});
