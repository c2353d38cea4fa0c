/**
 * Complex tensors as (re, im) pairs of float32 tensors of the same shape. The wasm backend has no
 * complex dtype and no einsum, so every kernel in this folder is written on these pairs.
 */
import { repeatRows, tf, Tensor } from './tf';

export interface Complex {
  re: Tensor;
  im: Tensor;
}

export function complex(re: Tensor, im?: Tensor): Complex {
  return { re, im: im ?? tf.zerosLike(re) };
}

export function cadd(a: Complex, b: Complex): Complex {
  return { re: tf.add(a.re, b.re), im: tf.add(a.im, b.im) };
}

/** Elementwise product with broadcasting. */
export function cmul(a: Complex, b: Complex): Complex {
  return {
    re: tf.sub(tf.mul(a.re, b.re), tf.mul(a.im, b.im)),
    im: tf.add(tf.mul(a.re, b.im), tf.mul(a.im, b.re)),
  };
}

export function cconj(a: Complex): Complex {
  return { re: a.re, im: tf.neg(a.im) };
}

export function abs2(a: Complex): Tensor {
  return tf.add(tf.square(a.re), tf.square(a.im));
}

export function creshape(a: Complex, shape: number[]): Complex {
  return { re: tf.reshape(a.re, shape), im: tf.reshape(a.im, shape) };
}

export function csum(a: Complex, axis: number | number[], keepDims = false): Complex {
  return { re: tf.sum(a.re, axis, keepDims), im: tf.sum(a.im, axis, keepDims) };
}

export function cslice(a: Complex, begin: number[], size: number[]): Complex {
  return { re: tf.slice(a.re, begin, size), im: tf.slice(a.im, begin, size) };
}

export function cconcat(parts: Complex[], axis: number): Complex {
  return { re: tf.concat(parts.map((p) => p.re), axis), im: tf.concat(parts.map((p) => p.im), axis) };
}

/**
 * Batched complex matrix product a @ b (tf.matMul semantics on the last two axes), as one real
 * matMul of a real block matrix [[Ar, -Ai], [Ai, Ar]] against the stacked [Br; Bi]: one op instead of
 * four products and two sums.
 */
export function cmatmul(a: Complex, b: Complex): Complex {
  const rank = a.re.rank;
  const rows = a.re.shape[rank - 2];
  const block = realBlock(a);
  const stackedB = tf.concat([b.re, b.im], b.re.rank - 2);
  const out = tf.matMul(block, stackedB);
  const outShape = out.shape.slice();
  const half = outShape.slice();
  half[rank - 2] = rows;
  const zeros = new Array(rank).fill(0);
  const imBegin = zeros.slice();
  imBegin[rank - 2] = rows;
  return { re: tf.slice(out, zeros, half), im: tf.slice(out, imBegin, half) };
}

/** The real 2D×2D representation [[re, -im], [im, re]] of a batch of complex D×D matrices. */
export function realBlock(a: Complex): Tensor {
  const ax = a.re.rank - 1;
  const top = tf.concat([a.re, tf.neg(a.im)], ax);
  const bottom = tf.concat([a.im, a.re], ax);
  return tf.concat([top, bottom], ax - 1);
}

/** Copies of a complex tensor stacked along axis 0 (see repeatRows). */
export function crepeatRows(a: Complex, copies: number): Complex {
  return { re: repeatRows(a.re, copies), im: repeatRows(a.im, copies) };
}

export function cdispose(...xs: (Complex | undefined)[]): void {
  for (const x of xs) {
    if (!x) continue;
    x.re.dispose();
    x.im.dispose();
  }
}

/** Read a complex tensor into nested JS arrays of [re, im] (tests, CLI output). */
export async function cArray(x: Complex): Promise<{ re: number[]; im: number[] }> {
  return { re: Array.from(await x.re.data()), im: Array.from(await x.im.data()) };
}
