/**
 * The benchmark harness and `sqsnn bench` on tiny sizes: shapes of the results, path choice, the
 * memory-budget stop of the largest-register search, usage errors. No timing thresholds.
 */
import { largestRegister, runMemoryScan, runNeuronBench } from '../bench/neuron';
import { shutdownSqsStepThreads } from '../kernels/sqs-step';
import { UsageError } from '../src/cli/options';
import { SqsnnError } from '../kernels/errors';
import { memoryLimit, restoreMemoryBudget, setMemoryBudget } from '../kernels/memory';
import { run } from '../src/commands/bench';
import { tf } from './helpers';

const tiny = { batch: 6, neurons: 4, T: 2, reps: 1, warmup: 0 };

afterAll(async () => {
  await shutdownSqsStepThreads();
});

describe.each(['wasm', 'cpu'])('bench on %s', (backend) => {
  test('fused (auto) with the composed baseline in the same process', async () => {
    const before = tf.memory().numTensors;
    const r = await runNeuronBench({ ...tiny, backend });
    expect(tf.getBackend()).toBe(backend);
    expect(r.backend).toBe(backend);
    expect(r.path).toBe('fused');
    expect(r.dim).toBe(4);
    expect(r.runsMs).toHaveLength(1);
    expect(r.neuronStepsPerSecond).toBeGreaterThan(0);
    expect(r.msPerStep).toBeGreaterThan(0);
    expect(r.baseline?.path).toBe('composed-dense');
    expect(r.speedup).toBeCloseTo(r.neuronStepsPerSecond / (r.baseline as { neuronStepsPerSecond: number }).neuronStepsPerSecond, 6);
    expect(r.randomUniformMs).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('composed mode, tensor uniforms, spike inputs; fused refuses D > 64', async () => {
    const c = await runNeuronBench({ ...tiny, backend, mode: 'composed', inputs: 'spikes' });
    expect(c.path).toBe('composed-dense');
    expect(c.baseline).toBeUndefined();
    const t = await runNeuronBench({ ...tiny, backend, uniforms: 'tensor', baseline: false, memoryQubits: 2 });
    expect(t.path).toBe('fused');
    expect(t.uniforms).toBe('tensor');
    expect(t.dim).toBe(8);
    await expect(runNeuronBench({ ...tiny, backend, mode: 'fused', memoryQubits: 6 })).rejects.toThrow(/does not run D = 128/);
    const g = await runNeuronBench({ ...tiny, backend, memoryQubits: 6, neurons: 1, batch: 2 });
    expect(g.path).toBe('composed-gates');
  });
});

test('--generic: the fused path is timed again with the general loops only, in the same process', async () => {
  const r = await runNeuronBench({ ...tiny, backend: 'wasm', baseline: false, generic: true });
  expect(r.path).toBe('fused');
  expect(r.generic?.path).toBe('fused');
  expect(r.specialisedGain).toBeCloseTo(r.neuronStepsPerSecond / (r.generic as { neuronStepsPerSecond: number }).neuronStepsPerSecond, 6);
  const plain = await runNeuronBench({ ...tiny, backend: 'wasm', baseline: false });
  expect(plain.generic).toBeUndefined();
});

test('N_M scan rows and the largest-register search stopped by the memory budget', async () => {
  const rows: number[] = [];
  const res = await runMemoryScan({ backend: 'wasm', maxMemoryQubits: 2, batch: 4, neurons: 3, T: 1, reps: 1, largest: false, onRow: (r) => rows.push(r.memoryQubits) });
  expect(rows).toEqual([1, 2]);
  expect(res.rows.map((r) => r.dim)).toEqual([4, 8]);
  for (const r of res.rows) {
    expect(r.fused).toBeDefined();
    expect(r.speedup).toBeGreaterThan(0);
  }
  // One composed step keeps 16 copies per gate of 2^(M+1) amplitudes × 8 bytes, over 3M + 2 gates
  // (+1): N_M = 7 needs 800 KiB and fits, N_M = 8 needs 1.7 MiB and does not.
  const saved = setMemoryBudget(1);
  try {
    const l = await largestRegister({ maxSeconds: 60, batch: 1 });
    expect(l.memoryQubits).toBe(7);
    expect(l.totalQubits).toBe(8);
    expect(l.tried[l.tried.length - 1]).toEqual({ memoryQubits: 8, stopped: expect.stringMatching(/needs about 1\.7 MiB .*more than the 1\.0 MiB limit of wasm backend: setMemoryBudget$/) });
  } finally {
    restoreMemoryBudget(saved);
  }
});

test('sqsnn bench neuron --json prints one JSON object; unknown benchmarks and options are usage errors', async () => {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  });
  try {
    await run(['neuron', '--json', '--backend', 'wasm', '--batch', '4', '--neurons', '3', '--T', '2', '--reps', '1', '--warmup', '0']);
  } finally {
    spy.mockRestore();
  }
  const out = JSON.parse(chunks.join(''));
  expect(out.backend).toBe('wasm');
  expect(out.neuronStepsPerSecond).toBeGreaterThan(0);
  expect(out.baseline.path).toBe('composed-dense');
  await expect(run(['no-such-bench'])).rejects.toThrow(UsageError);
  await expect(run([])).rejects.toThrow(UsageError);
  await expect(run(['neuron', '--bogus', '1'])).rejects.toThrow(/unknown option/);
  await expect(run(['neuron', '--mode', 'fast'])).rejects.toThrow(UsageError);
  // A register the fused kernel cannot take is the user's error (exit 2), not a bug.
  await expect(run(['neuron', '--mode', 'fused', '--memory-qubits', '6', '--backend', 'wasm'])).rejects.toThrow(SqsnnError);
});

test('the memory budget comes from SQSNN_MEMORY_BUDGET_MB, read once on first use; setMemoryBudget overrides it', () => {
  const saved = setMemoryBudget(undefined);
  const env = process.env.SQSNN_MEMORY_BUDGET_MB;
  try {
    process.env.SQSNN_MEMORY_BUDGET_MB = '3';
    expect(memoryLimit('cpu')).toEqual({ bytes: 3 * 2 ** 20, what: 'cpu backend: SQSNN_MEMORY_BUDGET_MB' });
    process.env.SQSNN_MEMORY_BUDGET_MB = '5'; // not re-read at every call
    expect(memoryLimit('cpu').bytes).toBe(3 * 2 ** 20);
    setMemoryBudget(7);
    expect(memoryLimit('cpu')).toEqual({ bytes: 7 * 2 ** 20, what: 'cpu backend: setMemoryBudget' });
    expect(() => setMemoryBudget(0)).toThrow(/must be > 0/);
  } finally {
    if (env === undefined) delete process.env.SQSNN_MEMORY_BUDGET_MB;
    else process.env.SQSNN_MEMORY_BUDGET_MB = env;
    restoreMemoryBudget(saved);
  }
});
