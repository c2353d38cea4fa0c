/**
 * Throughput of one SQS neuron step (encode, evolve, probabilities, single-shot sample including the
 * random draws, collapse): neuron-steps per second = neurons × samples × steps / wall time.
 *
 * Wall-clock figures depend on the machine and on whatever else runs on it, so every result also
 * carries the composed path measured in the same process (the baseline) and the ratio to it.
 */
import * as os from 'os';
import { Circuit, hardwareEfficientCircuit, occurrenceAngles, paperCircuit, CircuitError, MAX_TOTAL_QUBITS } from '../kernels/circuit';
import { Complex, cdispose } from '../kernels/complex';
import { applyOps, circuitUnitary, opMatrices, preferDense } from '../kernels/evolve';
import { fusedSupported, simdStepSupported, sqsStepOp, sqsStepOptions, sqsStepThreadInfo, withSqsStepOptions } from '../kernels/sqs-step';
import { assertStepFits, MemoryBudgetError } from '../kernels/memory';
import { collapseMemory, initialMemory, inputState, ioAmplitudes, outcomeProbabilities, sampleOneHot, sqsStep } from '../kernels/statevector';
import { tf, Tensor } from '../kernels/tf';
import { initBackend } from '../src/backend';
import { ConfigError } from '../src/errors';

export type BenchMode = 'fused' | 'composed' | 'auto';
/** How encoding angles are drawn: half zero and half continuous ('mixed'), 0/π·w spikes, or all continuous. */
export type BenchInputs = 'mixed' | 'spikes' | 'continuous';

export interface NeuronBenchOptions {
  batch?: number;
  neurons?: number;
  T?: number;
  memoryQubits?: number;
  ioQubits?: number;
  backend?: string;
  mode?: BenchMode;
  /** Timed runs of T steps (median reported) and untimed warm-up runs. */
  reps?: number;
  warmup?: number;
  inputs?: BenchInputs;
  /** Fused path: uniforms drawn in the kernel from a seed ('seed'), or passed as a tf.randomUniform tensor. */
  uniforms?: 'seed' | 'tensor';
  /** Also time the composed path in this process (default: yes unless the mode is composed). */
  baseline?: boolean;
  /** Stop timing the baseline after this many seconds (at least one timed run). */
  baselineBudgetSeconds?: number;
  /** Also time the fused path with the general loop only (no unrolled N = 1 loops), in this process. */
  generic?: boolean;
  /** Also time the fused path with the scalar JS loop (no WebAssembly SIMD kernel), in this process. */
  scalar?: boolean;
  seed?: number;
}

export interface PathTiming {
  path: 'fused' | 'composed-dense' | 'composed-gates';
  neuronStepsPerSecond: number;
  msPerStep: number;
  /** Wall time of each timed run of T steps, ms. */
  runsMs: number[];
}

export interface NeuronBenchResult extends PathTiming {
  backend: string;
  mode: BenchMode;
  batch: number;
  neurons: number;
  T: number;
  ioQubits: number;
  memoryQubits: number;
  dim: number;
  circuit: string;
  inputs: BenchInputs;
  uniforms: 'seed' | 'tensor';
  /** Threads the fused kernel used on its last call (1 when not fused). */
  threads: number;
  /** One per-row unitary build [R, D, D], ms (done once per forward pass, not per step; not in the step time). */
  unitaryMs: number;
  /** Cost of one seeded tf.randomUniform([neurons, batch]) on this backend, ms. */
  randomUniformMs: number;
  baseline?: PathTiming;
  /** The fused path with the general loop only (`generic`), and fused / generic throughput. */
  generic?: PathTiming;
  specialisedGain?: number;
  /** Whether the fused path ran the WebAssembly SIMD kernel (paper neuron, option on, runtime has SIMD). */
  simd: boolean;
  /** The fused path with the scalar JS loop (`scalar`), and fused / scalar throughput. */
  scalar?: PathTiming;
  simdGain?: number;
  /** Cores, and the 1-minute load average when the run started: other processes share these cores. */
  cores: number;
  loadAverage: number;
  /** neuronStepsPerSecond / baseline.neuronStepsPerSecond. */
  speedup?: number;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

function benchCircuit(ioQubits: number, memoryQubits: number): { circuit: Circuit; name: string } {
  if (ioQubits === 1 && memoryQubits === 1) return { circuit: paperCircuit(), name: 'paper (CRX, RX, RX)' };
  return { circuit: hardwareEfficientCircuit(ioQubits, memoryQubits, 1), name: 'hardware-efficient, 1 layer' };
}

/** Encoding angles φ [R, N, B] for step t. */
function makePhi(kind: BenchInputs, shape: number[], seed: number): Tensor {
  return tf.tidy(() => {
    if (kind === 'spikes') {
      // Spike inputs through a fixed weight per neuron: φ ∈ {0, π·w}.
      const spikes = tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.3), 'float32');
      const w = tf.randomUniform([shape[0], shape[1], 1], 0.1, 1.5, 'float32', seed + 1);
      return tf.mul(tf.mul(spikes, w), Math.PI);
    }
    const z = tf.randomNormal(shape, kind === 'continuous' ? 2 : 0, 1, 'float32', seed);
    return tf.mul(tf.relu(kind === 'continuous' ? tf.abs(z) : z), Math.PI);
  });
}

