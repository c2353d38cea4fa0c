/**
 * `sqsnn bench neuron --scan --density`: step time of the density-matrix mode (kernels/density.ts,
 * gate by gate on ρ [R, D, D, B], the mode of exact likelihoods and noise) as the memory grows,
 * and the largest register one neuron can step within a time limit. The statevector scan is in
 * ./neuron.ts; this is its density counterpart, same circuits (the paper neuron at N_M = 1, a
 * one-layer hardware-efficient ansatz beyond).
 */
import * as os from 'os';
import { Circuit, hardwareEfficientCircuit, occurrenceAngles, paperCircuit, CircuitError } from '../kernels/circuit';
import { Complex, cdispose } from '../kernels/complex';
import { densityFromPure, densityStep } from '../kernels/density';
import { MemoryBudgetError, assertStepFits } from '../kernels/memory';
import { initialMemory } from '../kernels/statevector';
import { tf, Tensor } from '../kernels/tf';
import { initBackend } from '../src/backend';
import type { ScanOptions } from './neuron';

export interface DensityScanRow {
  memoryQubits: number;
  dim: number;
  neurons: number;
  batch: number;
  msPerStep: number;
  neuronStepsPerSecond: number;
}

export interface DensityLargest {
  /** Largest N_M (N = 1) whose step ran within the limits (0: none), and its step time. */
  memoryQubits: number;
  totalQubits: number;
  seconds: number;
  tried: { memoryQubits: number; seconds?: number; stopped?: string }[];
  stoppedBecause: string;
}

export interface DensityScanResult {
  backend: string;
  mode: 'density';
  loadAverage: number;
  cores: number;
  T: number;
  rows: DensityScanRow[];
  largest?: DensityLargest;
}

/** The statevector scan's options (its largest-register batch aside: the density search uses 1). */
export interface DensityScanOptions extends Omit<ScanOptions, 'largestBatch' | 'onRow' | 'onLargest'> {
  onRow?: (row: DensityScanRow) => void;
  onLargest?: ScanOptions['onLargest'];
}

function scanCircuit(memoryQubits: number): Circuit {
  return memoryQubits === 1 ? paperCircuit() : hardwareEfficientCircuit(1, memoryQubits, 1);
}

function fits(circuit: Circuit, rows: number): boolean {
  try {
    assertStepFits('one density-mode step', { qubits: circuit.totalQubits, gates: circuit.ops.length }, rows, 'density');
    return true;
  } catch (e) {
    if (e instanceof MemoryBudgetError) return false;
    throw e;
  }
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Milliseconds of each of `runs` runs of T sampled density steps of `neurons` × `batch`. */
async function timeSteps(circuit: Circuit, neurons: number, batch: number, T: number, runs: number, seed: number): Promise<number[]> {
  const theta = tf.randomUniform([neurons, circuit.paramNames.length], -Math.PI, Math.PI, 'float32', seed);
  const angles = tf.tidy(() => occurrenceAngles(circuit, theta));
  const phis = Array.from({ length: T }, (_, t) => tf.randomUniform([neurons, 1, batch], 0, Math.PI, 'float32', seed + 1 + t));
  const us = Array.from({ length: T }, (_, t) => tf.randomUniform([neurons, batch], 0, 1, 'float32', seed + 100 + t));
  const out: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const pure = initialMemory(neurons, circuit.memoryQubits, batch);
      let rho: Complex = tf.tidy(() => densityFromPure(pure) as never) as unknown as Complex;
      cdispose(pure);
      const t0 = performance.now();
      let last: Tensor | null = null;
      for (let t = 0; t < T; t++) {
        const prev = rho;
        const step = tf.tidy(() => {
          const o = densityStep({ circuit, angles, rhoMem: prev, phi: phis[t], uniforms: us[t] });
          return { re: o.rhoMem.re, im: o.rhoMem.im, prob: o.prob } as never;
        }) as unknown as { re: Tensor; im: Tensor; prob: Tensor };
        cdispose(prev);
        last?.dispose();
        rho = { re: step.re, im: step.im };
        last = step.prob;
      }
      await (last as Tensor).data(); // wait for the device before stopping the clock
      out.push(performance.now() - t0);
      last?.dispose();
      cdispose(rho);
    }
  } finally {
    tf.dispose([theta, angles, ...phis, ...us]);
  }
  return out;
}

