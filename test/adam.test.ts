/**
 * The Adam update (kernels/adam.ts) against a float64 reference in plain TypeScript: `adamUpdate`
 * (the one-pass kernel where it runs: cpu, wasm, host tensorflow) and the composed ops.
 */
import { adamComposed, adamKernelApplies, adamUpdate } from '../kernels/adam';
import { Rng } from '../src/random';
import { maxAbsDiff, setupBackend, tf } from './helpers';

let backend = '';
beforeAll(async () => {
  backend = await setupBackend();
});

function reference(p: number[], m: number[], v: number[], g: number[], clip: number, s: { beta1: number; beta2: number; epsilon: number; stepSize: number }) {
  const out = { p: [] as number[], m: [] as number[], v: [] as number[] };
  p.forEach((_, i) => {
    const gi = g[i] * clip;
    const mi = s.beta1 * m[i] + (1 - s.beta1) * gi;
    const vi = s.beta2 * v[i] + (1 - s.beta2) * gi * gi;
    out.m.push(mi);
    out.v.push(vi);
    out.p.push(p[i] - s.stepSize * (mi / (Math.sqrt(vi) + s.epsilon)));
  });
  return out;
}

test.each([
  ['adamUpdate', true],
  ['adamComposed', false],
] as const)('%s equals the float64 reference to float32 rounding; no tensors left', (_, kernel) => {
  const rng = new Rng('adam');
  const n = 1037;
  const draw = (scale: number, positive = false) => Array.from({ length: n }, () => (positive ? rng.next() * scale : (rng.next() - 0.5) * scale));
  const [p, m, g] = [draw(2), draw(0.1), draw(1)];
  const v = draw(0.01, true);
  const s = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3 * Math.sqrt(1 - 0.999 ** 7) / (1 - 0.9 ** 7) };
  const want = reference(p, m, v, g, 0.7, s);
  const before = tf.memory().numTensors;
  const run = () =>
    tf.tidy(() => {
      const t = (x: number[]) => tf.tensor2d(x, [1, n]);
      const [p2, m2, v2] = (kernel ? adamUpdate : adamComposed)(t(p), t(m), t(v), t(g), tf.scalar(0.7), s);
      return [p2, m2, v2].map((x) => Array.from(x.dataSync()));
    });
  if (kernel && backend !== 'tensorflow') expect(adamKernelApplies()).toBe(true);
  const got = run();
  expect(maxAbsDiff(got[0], want.p)).toBeLessThan(1e-6 * 2);
  expect(maxAbsDiff(got[1], want.m)).toBeLessThan(1e-7 * 2);
  expect(maxAbsDiff(got[2], want.v)).toBeLessThan(1e-8 * 2);
  expect(maxAbsDiff(got[0], p)).toBeGreaterThan(1e-4); // it moved
  expect(tf.memory().numTensors).toBe(before);
});