interface Setup {
  circuit: Circuit;
  angles: Tensor;
  unitary: Complex | null;
  phis: Tensor[];
  unitaryMs: number;
}

function setup(o: Required<Pick<NeuronBenchOptions, 'batch' | 'neurons' | 'T' | 'ioQubits' | 'memoryQubits' | 'inputs' | 'seed'>>, needUnitary: boolean): Setup {
  const { circuit } = benchCircuit(o.ioQubits, o.memoryQubits);
  const theta = tf.randomUniform([o.neurons, circuit.paramNames.length], -Math.PI, Math.PI, 'float32', o.seed);
  const angles = tf.tidy(() => occurrenceAngles(circuit, theta));
  theta.dispose();
  let unitary: Complex | null = null;
  let unitaryMs = NaN;
  if (needUnitary) {
    // Median of the 2nd–4th builds (the first warms up the kernels).
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      if (unitary) cdispose(unitary);
      const t0 = performance.now();
      unitary = tf.tidy(() => circuitUnitary(circuit, angles) as any) as unknown as Complex;
      (unitary.re as Tensor).dataSync();
      if (i > 0) times.push(performance.now() - t0);
    }
    unitaryMs = median(times);
  }
  const phis = Array.from({ length: o.T }, (_, t) => makePhi(o.inputs, [o.neurons, o.ioQubits, o.batch], o.seed + 100 + 7 * t));
  return { circuit, angles, unitary, phis, unitaryMs };
}

function disposeSetup(s: Setup): void {
  s.angles.dispose();
  if (s.unitary) cdispose(s.unitary);
  tf.dispose(s.phis);
}

/** One forward run of T steps from |0⟩ memory; returns wall time in ms (synchronised at the end). */
async function timeRun(s: Setup, path: PathTiming['path'], uniforms: 'seed' | 'tensor', batch: number, seed: number): Promise<number> {
  const rows = s.angles.shape[0] as number;
  let mem = initialMemory(rows, s.circuit.memoryQubits, batch);
  let last: Tensor | null = null;
  const t0 = performance.now();
  for (let t = 0; t < s.phis.length; t++) {
    const stepSeed = seed * 1009 + t;
    let out: { probs: Tensor; oneHot: Tensor; mem: Complex; prob: Tensor };
    if (path === 'fused') {
      if (uniforms === 'seed') out = sqsStepOp({ unitary: s.unitary as Complex, mem, phi: s.phis[t], seed: stepSeed });
      else {
        const u = tf.randomUniform([rows, batch], 0, 1, 'float32', stepSeed);
        out = sqsStepOp({ unitary: s.unitary as Complex, mem, phi: s.phis[t], uniforms: u });
        u.dispose();
      }
    } else {
      const m = mem;
      out = tf.tidy(() => {
        const u = tf.randomUniform([rows, batch], 0, 1, 'float32', stepSeed);
        const o = sqsStep(
          path === 'composed-dense'
            ? { circuit: s.circuit, unitary: s.unitary as Complex, mem: m, phi: s.phis[t], uniforms: u }
            : { circuit: s.circuit, angles: s.angles, mem: m, phi: s.phis[t], uniforms: u },
        );
        return { probs: o.probs, oneHot: o.oneHot, mem: o.mem, prob: o.prob } as any;
      }) as any;
    }
    tf.dispose([out.probs, out.oneHot]);
    if (last) last.dispose();
    last = out.prob;
    cdispose(mem);
    mem = out.mem;
  }
  if (last) await last.data();
  const ms = performance.now() - t0;
  if (last) last.dispose();
  cdispose(mem);
  return ms;
}

