/**
 * What every image classification dataset looks like once loaded: pixels in [0, 1], row-major
 * [n, height*width] Float32Arrays, integer labels, a fixed train/test split and a fixed order; and
 * the helpers the dataset families share. The datasets themselves are listed in ./registry.ts.
 *
 * Order. Every split is stored in a fixed class-interleaved order: the first example of class 0,
 * of class 1, ..., of the last class, then the second of each class, and so on (a class that runs
 * out is skipped), each class keeping its order in the source. So `limitTrain`/`limitTest` (a
 * prefix of that order) are class-balanced, and nothing here is random: shuffling for training
 * is done by `batches.ts` from the run's seed.
 */
import { DataError } from './idx';

export interface Dataset {
  name: string;
  /** Row-major [nTrain, height*width], pixels in [0, 1]. */
  trainImages: Float32Array;
  trainLabels: Int32Array;
  /** Row-major [nTest, height*width], pixels in [0, 1]. */
  testImages: Float32Array;
  testLabels: Int32Array;
  height: number;
  width: number;
  classes: number;
  nTrain: number;
  nTest: number;
  /** Human-readable class names, when known. */
  classNames?: string[];
  /** Where the data came from (a folder or a package). */
  source: string;
}

export interface LoadOptions {
  /** Keep only the first N training examples of the fixed class-interleaved order. */
  limitTrain?: number;
  /** Keep only the first N test examples of the fixed class-interleaved order. */
  limitTest?: number;
  /** Folder to read instead of the default location (`fashion-mnist`). */
  dir?: string;
}

/** One dataset family of the registry (src/data/registry.ts): its file exports this object. */
export interface DatasetKind {
  /** The name, or the pattern of a family of names (`idx:DIR`). */
  readonly name: string;
  /** One line for listings. */
  readonly summary: string;
  /** Image height, width and classes when fixed (a folder of IDX files says its own). */
  readonly shape?: { height: number; width: number; classes: number };
  /** Whether a dataset id (`mnist`, `idx:/data/kmnist`, …) belongs to this entry. */
  matches(id: string): boolean;
  /** Load it; `opts` limits are already checked. */
  load(id: string, opts: LoadOptions): Dataset;
}

// ---------------------------------------------------------------------------------------------
// Fixed orders, subsets, resizing

/**
 * The fixed class-interleaved order of a label array: round r takes the r-th example of each
 * class in class order, skipping classes with fewer than r+1 examples.
 */
export function classInterleavedOrder(labels: ArrayLike<number>, classes: number): Int32Array {
  const buckets: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) buckets[labels[i]].push(i);
  const order = new Int32Array(labels.length);
  let k = 0;
  const rounds = Math.max(0, ...buckets.map((b) => b.length));
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < classes; c++) if (r < buckets[c].length) order[k++] = buckets[c][r];
  }
  return order;
}

/** Rows `order[0..n)` of a row-major image array, optionally scaled. */
export function gatherRows(src: ArrayLike<number>, P: number, order: ArrayLike<number>, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n * P);
  for (let k = 0; k < n; k++) {
    const s = order[k] * P;
    const d = k * P;
    for (let j = 0; j < P; j++) out[d + j] = src[s + j] * scale;
  }
  return out;
}

export function checkLimit(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    throw new DataError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Area-averaging resize of one [h, w] image to [h2, w2]: each output pixel is the mean of the
 * source area it covers, with fractional overlaps weighted by their area (exact for any ratio).
 */
export function resizeArea(image: ArrayLike<number>, h: number, w: number, h2: number, w2: number): Float32Array {
  const wy = overlapWeights(h, h2);
  const wx = overlapWeights(w, w2);
  const out = new Float32Array(h2 * w2);
  for (let i = 0; i < h2; i++) {
    for (let j = 0; j < w2; j++) {
      let s = 0;
      for (const [y, ay] of wy[i]) {
        for (const [x, ax] of wx[j]) s += ay * ax * image[y * w + x];
      }
      out[i * w2 + j] = s;
    }
  }
  return out;
}

/** For each output cell, the source cells it overlaps and the normalised overlap lengths. */
function overlapWeights(n: number, n2: number): Array<Array<[number, number]>> {
  const scale = n / n2;
  const res: Array<Array<[number, number]>> = [];
  for (let i = 0; i < n2; i++) {
    const a = i * scale;
    const b = (i + 1) * scale;
    const cells: Array<[number, number]> = [];
    for (let s = Math.floor(a); s < Math.min(n, Math.ceil(b)); s++) {
      const len = Math.min(b, s + 1) - Math.max(a, s);
      if (len > 1e-12) cells.push([s, len / scale]);
    }
    res.push(cells);
  }
  return res;
}

/** Resizes every row of a row-major [n, h*w] array. */
export function resizeImages(images: Float32Array, n: number, h: number, w: number, h2: number, w2: number): Float32Array {
  const out = new Float32Array(n * h2 * w2);
  const P = h * w;
  for (let k = 0; k < n; k++) out.set(resizeArea(images.subarray(k * P, (k + 1) * P), h, w, h2, w2), k * h2 * w2);
  return out;
}
