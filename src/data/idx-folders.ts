/**
 * Datasets stored as the four MNIST-style IDX files of a folder: any such folder (`idx:DIR`: MNIST,
 * KMNIST, ...) and Fashion-MNIST (`fashion-mnist`, the full 60k/10k from Debian's
 * `dataset-fashion-mnist`, `/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Dataset, DatasetKind, LoadOptions, classInterleavedOrder, gatherRows } from './datasets';
import { DataError, readIdxImageSetRaw } from './idx';

/** Where `fashion-mnist` is looked for, after `opts.dir` and $SQSNN_FASHION_MNIST_DIR. */
export const FASHION_MNIST_DIRS = [
  '/usr/share/datasets/fashion-mnist', // Debian/Ubuntu package dataset-fashion-mnist
  '/usr/local/share/datasets/fashion-mnist',
  'data/fashion-mnist',
];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];


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

export const fashionMnistDataset: DatasetKind = {
  name: 'fashion-mnist',
  summary: 'Fashion-MNIST, 60,000 train / 10,000 test, 28×28 (apt-get install dataset-fashion-mnist, or SQSNN_FASHION_MNIST_DIR)',
  shape: { height: 28, width: 28, classes: 10 },
  matches: (id) => id === 'fashion-mnist',
  load: (id, opts) => idxDataset(id, findFashionMnistDir(opts.dir), opts, 10, FASHION_MNIST_CLASSES),
};

export const idxFolderDataset: DatasetKind = {
  name: 'idx:DIR',
  summary: 'any folder DIR holding the four MNIST-style IDX files (MNIST, KMNIST, ...)',
  matches: (id) => id.startsWith('idx:'),
  load: (id, opts) => {
    const dir = id.slice(4);
    if (!dir) throw new DataError('dataset `idx:` needs a folder: `idx:DIR`');
    return idxDataset(id, dir, opts);
  },
};
