/** Datasets, file readers, input encodings and batching (see each module). */
export { DataError, readIdx, parseIdx, encodeIdx, isGzip, readIdxImageSet, readIdxImageSetRaw } from './idx';
export type { IdxArray, IdxDtype, IdxData, IdxImageSet, RawIdxImageSet } from './idx';
export { classInterleavedOrder, resizeArea, resizeImages } from './datasets';
export type { Dataset, DatasetKind, LoadOptions } from './datasets';
export { DATASETS, datasetKind, datasetNames, loadDataset } from './registry';
export { mnistDataset, mnist1v7Dataset, MNIST_TEST_PER_CLASS } from './mnist';
export { fashionMnistDataset, idxFolderDataset, findIdxFiles, findFashionMnistDir, FASHION_MNIST_DIRS, FASHION_MNIST_CLASSES } from './idx-folders';
export { rateEncode, imageToEvents, binEvents, eventsToTensor, imagesToEventTensor } from './encoding';
export type { SaccadeOptions, BinOptions } from './encoding';
export { readNMnistBin, encodeNMnistBin, loadNMnist, readAedat, emptyEvents } from './events';
export type { Events, EventSplit, EventDataset, NMnistOptions, AedatOptions } from './events';
export { epochOrder, epochOrderFor, batches, gatherImages, gatherLabels, gatherItems } from './batches';
