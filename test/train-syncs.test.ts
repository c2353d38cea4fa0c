/**
 * Host syncs per training step on the composed path (what a GPU runs): each read of tensor data back
 * to JavaScript waits for the device, so a BPTT step and a local-rule step make one read each (loss,
 * correct count and baseline signal together). Counts, not timings. Runs on any backend.
 */
import { countStep, countSyncs } from '../bench/step-counts';
import { trainingStepCounts } from '../bench/train';
import { setupBackend, tf } from './helpers';

const MAX_SYNCS_PER_STEP = 1;

beforeAll(async () => {
  await setupBackend();
});

test('the sync counter sees dataSync, arraySync and data, and nothing else', async () => {
  const x = tf.tensor1d([1, 2, 3]);
  expect(countSyncs(() => tf.tidy(() => void tf.add(x, 1))).syncs).toBe(0);
  expect(countSyncs(() => x.dataSync()).syncs).toBe(1);
  expect(countSyncs(() => (x.arraySync(), x.dataSync())).syncs).toBe(2);
  const { result } = countSyncs(() => x.data());
  await result;
  const c = await countStep(() => tf.tidy(() => void tf.sum(tf.mul(x, x)).dataSync()));
  expect(c.syncs).toBe(1);
  expect(c.launches).toBeGreaterThanOrEqual(2);
  x.dispose();
});

test(`a BPTT step and a local-rule step each read from the device at most ${MAX_SYNCS_PER_STEP} time(s)`, async () => {
  const before = tf.memory().numTensors;
  const counts = await trainingStepCounts({ hidden: 16, batch: 8, steps: 3 });
  expect(tf.memory().numTensors).toBe(before);
  expect(counts.bptt.syncs).toBeLessThanOrEqual(MAX_SYNCS_PER_STEP);
  expect(counts.local.syncs).toBeLessThanOrEqual(MAX_SYNCS_PER_STEP);
  // The step really ran: forward and backward kernels were launched.
  expect(counts.bptt.launches).toBeGreaterThan(100);
  expect(counts.local.launches).toBeGreaterThan(100);
});
