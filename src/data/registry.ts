/**
 * The datasets, by name. Each family's file exports its `DatasetKind`; this list is the only place
 * that names them all. Adding a dataset: a new file exporting its `DatasetKind`, plus one entry below.
 */
import { Dataset, DatasetKind, LoadOptions, checkLimit } from './datasets';
import { DataError } from './idx';
import { fashionMnistDataset, idxFolderDataset } from './idx-folders';
import { mnist1v7Dataset, mnistDataset } from './mnist';

export const DATASETS: readonly DatasetKind[] = [mnistDataset, fashionMnistDataset, mnist1v7Dataset, idxFolderDataset];

/** The names (or name patterns, `idx:DIR`) of the datasets in `datasets` (default: all). */
export function datasetNames(datasets: readonly DatasetKind[] = DATASETS): string[] {
  return datasets.map((d) => d.name);
}

/** The entry a dataset id belongs to, or a DataError listing the valid names. */
export function datasetKind(id: string, datasets: readonly DatasetKind[] = DATASETS): DatasetKind {
  const entry = datasets.find((d) => d.matches(id));
  if (!entry) throw new DataError(`unknown dataset '${id}': valid names are ${datasetNames(datasets).join(', ')}`);
  return entry;
}

/** Loads a dataset by id; `datasets` replaces the registry (e.g. with a dataset of your own). */
export function loadDataset(id: string, opts: LoadOptions = {}, datasets: readonly DatasetKind[] = DATASETS): Dataset {
  const checked: LoadOptions = {
    ...opts,
    limitTrain: checkLimit(opts.limitTrain, 'limitTrain'),
    limitTest: checkLimit(opts.limitTest, 'limitTest'),
  };
  return datasetKind(id, datasets).load(id, checked);
}
