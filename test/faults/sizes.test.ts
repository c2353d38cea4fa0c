/**
 * Issue 11, rows 1–5: sizes are refused from shapes alone, before anything is built, against the
 * real limit of the backend (the wasm backend's 32-bit memory here), with one line naming the
 * quantity, the estimate and the limit; nothing is written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { hardwareEfficientCircuit } from '../../kernels/circuit';
import { findFashionMnistDir } from '../../src/data';
import { expectUserError, makeTmp, removeTmp, runCli } from './helpers';

let root: string;
beforeAll(() => {
  root = makeTmp('faults-sizes');
});
afterAll(() => removeTmp(root));

/** A spec of the hardware-efficient ansatz with `m` memory qubits, every angle 0.3. */
function heSpec(m: number, extra: Record<string, unknown> = {}): string {
  const params: Record<string, number> = {};
  if (m < 30) for (const n of hardwareEfficientCircuit(1, m, 1).paramNames) params[n] = 0.3;
  const file = path.join(root, `he${m}-${Object.keys(extra).join('-') || 'pure'}.json`);
  fs.writeFileSync(file, JSON.stringify({ ioQubits: 1, memoryQubits: m, ansatz: { type: 'hardware-efficient', layers: 1 }, params, currents: [[0.5], [0.2]], ...extra }));
  return file;
}

const LIMIT = /more than the 4\.00 GiB limit of the wasm backend/;

describe('neuron specs', () => {
  test('"memoryQubits": 1e300 is refused before a gate list is built', async () => {
    expectUserError(await runCli(['neuron-trace', '--spec', heSpec(1e300), '--backend', 'wasm']), 'neuron-trace', /1e\+300 qubits is too large/, /at most 24/);
  });

  test.each([21, 23])('1 + %i qubits in statevector mode: refused with the estimate and the wasm limit', async (m) => {
    expectUserError(await runCli(['neuron-trace', '--spec', heSpec(m), '--backend', 'wasm']), 'neuron-trace', new RegExp(`${m + 1} qubits in statevector mode`), /needs about [\d.]+ GiB/, LIMIT);
  });

  test('density (noise) mode, 10 qubits: refused (each register is 4^10 amplitudes)', async () => {
    const spec = heSpec(9, { noise: { depolarizing: 0.01 } });
    expectUserError(await runCli(['neuron-trace', '--spec', spec, '--backend', 'wasm']), 'neuron-trace', /10 qubits in density mode/, LIMIT);
    const shots = path.join(root, 'shots.json');
    fs.writeFileSync(shots, JSON.stringify({ counts: { '00': 3, '01': 1 } }));
    expectUserError(await runCli(['likelihood', '--spec', spec, '--shots', shots, '--backend', 'wasm']), 'likelihood', /10 qubits in density mode/, LIMIT);
  });

  test('a register that fits still runs', async () => {
    const r = await runCli(['neuron-trace', '--spec', heSpec(3, { noise: { depolarizing: 0.01 } }), '--backend', 'wasm']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).spikeProb).toHaveLength(2);
  });
});

