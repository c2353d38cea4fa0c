/**
 * The one place the engine imports tfjs from. The full `@tensorflow/tfjs` package is used (not
 * tfjs-core alone) because only it registers gradient functions; tfjs-node(-gpu), when present,
 * registers its `tensorflow` backend on this same instance.
 */
import * as tf from '@tensorflow/tfjs';
export { tf };
export type Tensor = tf.Tensor;

/** tf.tidy for results that are plain objects of tensors (e.g. complex pairs), typed as given. */
export function tidy<T>(f: () => T): T {
  return tf.tidy(f as never) as T;
}

/** Every tensor inside a nested object (states, prepared circuits), in visiting order. */
export function tensorsIn(x: unknown, out: Tensor[] = []): Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (x && typeof x === 'object') for (const v of Object.values(x)) tensorsIn(v, out);
  return out;
}

/** tf.keep on every tensor inside x (to carry it out of a tidy); returns x. */
export function keepAll<T>(x: T): T {
  for (const t of tensorsIn(x)) tf.keep(t);
  return x;
}

/** Dispose every tensor inside x. */
export function disposeAll(x: unknown): void {
  for (const t of tensorsIn(x)) t.dispose();
}

/**
 * `copies` stacked copies of x along axis 0 (shift-major rows). Written as a concat, a block copy:
 * the wasm backend's Tile is an order of magnitude slower for the same result.
 */
export function repeatRows(x: Tensor, copies: number): Tensor {
  return copies === 1 ? x : tf.concat(new Array(copies).fill(x), 0);
}

/**
 * a @ bᵀ with an explicit transpose: on wasm, matMul(a, b, false, true) is about 10× slower than
 * transposing b first (122 ms vs 12.5 ms for [1000, 256] @ [784, 256]ᵀ).
 */
export function matMulNT(a: Tensor, b: Tensor): Tensor {
  return tf.matMul(a, tf.transpose(b));
}
