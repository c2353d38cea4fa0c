/** IDX reading (raw and gzip), corrupt files, IDX folders, dataset names, Debian Fashion-MNIST. */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  DataError, readIdx, parseIdx, encodeIdx, readIdxImageSet, loadDataset, findIdxFiles, FASHION_MNIST_DIRS,
} from '../src/data';
import { makeTmpDir, removeDir, idxUbyte, tinySet, writeIdxFolder } from './data-helpers';

let dir: string;
beforeAll(() => {
  dir = makeTmpDir('idx');
});
afterAll(() => removeDir(dir));

function expectDataError(fn: () => unknown, ...parts: Array<string | RegExp>): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataError);
  expect((err as Error).constructor.name).toBe('DataError');
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('IDX reader', () => {
  test('reads a raw uint8 file written byte by byte', () => {
    const f = path.join(dir, 'a-idx3-ubyte');
    const vals = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    fs.writeFileSync(f, idxUbyte([2, 3, 4], vals));
    const a = readIdx(f);
    expect(a.dtype).toBe('uint8');
    expect(a.dims).toEqual([2, 3, 4]);
    expect(Array.from(a.data)).toEqual(vals);
  });

  test('reads the same file gzip-compressed, detected by content whatever the name', () => {
    const vals = [0, 1, 2, 254, 255, 7];
    const raw = idxUbyte([6], vals);
    fs.writeFileSync(path.join(dir, 'b.gz'), zlib.gzipSync(raw));
    fs.writeFileSync(path.join(dir, 'b-no-suffix'), zlib.gzipSync(raw));
    expect(Array.from(readIdx(path.join(dir, 'b.gz')).data)).toEqual(vals);
    expect(Array.from(readIdx(path.join(dir, 'b-no-suffix')).data)).toEqual(vals);
  });

  test('all IDX types round-trip through encodeIdx (big-endian)', () => {
    const cases: Array<[Parameters<typeof encodeIdx>[2], number[]]> = [
      ['uint8', [0, 5, 255]],
      ['int8', [-128, 0, 127]],
      ['int16', [-32768, 258, 32767]],
      ['int32', [-2147483648, 16909060, 2147483647]],
      ['float32', [-1.5, 0.25, 3.0e10]],
      ['float64', [Math.PI, -1e-300, 12345.678]],
    ];
    for (const [dtype, vals] of cases) {
      for (const gz of [false, true]) {
        const a = parseIdx(new Uint8Array(gz ? zlib.gunzipSync(encodeIdx([3], vals, dtype, gz)) : encodeIdx([3], vals, dtype)), 'mem');
        expect(a.dtype).toBe(dtype);
        expect(a.dims).toEqual([3]);
        expect(Array.from(a.data)).toEqual(dtype === 'float32' ? vals.map(Math.fround) : vals);
      }
    }
    // int16 258 is stored big-endian as 01 02.
    const b = encodeIdx([1], [258], 'int16');
    expect(Array.from(b)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 1, 1, 2]);
  });

  test('images and labels together: pixels scaled to [0, 1]', () => {
    const s = tinySet(5, 2, 3, 4);
    fs.writeFileSync(path.join(dir, 'im'), idxUbyte([5, 2, 3], s.images));
    fs.writeFileSync(path.join(dir, 'lb'), idxUbyte([5], s.labels));
    const r = readIdxImageSet(path.join(dir, 'im'), path.join(dir, 'lb'));
    expect([r.n, r.height, r.width]).toEqual([5, 2, 3]);
    expect(Array.from(r.labels)).toEqual(s.labels);
    expect(r.images[7]).toBeCloseTo(s.images[7] / 255, 6);
    expect(Math.max(...r.images)).toBeLessThanOrEqual(1);
  });
});