async function timePath(
  s: Setup,
  path: PathTiming['path'],
  o: { reps: number; warmup: number; uniforms: 'seed' | 'tensor'; batch: number; seed: number; budgetSeconds?: number },
): Promise<PathTiming> {
  const rows = s.angles.shape[0] as number;
  for (let i = 0; i < o.warmup; i++) await timeRun(s, path, o.uniforms, o.batch, o.seed + 1000 + i);
  const runsMs: number[] = [];
  let spent = 0;
  for (let i = 0; i < o.reps; i++) {
    const ms = await timeRun(s, path, o.uniforms, o.batch, o.seed + i);
    runsMs.push(ms);
    spent += ms;
    if (o.budgetSeconds !== undefined && spent > o.budgetSeconds * 1000) break;
  }
  const msPerRun = median(runsMs);
  const steps = s.phis.length;
  return { path, neuronStepsPerSecond: (rows * o.batch * steps) / (msPerRun / 1000), msPerStep: msPerRun / steps, runsMs };
}

function composedPath(circuit: Circuit, rows: number): 'composed-dense' | 'composed-gates' {
  return preferDense(circuit, rows) ? 'composed-dense' : 'composed-gates';
}

/** Median cost of a seeded tf.randomUniform of this shape, ms. */
async function randomUniformCost(shape: number[], reps = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    const u = tf.randomUniform(shape, 0, 1, 'float32', 1234 + i);
    await u.data();
    const ms = performance.now() - t0;
    u.dispose();
    if (i >= 2) times.push(ms);
  }
  return median(times);
}

