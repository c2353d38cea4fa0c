/**
 * A validation split carved from the training set (never from the test set), for tuning: a seeded
 * permutation of the training examples; its first `round(fraction · n)` are held out. The held-out
 * examples are the `test` split of the returned `validation` dataset, so `evaluate(net, validation,
 * 'test', …)` scores them, and `train` keeps the rest.
 */
import { Dataset, epochOrder, gatherImages, gatherLabels } from './data';
import { ConfigError } from './neurons/registry';
import { Rng } from './random';

export interface HeldOut {
  train: Dataset;
  validation: Dataset;
}

export function holdOut(ds: Dataset, fraction: number, seed: number | string): HeldOut {
  if (!(fraction > 0 && fraction < 1)) throw new ConfigError(`validation fraction must be in (0, 1), got ${fraction}`);
  const nVal = Math.round(fraction * ds.nTrain);
  if (nVal < 1 || nVal >= ds.nTrain)
    throw new ConfigError(`validation fraction ${fraction} of ${ds.nTrain} training examples leaves ${nVal} for validation and ${ds.nTrain - nVal} for training; both must be ≥ 1`);
  const order = epochOrder(ds.nTrain, new Rng(`${seed}/validation-split`));
  const p = ds.height * ds.width;
  const part = (idx: Int32Array) => ({ images: gatherImages(ds.trainImages, p, idx), labels: Int32Array.from(gatherLabels(ds.trainLabels, idx)) });
  const val = part(order.subarray(0, nVal));
  const rest = part(order.subarray(nVal));
  return {
    train: { ...ds, trainImages: rest.images, trainLabels: rest.labels, nTrain: ds.nTrain - nVal },
    validation: { ...ds, testImages: val.images, testLabels: val.labels, nTest: nVal },
  };
}