describe('corrupt or missing IDX files give a DataError naming the file and the problem', () => {
  test('missing file', () => {
    const f = path.join(dir, 'nope-idx1-ubyte');
    expectDataError(() => readIdx(f), f, /not found/);
  });

  test('wrong magic', () => {
    const f = path.join(dir, 'magic');
    const buf = idxUbyte([3], [1, 2, 3]);
    buf[2] = 0x07;
    fs.writeFileSync(f, buf);
    expectDataError(() => readIdx(f), f, /wrong magic/, /00 00 07 01/);
    const g = path.join(dir, 'magic2');
    fs.writeFileSync(g, Buffer.from('PK\x03\x04 this is a zip', 'latin1'));
    expectDataError(() => readIdx(g), g, /wrong magic/);
  });

  test('truncated data, truncated header, too short, trailing bytes', () => {
    const f = path.join(dir, 'trunc');
    fs.writeFileSync(f, idxUbyte([10, 28, 28], new Array(7840).fill(1)).subarray(0, 16 + 100));
    expectDataError(() => readIdx(f), f, /truncated/, /7840/, /got 100/);
    const g = path.join(dir, 'trunc-header');
    fs.writeFileSync(g, idxUbyte([10, 28, 28], new Array(7840).fill(1)).subarray(0, 9));
    expectDataError(() => readIdx(g), g, /truncated IDX header/);
    const h = path.join(dir, 'tiny');
    fs.writeFileSync(h, Buffer.from([0, 0]));
    expectDataError(() => readIdx(h), h, /truncated/);
    const k = path.join(dir, 'extra');
    fs.writeFileSync(k, Buffer.concat([idxUbyte([2], [1, 2]), Buffer.from([9, 9, 9])]));
    expectDataError(() => readIdx(k), k, /3 unexpected bytes/);
  });

  test('truncated gzip stream', () => {
    const f = path.join(dir, 'trunc.gz');
    const gz = zlib.gzipSync(idxUbyte([100], new Array(100).fill(3)));
    fs.writeFileSync(f, gz.subarray(0, gz.length - 12));
    expectDataError(() => readIdx(f), f, /corrupt gzip/);
  });

  test('label count ≠ image count', () => {
    const s = tinySet(5, 2, 2, 3);
    fs.writeFileSync(path.join(dir, 'im5'), idxUbyte([5, 2, 2], s.images));
    fs.writeFileSync(path.join(dir, 'lb4'), idxUbyte([4], s.labels.slice(0, 4)));
    expectDataError(
      () => readIdxImageSet(path.join(dir, 'im5'), path.join(dir, 'lb4')),
      path.join(dir, 'lb4'), /label count 4 ≠ image count 5/, path.join(dir, 'im5'),
    );
  });

  test('labels out of range and wrong ranks', () => {
    const s = tinySet(3, 2, 2, 3);
    fs.writeFileSync(path.join(dir, 'im3'), idxUbyte([3, 2, 2], s.images));
    fs.writeFileSync(path.join(dir, 'lb3'), idxUbyte([3], [0, 12, 1]));
    expectDataError(() => readIdxImageSet(path.join(dir, 'im3'), path.join(dir, 'lb3'), 10), path.join(dir, 'lb3'), /label 12/, /out of range/);
    fs.writeFileSync(path.join(dir, 'flat'), idxUbyte([3, 4], s.images));
    expectDataError(() => readIdxImageSet(path.join(dir, 'flat'), path.join(dir, 'lb3')), path.join(dir, 'flat'), /3 dimensions/);
  });
});