/** Largest density register one neuron (batch 1) steps within `maxSeconds`, or until memory refuses. */
export async function largestDensityRegister(o: { maxSeconds?: number; maxMemoryQubits?: number; onTry?: ScanOptions['onLargest'] } = {}): Promise<DensityLargest> {
  const maxSeconds = o.maxSeconds ?? 5;
  const tried: DensityLargest['tried'] = [];
  let best = { memoryQubits: 0, seconds: 0 };
  let stoppedBecause = `reached N_M = ${o.maxMemoryQubits ?? 23}`;
  for (let m = 1; m <= (o.maxMemoryQubits ?? 23); m++) {
    let entry: DensityLargest['tried'][number];
    try {
      const seconds = (await timeSteps(scanCircuit(m), 1, 1, 1, 1, 11))[0] / 1000;
      entry = { memoryQubits: m, seconds };
    } catch (e) {
      if (!(e instanceof MemoryBudgetError || e instanceof CircuitError)) throw e;
      entry = { memoryQubits: m, stopped: (e as Error).message };
    }
    tried.push(entry);
    o.onTry?.(entry);
    if (entry.stopped !== undefined) {
      stoppedBecause = `N_M = ${m}: ${entry.stopped}`;
      break;
    }
    if ((entry.seconds as number) > maxSeconds) {
      stoppedBecause = `N_M = ${m} took ${(entry.seconds as number).toFixed(2)} s > ${maxSeconds} s`;
      break;
    }
    best = { memoryQubits: m, seconds: entry.seconds as number };
  }
  return { memoryQubits: best.memoryQubits, totalQubits: best.memoryQubits + 1, seconds: best.seconds, tried, stoppedBecause };
}

export async function runDensityScan(opts: DensityScanOptions = {}): Promise<DensityScanResult> {
  const rep = await initBackend(opts.backend);
  const loadAverage = os.loadavg()[0];
  const batch0 = opts.batch ?? 256;
  const T = opts.T ?? 5;
  const reps = opts.reps ?? 3;
  const rows: DensityScanRow[] = [];
  const cap = 2 ** 19; // density entries per state tensor (re or im)
  for (let m = 1; m <= (opts.maxMemoryQubits ?? 6); m++) {
    const circuit = scanCircuit(m);
    const d2 = circuit.dim * circuit.dim;
    let neurons = Math.max(1, Math.min(opts.neurons ?? 1000, Math.floor(cap / (batch0 * d2))));
    let batch = Math.max(1, Math.min(batch0, Math.floor(cap / (neurons * d2))));
    // Halve the rows until a step fits the memory budget (its temporaries are many ρ-sized tensors).
    while (!fits(circuit, neurons * batch) && neurons * batch > 1) {
      if (neurons > 1) neurons = Math.ceil(neurons / 2);
      else batch = Math.ceil(batch / 2);
    }
    await timeSteps(circuit, neurons, batch, T, 1, 7); // warm-up
    const ms = median(await timeSteps(circuit, neurons, batch, T, reps, 7)) / T;
    const row: DensityScanRow = { memoryQubits: m, dim: circuit.dim, neurons, batch, msPerStep: ms, neuronStepsPerSecond: (1000 * neurons * batch) / ms };
    rows.push(row);
    opts.onRow?.(row);
  }
  const result: DensityScanResult = { backend: rep.backend, mode: 'density', loadAverage, cores: os.cpus().length, T, rows };
  if (opts.largest !== false) result.largest = await largestDensityRegister({ maxSeconds: opts.maxSeconds, onTry: opts.onLargest });
  return result;
}
