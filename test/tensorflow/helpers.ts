/**
 * The tensorflow job (jest.tensorflow.config.js): these tests need @tensorflow/tfjs-node and fail,
 * not skip, without it, so a CI run that lost the addon says so.
 */
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../src/backend';
import { tf } from '../../kernels/tf';

export async function useTensorflow(): Promise<void> {
  try {
    await initBackend('tensorflow');
  } catch (e) {
    throw new Error(`the tensorflow tests need @tensorflow/tfjs-node: run \`npm run setup:tensorflow\` (${(e as Error).message})`);
  }
  expect(tf.getBackend()).toBe('tensorflow');
}

/**
 * Run `f` on `backend` inside tf.tidy and return its plain result (arrays, numbers). Everything `f`
 * needs is created inside it, so no tensor crosses backends.
 */
export async function onBackend<R>(backend: 'tensorflow' | 'wasm' | 'cpu', f: () => R): Promise<R> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
  let out: R | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as R;
}

/** Largest |a − b| relative to max(1, largest |b|). */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return d / scale;
}
