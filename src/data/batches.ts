/**
 * Deterministic shuffling and batching: the order of every epoch comes from the run's Rng, so the
 * same seed gives the same batches, and successive epochs (successive calls on the same Rng, or
 * forks with different labels) give different orders.
 */
import { Rng } from '../random';
import { DataError } from './idx';

/** A random permutation of 0..n-1 drawn from `rng` (Fisher–Yates). */
export function epochOrder(n: number, rng: Rng): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new DataError(`epochOrder: n must be a non-negative integer, got ${n}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  rng.shuffle(order);
  return order;
}

/** The order for epoch `epoch` of a run seeded with `seed`, independent of how many epochs ran before. */
export function epochOrderFor(n: number, seed: number | string, epoch: number): Int32Array {
  return epochOrder(n, new Rng(`${seed}/epoch/${epoch}`));
}

/**
 * Consecutive slices of `order` of length `batchSize`; the last one is shorter unless `dropLast`,
 * in which case it is dropped.
 */
export function batches(order: Int32Array, batchSize: number, dropLast = false): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DataError(`batch size must be a positive integer, got ${batchSize}`);
  }
  const out: Int32Array[] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const b = order.subarray(s, Math.min(order.length, s + batchSize));
    if (dropLast && b.length < batchSize) break;
    out.push(b);
  }
  return out;
}

/** Rows `indices` of a row-major [n, P] array, as a new [indices.length, P] array. */
export function gatherImages(images: Float32Array, P: number, indices: ArrayLike<number>): Float32Array {
  const n = images.length / P;
  const out = new Float32Array(indices.length * P);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < n)) throw new DataError(`gatherImages: index ${i} out of range 0..${n - 1}`);
    out.set(images.subarray(i * P, (i + 1) * P), k * P);
  }
  return out;
}

/** Entries `indices` of a label array. */
export function gatherLabels(labels: ArrayLike<number>, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < labels.length)) throw new DataError(`gatherLabels: index ${i} out of range 0..${labels.length - 1}`);
    out[k] = labels[i];
  }
  return out;
}

/** Entries `indices` of any array (e.g. event streams). */
export function gatherItems<T>(items: readonly T[], indices: ArrayLike<number>): T[] {
  const out: T[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < items.length)) throw new DataError(`gatherItems: index ${i} out of range 0..${items.length - 1}`);
    out.push(items[i]);
  }
  return out;
}
