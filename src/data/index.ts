/** Datasets, file readers, input encodings and batching (see each module). */
export { DataError, readIdx, parseIdx, encodeIdx, isGzip, readIdxImageSet, readIdxImageSetRaw } from './idx';
export type { IdxArray, IdxDtype, IdxData, IdxImageSet, RawIdxImageSet } from './idx';
export {
  loadDataset, findIdxFiles, findFashionMnistDir, classInterleavedOrder, resizeArea, resizeImages,
  DATASET_NAMES, FASHION_MNIST_DIRS, FASHION_MNIST_CLASSES, MNIST_TEST_PER_CLASS,
} from './datasets';
export type { Dataset, LoadOptions } from './datasets';
export { rateEncode, imageToEvents, binEvents, eventsToTensor, imagesToEventTensor } from './encoding';
export type { SaccadeOptions, BinOptions } from './encoding';
export { readNMnistBin, encodeNMnistBin, loadNMnist, readAedat, emptyEvents } from './events';
export type { Events, EventSplit, EventDataset, NMnistOptions, AedatOptions } from './events';
export { epochOrder, epochOrderFor, batches, gatherImages, gatherLabels, gatherItems } from './batches';
