/**
 * The faster seeded uniforms (kernels/uniform.ts) are tf.randomUniform's values exactly, and rate
 * coding compares the counter-hash stream (kernels/counter-hash.ts) with the capped pixels, element by
 * element (its spike rates: test/data-encoding.test.ts).
 */
import { streamKeys, uniformAt } from '../kernels/counter-hash';
import { seededUniform, seededUniformArray } from '../kernels/uniform';
import { tf } from '../kernels/tf';
import { rateEncode } from '../src/data';
import { Rng } from '../src/random';
import { setupBackend } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

test('seededUniform = tf.randomUniform(shape, min, max, float32, seed), bit for bit', () => {
  for (const seed of [0, 1, 12345, 2 ** 31 - 1, 987654321, 'text-seed'])
    for (const [min, max] of [[0, 1], [-0.3, 0.3], [2, 5]]) {
      const ours = seededUniform([37, 11], seed, min, max);
      const theirs = tf.randomUniform([37, 11], min, max, 'float32', seed as number);
      expect({ seed, min, same: Array.from(ours.dataSync()).every((v, i) => Object.is(v, theirs.dataSync()[i])) }).toEqual({ seed, min, same: true });
      ours.dispose();
      theirs.dispose();
    }
  const u = seededUniformArray(10000, 7);
  expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...u)).toBeLessThan(1);
});

test('rateEncode: spike (t, p, b) iff draw t·P·B + p·B + b of the counter stream < min(pixel, pMax)', () => {
  const r = new Rng('rate');
  const [batch, P, T] = [7, 13, 5];
  // Pixels in [−0.2, 1.2], some exactly at p_max and at 0.
  const images = Float32Array.from({ length: batch * P }, (_, i) => (i % 11 === 0 ? 0.5 : i % 13 === 0 ? 0 : r.next() * 1.4 - 0.2));
  for (const pMax of [0.5, 1, 0.3]) {
    const seedRng = new Rng(`enc-${pMax}`);
    const got = rateEncode(images, batch, P, T, pMax, new Rng(`enc-${pMax}`));
    const [k1, k2] = streamKeys(seedRng.nextSeed());
    const want = tf.tidy(() => {
      const prob = tf.minimum(tf.transpose(tf.tensor2d(images, [batch, P])), pMax);
      const u = Float32Array.from({ length: T * P * batch }, (_, i) => uniformAt(k1, k2, i));
      return tf.cast(tf.less(tf.tensor3d(u, [T, P, batch]), prob), 'float32');
    });
    expect(got.shape).toEqual([T, P, batch]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    got.dispose();
    want.dispose();
  }
});
