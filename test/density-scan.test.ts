/**
 * The density-mode scan (`bench neuron --scan --density`, bench/density-scan.ts) at toy sizes: one row
 * per memory size with a positive rate, the largest-register search stopping on its time limit or on
 * the memory budget, and no tensors left behind. No timing assertions.
 */
import { runDensityScan, largestDensityRegister } from '../bench/density-scan';
import { restoreMemoryBudget, setMemoryBudget } from '../kernels/memory';
import { tf } from '../kernels/tf';
import { setupBackend } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

test('rows for N_M = 1, 2; the largest search stops on its time limit; tensor count flat', async () => {
  const before = tf.memory().numTensors;
  const res = await runDensityScan({ maxMemoryQubits: 2, neurons: 3, batch: 2, T: 2, reps: 1, maxSeconds: 0 });
  expect(res.mode).toBe('density');
  expect(res.rows.map((r) => [r.memoryQubits, r.dim])).toEqual([[1, 4], [2, 8]]);
  for (const r of res.rows) expect(r.neuronStepsPerSecond).toBeGreaterThan(0);
  expect(res.largest?.tried.length).toBe(1);
  expect(res.largest?.stoppedBecause).toMatch(/N_M = 1 took .* s > 0 s/);
  expect(res.largest?.memoryQubits).toBe(0);
  expect(tf.memory().numTensors).toBe(before);
});

test('the largest search stops where the memory budget refuses a register', async () => {
  const previous = setMemoryBudget(1); // 1 MB: a few qubits of ρ with its per-gate copies
  try {
    const largest = await largestDensityRegister({ maxSeconds: 60 });
    const last = largest.tried[largest.tried.length - 1];
    expect(last.stopped).toMatch(/density mode/);
    expect(largest.memoryQubits).toBe(largest.tried.length - 1);
  } finally {
    restoreMemoryBudget(previous);
  }
});