export async function runNeuronBench(opts: NeuronBenchOptions = {}): Promise<NeuronBenchResult> {
  const o = {
    batch: opts.batch ?? 256,
    neurons: opts.neurons ?? 1000,
    T: opts.T ?? 5,
    memoryQubits: opts.memoryQubits ?? 1,
    ioQubits: opts.ioQubits ?? 1,
    mode: opts.mode ?? 'auto',
    reps: opts.reps ?? 7,
    warmup: opts.warmup ?? 2,
    inputs: opts.inputs ?? 'mixed',
    uniforms: opts.uniforms ?? 'seed',
    seed: opts.seed ?? 1,
  };
  const rep = await initBackend(opts.backend);
  const backend = rep.backend;
  const loadAverage = os.loadavg()[0];
  const { circuit, name } = benchCircuit(o.ioQubits, o.memoryQubits);
  const canFuse = fusedSupported(circuit, backend);
  if (o.mode === 'fused' && !canFuse)
    throw new ConfigError(`the fused kernel does not run D = ${circuit.dim} on backend ${backend} (it takes D ≤ 64 on cpu/wasm): use --mode composed or auto`);
  const main: PathTiming['path'] = o.mode === 'composed' || (o.mode === 'auto' && !canFuse) ? composedPath(circuit, o.neurons) : 'fused';
  const baselinePath = composedPath(circuit, o.neurons);
  const wantBaseline = (opts.baseline ?? true) && main === 'fused';
  assertStepFits('bench', { qubits: circuit.totalQubits, gates: circuit.ops.length }, o.neurons * o.batch, 'statevector');
  const s = setup(o, main !== 'composed-gates' || (wantBaseline && baselinePath === 'composed-dense'));
  try {
    const timing = await timePath(s, main, o);
    const threads = main === 'fused' ? sqsStepThreadInfo().lastThreadsUsed : 1;
    let baseline: PathTiming | undefined;
    if (wantBaseline)
      baseline = await timePath(s, baselinePath, { ...o, reps: o.reps, warmup: 1, budgetSeconds: opts.baselineBudgetSeconds ?? 20 });
    let generic: PathTiming | undefined;
    if (opts.generic && main === 'fused') generic = await withSqsStepOptions({ specialise: false }, () => timePath(s, 'fused', o));
    const simd = main === 'fused' && o.ioQubits === 1 && o.memoryQubits === 1 && o.batch >= 4 && sqsStepOptions().simd && sqsStepOptions().specialise && simdStepSupported();
    let scalar: PathTiming | undefined;
    if (opts.scalar && main === 'fused') scalar = await withSqsStepOptions({ simd: false }, () => timePath(s, 'fused', o));
    const randomUniformMs = await randomUniformCost([o.neurons, o.batch]);
    return {
      ...timing,
      backend,
      mode: o.mode,
      batch: o.batch,
      neurons: o.neurons,
      T: o.T,
      ioQubits: o.ioQubits,
      memoryQubits: o.memoryQubits,
      dim: circuit.dim,
      circuit: name,
      inputs: o.inputs,
      uniforms: main === 'fused' ? o.uniforms : 'tensor',
      threads,
      unitaryMs: s.unitaryMs,
      randomUniformMs,
      cores: os.cpus().length,
      loadAverage,
      ...(baseline ? { baseline, speedup: timing.neuronStepsPerSecond / baseline.neuronStepsPerSecond } : {}),
      ...(generic ? { generic, specialisedGain: timing.neuronStepsPerSecond / generic.neuronStepsPerSecond } : {}),
      simd,
      ...(scalar ? { scalar, simdGain: timing.neuronStepsPerSecond / scalar.neuronStepsPerSecond } : {}),
    };
  } finally {
    disposeSetup(s);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Scan over the memory size, and the largest register one neuron can run                          */
/* ------------------------------------------------------------------------------------------------ */

export interface ScanRow {
  memoryQubits: number;
  dim: number;
  neurons: number;
  batch: number;
  composed: PathTiming;
  fused?: PathTiming;
  /** fused / composed throughput. */
  speedup?: number;
}

export interface LargestRegister {
  /** Largest N_M (N = 1) that ran one step within the limits, and its step time. */
  memoryQubits: number;
  totalQubits: number;
  seconds: number;
  /** Every size tried: step seconds, or why it stopped. */
  tried: { memoryQubits: number; seconds?: number; stopped?: string }[];
  stoppedBecause: string;
}

export interface ScanResult {
  backend: string;
  /** 1-minute load average when the scan started, and cores. */
  loadAverage: number;
  cores: number;
  batch: number;
  T: number;
  rows: ScanRow[];
  largest?: LargestRegister;
}

export interface ScanOptions {
  backend?: string;
  batch?: number;
  T?: number;
  /** Scan N_M = 1..maxMemoryQubits (N = 1). */
  maxMemoryQubits?: number;
  /** Neurons at N_M = 1; fewer as D grows (about 2^22 amplitudes per state, at least 1). */
  neurons?: number;
  reps?: number;
  /** Largest-register search: stop when one step takes longer than this (seconds). */
  maxSeconds?: number;
  largest?: boolean;
  largestBatch?: number;
  onRow?: (row: ScanRow) => void;
  onLargest?: (t: { memoryQubits: number; seconds?: number; stopped?: string }) => void;
}

export async function runMemoryScan(opts: ScanOptions = {}): Promise<ScanResult> {
  const rep = await initBackend(opts.backend);
  const loadAverage = os.loadavg()[0];
  const batch0 = opts.batch ?? 256;
  const T = opts.T ?? 5;
  const maxM = opts.maxMemoryQubits ?? 10;
  const reps = opts.reps ?? 3;
  const rows: ScanRow[] = [];
  for (let m = 1; m <= maxM; m++) {
    const dim = 2 ** (m + 1);
    const { circuit } = benchCircuit(1, m);
    // Neurons: up to ~2^22 amplitudes per state on the dense/fused paths; gate by gate, ~2^17 (its
    // controlled gates slice rank-6 views, which tfjs does element by element on cpu and wasm).
    const dense = preferDense(circuit, Math.max(1, Math.floor(2 ** 22 / (batch0 * dim))));
    const cap = dense ? 2 ** 22 : 2 ** 17;
    const neurons = Math.max(1, Math.min(opts.neurons ?? 1000, Math.floor(cap / (batch0 * dim))));
    const batch = Math.max(1, Math.min(batch0, Math.floor(cap / (neurons * dim))));
    const cpath = composedPath(circuit, neurons);
    const canFuse = fusedSupported(circuit, rep.backend);
    const base = { batch, neurons, T, ioQubits: 1, memoryQubits: m, inputs: 'mixed' as BenchInputs, seed: 7 };
    const s = setup(base, cpath === 'composed-dense' || canFuse);
    try {
      const composed = await timePath(s, cpath, { reps, warmup: cpath === 'composed-dense' ? 1 : 0, uniforms: 'tensor', batch, seed: 7, budgetSeconds: 10 });
      const fused = canFuse ? await timePath(s, 'fused', { reps, warmup: 1, uniforms: 'seed', batch, seed: 7 }) : undefined;
      const row: ScanRow = {
        memoryQubits: m,
        dim,
        neurons,
        batch,
        composed,
        ...(fused ? { fused, speedup: fused.neuronStepsPerSecond / composed.neuronStepsPerSecond } : {}),
      };
      rows.push(row);
      opts.onRow?.(row);
    } finally {
      disposeSetup(s);
    }
  }
  const result: ScanResult = { backend: rep.backend, loadAverage, cores: os.cpus().length, batch: batch0, T, rows };
  if (opts.largest !== false) result.largest = await largestRegister({ maxSeconds: opts.maxSeconds ?? 5, batch: opts.largestBatch ?? 1, onTry: opts.onLargest });
  return result;
}

/**
 * One step of one neuron (N = 1) gate by gate, each gate in its own tidy scope so that only the state
 * and one gate's temporaries are alive: the composed ops, arranged for the largest registers.
 */
async function bigStepSeconds(memoryQubits: number, batch: number): Promise<number> {
  const circuit = hardwareEfficientCircuit(1, memoryQubits, 1);
  assertStepFits(`one neuron with ${circuit.totalQubits} qubits`, { qubits: circuit.totalQubits, gates: circuit.ops.length }, batch, 'statevector');
  const theta = tf.randomUniform([1, circuit.paramNames.length], -Math.PI, Math.PI, 'float32', 3);
  const angles = tf.tidy(() => occurrenceAngles(circuit, theta));
  const mats = tf.tidy(() => opMatrices(circuit, angles) as any) as unknown as ReturnType<typeof opMatrices>;
  const mem = initialMemory(1, memoryQubits, batch);
  const phi = tf.fill([1, 1, batch], 1.3);
  const u = tf.randomUniform([1, batch], 0, 1, 'float32', 5);
  try {
    const t0 = performance.now();
    let state: Complex = tf.tidy(() => inputState(ioAmplitudes(phi), mem) as any) as unknown as Complex;
    for (let i = 0; i < circuit.ops.length; i++) {
      const prev = state;
      state = tf.tidy(() => applyOps(circuit, mats, prev, i, i) as any) as unknown as Complex;
      cdispose(prev);
    }
    const out = tf.tidy(() => {
      const probs = outcomeProbabilities(state, 1);
      const oneHot = sampleOneHot(probs, u);
      const c = collapseMemory(state, oneHot, 1);
      return { re: c.mem.re, im: c.mem.im, prob: c.prob } as any;
    }) as unknown as { re: Tensor; im: Tensor; prob: Tensor };
    await out.prob.data();
    const seconds = (performance.now() - t0) / 1000;
    cdispose(state);
    tf.dispose([out.re, out.im, out.prob]);
    return seconds;
  } finally {
    tf.dispose([theta, angles, phi, u, mem.re, mem.im]);
    for (const m of mats) for (const e of m) for (const p of [e.re, e.im]) if (typeof p !== 'number' && !p.isDisposed) p.dispose();
  }
}

export async function largestRegister(o: {
  maxSeconds?: number;
  batch?: number;
  startMemoryQubits?: number;
  onTry?: (t: { memoryQubits: number; seconds?: number; stopped?: string }) => void;
}): Promise<LargestRegister> {
  const maxSeconds = o.maxSeconds ?? 5;
  const batch = o.batch ?? 1;
  const tried: LargestRegister['tried'] = [];
  let best = { memoryQubits: 0, seconds: 0 };
  let stoppedBecause = `reached the ${MAX_TOTAL_QUBITS}-qubit limit of the engine`;
  for (let m = o.startMemoryQubits ?? 1; m + 1 <= MAX_TOTAL_QUBITS + 1; m++) {
    let seconds: number;
    try {
      seconds = await bigStepSeconds(m, batch);
      // Small registers: time again after the warm-up of the first call.
      if (seconds < 0.5) seconds = await bigStepSeconds(m, batch);
    } catch (e) {
      const why =
        e instanceof MemoryBudgetError || e instanceof CircuitError
          ? e.message
          : `failed: ${(e as Error).message.split('\n')[0]}`;
      tried.push({ memoryQubits: m, stopped: why });
      o.onTry?.(tried[tried.length - 1]);
      stoppedBecause = why;
      break;
    }
    tried.push({ memoryQubits: m, seconds });
    o.onTry?.(tried[tried.length - 1]);
    if (seconds > maxSeconds) {
      stoppedBecause = `one step with N_M = ${m} took ${seconds.toFixed(1)} s > ${maxSeconds} s`;
      break;
    }
    best = { memoryQubits: m, seconds };
  }
  return { memoryQubits: best.memoryQubits, totalQubits: best.memoryQubits + 1, seconds: best.seconds, tried, stoppedBecause };
}