describe('training', () => {
  const train = (args: string[]) => {
    const out = path.join(root, `out-${Math.random().toString(36).slice(2)}`);
    return runCli(['train', '--dataset', 'mnist', ...args, '--backend', 'wasm', '--quiet', '--out', out]).then((r) => ({ r, out }));
  };

  test.each([
    [['--memory-qubits', '14', '--hidden', '64', '--batch', '64'], /hidden 64, batch 64, T 5, rule bptt, 15 qubits per neuron needs about/],
    [['--hidden', '1000000000'], /hidden 1000000000,.* needs about .*parameters [\d.]+ TiB/],
    [['--T', '1000000'], /T 1000000,.* backprop tape holds 1000000 steps/],
    [['--memory-qubits', '1e300'], /too large for memory/],
  ])('%j is refused before the network is built, and --out is not created', async (args, msg) => {
    const { r, out } = await train(args as string[]);
    expectUserError(r, 'train', msg as RegExp);
    if (!String(args).includes('1e300')) expect(r.stderr).toMatch(LIMIT);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('--batch 1000000000 is the whole training set at once, and that is refused', async () => {
    let dataset = 'mnist';
    try {
      findFashionMnistDir();
      dataset = 'fashion-mnist';
    } catch {
      process.stderr.write('faults: Fashion-MNIST is not installed; --batch 1e9 is tried on the bundled MNIST\n');
    }
    const out = path.join(root, 'batch');
    const r = await runCli(['train', '--dataset', dataset, '--batch', '1000000000', '--backend', 'wasm', '--quiet', '--out', out]);
    expectUserError(r, 'train', /batch \d+, T 5/, LIMIT);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('the same shapes pass under a machine-sized limit on another backend (the limit is the backend\'s)', async () => {
    const { assertTrainingFits } = await import('../../src/limits');
    const cfg = { network: { inputs: 784, layers: [{ neuron: 'sqs', size: 64, memoryQubits: 3, ansatz: { type: 'hardware-efficient', layers: 1 } }, { neuron: 'sqs', size: 10 }] }, steps: 5, batch: 64, rule: 'bptt', encoding: { kind: 'rate' as const, pMax: 0.5 } };
    const data = { height: 28, width: 28, nTrain: 60000 };
    const { restoreMemoryBudget, setMemoryBudget } = await import('../../kernels/memory');
    const prev = setMemoryBudget(64);
    try {
      expect(() => assertTrainingFits(cfg, data, 'cpu')).toThrow(/more than the 64\.0 MiB limit of cpu backend: setMemoryBudget/);
      setMemoryBudget(64 * 1024);
      expect(assertTrainingFits(cfg, data, 'cpu').total).toBeGreaterThan(64 * 2 ** 20);
      // wasm stays at 4 GiB whatever the machine offers.
      expect(() => assertTrainingFits({ ...cfg, batch: 4096 }, data, 'wasm')).toThrow(LIMIT);
    } finally {
      restoreMemoryBudget(prev);
    }
  });
});

test('the local rule counts what it keeps of all T steps and the flip signal\'s re-run of the outputs', async () => {
  const { trainingMemory } = await import('../../src/limits');
  const network = { inputs: 784, layers: [{ neuron: 'sqs', size: 1000 }, { neuron: 'sqs', size: 10 }] };
  const base = { network, batch: 64, rule: 'local', encoding: { kind: 'rate' as const, pMax: 0.5 } };
  const data = { height: 28, width: 28, nTrain: 60000 };
  const t5 = trainingMemory({ ...base, steps: 5 }, data);
  const t10 = trainingMemory({ ...base, steps: 10 }, data);
  // Kept per step: 1000 neurons × 64 samples × (2 angles × 2 + 4 × 1 IO qubit) float32 = 2 MiB, plus the paper output's 10 neurons.
  expect(t10.localKept - t5.localKept).toBeGreaterThanOrEqual(5 * 1000 * 64 * 4 * 8);
  const flip = trainingMemory({ ...base, steps: 5, ruleConfig: { local: { hiddenSignal: 'flip' } } }, data);
  // The outputs re-run on 1000 × 64 columns: 10 neurons × 64,000 columns × D = 4 × 8 float32 arrays.
  expect(flip.localKept - t5.localKept).toBe(10 * 64000 * 4 * 8 * 4);
  // Calibrated against the real heap (~0.35 GiB at batch 64): batch 256 fits wasm's 4 GiB.
  expect(trainingMemory({ ...base, batch: 256, steps: 5, ruleConfig: { local: { hiddenSignal: 'flip' } } }, data).total).toBeLessThan(4 * 2 ** 30);
  expect(trainingMemory({ ...base, steps: 5, rule: 'bptt' }, data).localKept).toBe(0);
});

test('neuron-grad: every parameter-shifted circuit of a step is counted (1 + 15 qubits × 126 shifted copies)', async () => {
  const params: Record<string, number> = {};
  for (const n of hardwareEfficientCircuit(1, 15, 1).paramNames) params[n] = 0.3;
  const file = path.join(root, 'grad16.json');
  fs.writeFileSync(file, JSON.stringify({ ioQubits: 1, memoryQubits: 15, ansatz: { type: 'hardware-efficient', layers: 1 }, params, currents: [[0.5], [0.2]], outcomes: [[0], [1]] }));
  expectUserError(await runCli(['neuron-grad', '--spec', file, '--backend', 'wasm']), 'neuron-grad', /1 sample\(s\) × \d+ shifted circuits needs about/, LIMIT);
});