describe('datasets from IDX folders', () => {
  test('idx:DIR reads the four standard files (raw) in the fixed class-interleaved order', () => {
    const d = path.join(dir, 'raw-set');
    fs.mkdirSync(d);
    const train = tinySet(12, 3, 4, 3);
    const test = tinySet(6, 3, 4, 3, 100);
    // Sort the training set by class so that the interleaving is visible.
    const order = Array.from({ length: 12 }, (_, i) => i).sort((a, b) => train.labels[a] - train.labels[b] || a - b);
    const sorted = {
      ...train,
      labels: order.map((i) => train.labels[i]),
      images: order.flatMap((i) => train.images.slice(i * 12, (i + 1) * 12)),
    };
    writeIdxFolder(d, sorted, test);
    const ds = loadDataset(`idx:${d}`);
    expect([ds.nTrain, ds.nTest, ds.height, ds.width, ds.classes]).toEqual([12, 6, 3, 4, 3]);
    expect(Array.from(ds.trainLabels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    // The first training row is the first class-0 example of the sorted file: original image 0.
    expect(ds.trainImages[5]).toBeCloseTo(train.images[5] / 255, 6);
    // Second row: first class-1 example = original image 1.
    expect(ds.trainImages[12 + 5]).toBeCloseTo(train.images[12 + 5] / 255, 6);
    const lim = loadDataset(`idx:${d}`, { limitTrain: 4, limitTest: 3 });
    expect([lim.nTrain, lim.nTest]).toEqual([4, 3]);
    expect(Array.from(lim.trainLabels)).toEqual([0, 1, 2, 0]);
    expect(lim.trainImages.length).toBe(4 * 12);
    expect(Array.from(lim.trainImages)).toEqual(Array.from(ds.trainImages.subarray(0, 48)));
  });

  test('gzip files and KMNIST/other-style names', () => {
    const d = path.join(dir, 'gz-set');
    fs.mkdirSync(d);
    writeIdxFolder(d, tinySet(4, 2, 2, 2), tinySet(2, 2, 2, 2), true);
    const ds = loadDataset(`idx:${d}`);
    expect([ds.nTrain, ds.nTest, ds.classes]).toEqual([4, 2, 2]);
    const e = path.join(dir, 'other-names');
    fs.mkdirSync(e);
    writeIdxFolder(e, tinySet(4, 2, 2, 2), tinySet(2, 2, 2, 2), false, {
      'train-images-idx3-ubyte': 'kmnist-train-images-idx3-ubyte',
      'train-labels-idx1-ubyte': 'kmnist-train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte': 'test-images.idx3-ubyte',
      't10k-labels-idx1-ubyte': 'test-labels.idx1-ubyte',
    });
    expect(findIdxFiles(e).testImages).toBe(path.join(e, 'test-images.idx3-ubyte'));
    expect(loadDataset(`idx:${e}`).nTrain).toBe(4);
  });

  test('a missing file or a missing folder names it', () => {
    const d = path.join(dir, 'missing-one');
    fs.mkdirSync(d);
    writeIdxFolder(d, tinySet(4, 2, 2, 2), tinySet(2, 2, 2, 2));
    fs.unlinkSync(path.join(d, 't10k-labels-idx1-ubyte'));
    expectDataError(() => loadDataset(`idx:${d}`), path.join(d, 't10k-labels-idx1-ubyte'), /not found/);
    expectDataError(() => loadDataset(`idx:${path.join(dir, 'no-such-dir')}`), 'no-such-dir', /not found/);
  });

  test('a corrupt file inside a folder names that file', () => {
    const d = path.join(dir, 'corrupt-one');
    fs.mkdirSync(d);
    writeIdxFolder(d, tinySet(4, 2, 2, 2), tinySet(2, 2, 2, 2));
    fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxUbyte([3], [0, 1, 0]));
    expectDataError(() => loadDataset(`idx:${d}`), path.join(d, 'train-labels-idx1-ubyte'), /label count 3 ≠ image count 4/);
  });

  test('unknown dataset names list the valid ones; bad limits are rejected', () => {
    expectDataError(() => loadDataset('cifar10'), /unknown dataset 'cifar10'/, /mnist/, /fashion-mnist/, /idx:DIR/, /mnist-1v7-16/);
    expectDataError(() => loadDataset('mnist', { limitTrain: 0 }), /limitTrain/);
  });

  test('fashion-mnist from an explicit folder, and a clear error when it is absent', () => {
    const d = path.join(dir, 'fake-fashion');
    fs.mkdirSync(d);
    writeIdxFolder(d, tinySet(20, 28, 28, 10), tinySet(10, 28, 28, 10), true);
    const ds = loadDataset('fashion-mnist', { dir: d });
    expect([ds.nTrain, ds.nTest, ds.classes]).toEqual([20, 10, 10]);
    expect(ds.classNames?.[9]).toBe('Ankle boot');
    const empty = path.join(dir, 'empty-fashion');
    fs.mkdirSync(empty);
    expectDataError(() => loadDataset('fashion-mnist', { dir: empty }), empty, /not found/);
    const saved = process.env.SQSNN_FASHION_MNIST_DIR;
    try {
      process.env.SQSNN_FASHION_MNIST_DIR = d;
      expect(loadDataset('fashion-mnist').nTrain).toBe(20);
      process.env.SQSNN_FASHION_MNIST_DIR = empty;
      expectDataError(() => loadDataset('fashion-mnist'), empty, /train-images-idx3-ubyte/, /not found/);
      // Nothing anywhere: the error says how to install it.
      delete process.env.SQSNN_FASHION_MNIST_DIR;
      const defaults = FASHION_MNIST_DIRS.splice(0, FASHION_MNIST_DIRS.length, path.join(dir, 'nowhere'));
      try {
        expectDataError(() => loadDataset('fashion-mnist'), /nowhere/, /apt-get install dataset-fashion-mnist/, /SQSNN_FASHION_MNIST_DIR/);
      } finally {
        FASHION_MNIST_DIRS.splice(0, FASHION_MNIST_DIRS.length, ...defaults);
      }
    } finally {
      if (saved === undefined) delete process.env.SQSNN_FASHION_MNIST_DIR;
      else process.env.SQSNN_FASHION_MNIST_DIR = saved;
    }
  });
});

const debianFashion = FASHION_MNIST_DIRS[0];
const haveFashion = fs.existsSync(path.join(debianFashion, 'train-images-idx3-ubyte.gz'));
// Installed by `apt-get install dataset-fashion-mnist` (CI installs it); skipped when absent.
(haveFashion ? test : test.skip)(`Debian dataset-fashion-mnist in ${debianFashion}: 60000/10000, 28×28, 10 classes`, () => {
  const ds = loadDataset('fashion-mnist');
  expect(ds.source).toBe(debianFashion);
  expect([ds.nTrain, ds.nTest, ds.height, ds.width, ds.classes]).toEqual([60000, 10000, 28, 28, 10]);
  expect(ds.trainImages.length).toBe(60000 * 784);
  const counts = new Array(10).fill(0);
  for (const l of ds.testLabels) counts[l]++;
  expect(counts).toEqual(new Array(10).fill(1000));
  expect(Array.from(ds.trainLabels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  let mx = 0;
  for (let i = 0; i < 784 * 100; i++) mx = Math.max(mx, ds.trainImages[i]);
  expect(mx).toBeLessThanOrEqual(1);
  expect(mx).toBeGreaterThan(0.9);
  const lim = loadDataset('fashion-mnist', { limitTrain: 100, limitTest: 50 });
  expect([lim.nTrain, lim.nTest]).toEqual([100, 50]);
  expect(Array.from(lim.trainImages)).toEqual(Array.from(ds.trainImages.subarray(0, 100 * 784)));
});
