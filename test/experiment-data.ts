/** Datasets for experiment-runner tests. */
import { Dataset } from '../src/data';

/** Two separable classes of 4×4 images: bright left half vs bright right half, with noise. */
export function tinyDataset(): Dataset {
  const make = (n: number, seed: number) => {
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const images = new Float32Array(n * 16);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (let p = 0; p < 16; p++) images[i * 16 + p] = ((p % 4 < 2) === (labels[i] === 0) ? 0.9 : 0.05) * (0.8 + 0.2 * rnd());
    }
    return { images, labels };
  };
  const tr = make(80, 1);
  const te = make(40, 2);
  return { name: 'tiny', trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels, height: 4, width: 4, classes: 2, nTrain: 80, nTest: 40, source: 'test' };
}
