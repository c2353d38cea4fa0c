/**
 * The SQS-step op under a gradient tape (kernels/sqs-step: fused forward + backward kernels) against
 * the composed `sqsStep` and its tfjs autodiff: forward outputs, gradients of a random linear
 * functional of all outputs w.r.t. U, the memory and φ (sampled and forced, M = 1, 2, 3), a T = 3
 * chain with the memory fed forward, and `bpttGradients` of small networks with the fused backward on
 * and off (option `fusedGrad`) — on the `cpu` and `wasm` backends. No timing assertions.
 */
import seedrandom from 'seedrandom';
import { Circuit, CircuitSpec, GateOp, compileCircuit, occurrenceAngles, paperCircuit } from '../kernels/circuit';
import { Complex } from '../kernels/complex';
import { circuitUnitary } from '../kernels/evolve';
import {
  SQS_STEP_KERNELS,
  SqsStepOutput,
  fusedGradSupported,
  shutdownSqsStepThreads,
  seededUniforms,
  sqsStepOp,
  sqsStepPath,
  sqsStepThreadInfo,
  withSqsStepOptions,
} from '../kernels/sqs-step';
import { GATES, GateName } from '../kernels/gates';
import { sqsStep } from '../kernels/statevector';
import { bpttGradients } from '../src/learn/bptt';
import { Network, NetworkConfig } from '../src/network';
import { Rng } from '../src/random';
import { maxAbsDiff, setupBackend, tf } from './helpers';

type Tensor = tf.Tensor;

let initialBackend = '';
beforeAll(async () => {
  initialBackend = await setupBackend();
});
afterAll(async () => {
  await setupBackend(initialBackend);
  await shutdownSqsStepThreads();
});

/** Runs f with the fused backward on or off (off: the composed ops under a tape). */
function withFused<R>(on: boolean, f: () => R): R {
  return withSqsStepOptions({ fusedGrad: on }, f);
}

/** A random circuit over the whole gate registry, with a dense first layer touching every qubit. */
function randomCircuit(m: number, gates: number, rng: seedrandom.PRNG): Circuit {
  if (m === 1 && gates === 0) return paperCircuit();
  const total = 1 + m;
  const names = Object.keys(GATES) as GateName[];
  const layer: GateOp[] = [];
  for (let g = 0; g < gates; g++) {
    const name = names[Math.floor(rng() * names.length)];
    const info = GATES[name];
    const a = Math.floor(rng() * total);
    let b = Math.floor(rng() * (total - 1));
    if (b >= a) b++;
    layer.push({ gate: name, qubits: info.arity === 2 ? [a, b] : [a], ...(info.parametric ? { param: `p${g}` } : {}) });
  }
  const first: GateOp[] = Array.from({ length: total }, (_, q) => ({ gate: 'RY' as GateName, qubits: [q], param: `f${q}` }));
  const spec: CircuitSpec = { ioQubits: 1, memoryQubits: m, layers: [first, layer] };
  return compileCircuit(spec);
}

function randn(shape: number[], rng: seedrandom.PRNG, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * rng()), shape);
}

interface Case {
  circuit: Circuit;
  unitary: Complex;
  mem: Complex;
  phis: Tensor[];
  uniforms: Tensor[];
  forced: Tensor[];
  /** Weights of the linear functional, per step: probs, mem.re, mem.im, prob. */
  w: { probs: Tensor; re: Tensor; im: Tensor; prob: Tensor }[];
}

/** Random unitaries, a random normalised memory, φ with zero columns, uniforms, forced outcomes, weights. */
function makeCase(m: number, rows: number, batch: number, steps: number, seed: number): Case {
  const rng = seedrandom(`fused-grad/${seed}`);
  const circuit = randomCircuit(m, m === 1 && seed % 2 === 0 ? 0 : 3 + 2 * m, rng);
  const dm = 2 ** m;
  return tf.tidy(() => {
    const theta = randn([rows, circuit.paramNames.length], rng, 0, 2 * Math.PI);
    const unitary = circuitUnitary(circuit, occurrenceAngles(circuit, theta));
    const re = randn([rows, dm, batch], rng);
    const im = randn([rows, dm, batch], rng);
    const nrm = tf.sqrt(tf.sum(tf.add(tf.square(re), tf.square(im)), 1, true));
    const mem = { re: tf.div(re, nrm), im: tf.div(im, nrm) };
    const phis: Tensor[] = [];
    const uniforms: Tensor[] = [];
    const forced: Tensor[] = [];
    const w: Case['w'] = [];
    for (let t = 0; t < steps; t++) {
      // Every fourth column φ = 0 (no encoding rotation), the others in (0, 3π).
      const ph = new Float32Array(rows * batch);
      for (let i = 0; i < ph.length; i++) ph[i] = i % 4 === 0 ? 0 : 3 * Math.PI * rng();
      phis.push(tf.tensor3d(ph, [rows, 1, batch]));
      uniforms.push(randn([rows, batch], rng, 0, 1));
      const y = new Float32Array(rows * 2 * batch);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < batch; j++) {
          const bit = rng() < 0.5 ? 1 : 0;
          y[r * 2 * batch + bit * batch + j] = 1;
        }
      forced.push(tf.tensor3d(y, [rows, 2, batch]));
      w.push({ probs: randn([rows, 2, batch], rng), re: randn([rows, dm, batch], rng), im: randn([rows, dm, batch], rng), prob: randn([rows, batch], rng) });
    }
    return { circuit, unitary, mem, phis, uniforms, forced, w } as any;
  }) as unknown as Case;
}

function disposeCase(c: Case): void {
  tf.dispose([c.unitary.re, c.unitary.im, c.mem.re, c.mem.im, ...c.phis, ...c.uniforms, ...c.forced]);
  for (const w of c.w) tf.dispose([w.probs, w.re, w.im, w.prob]);
}

type StepFn = (x: { unitary: Complex; mem: Complex; phi: Tensor; uniforms?: Tensor; forced?: Tensor }) => SqsStepOutput;

const fusedFn = (c: Case): StepFn => (x) => sqsStepOp({ ...x, circuit: c.circuit });
const composedFn = (c: Case): StepFn => (x) => {
  const o = sqsStep({ circuit: c.circuit, ...x });
  return { probs: o.probs, oneHot: o.oneHot, mem: o.mem, prob: o.prob };
};

type Parts = 'all' | 'prob-only' | 'mem-only';

/** Σ_t linear functional of the outputs of a `steps`-step chain from (U, mem0, φ_t). */
function chainLoss(c: Case, step: StepFn, mode: 'sampled' | 'forced', steps: number, parts: Parts) {
  return (uRe: Tensor, uIm: Tensor, memRe: Tensor, memIm: Tensor, ...phis: Tensor[]): Tensor => {
    let mem: Complex = { re: memRe, im: memIm };
    let acc: Tensor = tf.scalar(0);
    for (let t = 0; t < steps; t++) {
      const o = step({ unitary: { re: uRe, im: uIm }, mem, phi: phis[t], ...(mode === 'forced' ? { forced: c.forced[t] } : { uniforms: c.uniforms[t] }) });
      const w = c.w[t];
      const terms: Tensor[] = [];
      if (parts !== 'mem-only') terms.push(tf.sum(tf.mul(w.prob, o.prob)));
      if (parts === 'all') terms.push(tf.sum(tf.mul(w.probs, o.probs)));
      if (parts !== 'prob-only') terms.push(tf.sum(tf.mul(w.re, o.mem.re)), tf.sum(tf.mul(w.im, o.mem.im)));
      acc = tf.add(acc, tf.addN(terms));
      mem = o.mem;
    }
    return acc;
  };
}

function gradients(c: Case, step: StepFn, mode: 'sampled' | 'forced', steps: number, parts: Parts): Float32Array[] {
  return tf.tidy(() => {
    const f = chainLoss(c, step, mode, steps, parts);
    const xs = [c.unitary.re, c.unitary.im, c.mem.re, c.mem.im, ...c.phis.slice(0, steps)];
    return tf.grads(f as any)(xs);
  }).map((g) => {
    const v = g.dataSync() as Float32Array;
    g.dispose();
    return v;
  });
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a − b| ≤ tol·max(1, max |b|). */
function expectRelClose(label: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  const err = maxAbsDiff(a, b);
  const scale = Math.max(1, maxAbs(b));
  if (!(err <= tol * scale)) throw new Error(`${label}: max abs diff ${err.toExponential(3)} > ${tol} × ${scale.toFixed(3)}`);
  expect(Number.isFinite(err)).toBe(true);
}

/** Names of the kernels run by f (a spy on engine.runKernel). */
function kernelsRun(f: () => void): string[] {
  const names: string[] = [];
  const engine = tf.engine() as any;
  const orig = engine.runKernel;
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    names.push(name);
    return orig.call(this, name, ...rest);
  };
  try {
    f();
  } finally {
    engine.runKernel = orig;
  }
  return names;
}

const GRAD_NAMES = ['U.re', 'U.im', 'mem.re', 'mem.im', 'phi0', 'phi1', 'phi2'];

const BACKENDS = ['cpu', 'wasm'];

describe.each(BACKENDS)('fused differentiable SQS step on %s', (backendName) => {
  beforeAll(async () => {
    await setupBackend(backendName);
  });

  test('supported cases', () => {
    expect(fusedGradSupported(paperCircuit())).toBe(true);
    expect(fusedGradSupported({ n: 2, d: 8 })).toBe(false);
    expect(fusedGradSupported({ n: 1, d: 128 })).toBe(false);
    expect(fusedGradSupported({ n: 1, d: 4 }, 'webgl')).toBe(false);
    withFused(false, () => expect(fusedGradSupported(paperCircuit())).toBe(false));
  });

  const cases: [number, number, number][] = [
    [1, 5, 0],
    [1, 5, 1],
    [2, 4, 2],
    [3, 3, 3],
  ];
  for (const [m, rows, seed] of cases)
    for (const mode of ['sampled', 'forced'] as const)
      test(`M = ${m} (seed ${seed}), ${mode}: forward equals sqsStep, gradients equal autodiff of sqsStep (1 step and a T = 3 chain)`, () => {
        const c = makeCase(m, rows, 12, 3, seed);
        const before = tf.memory().numTensors;
        // Forward, one step.
        const outcome = mode === 'forced' ? { forced: c.forced[0] } : { uniforms: c.uniforms[0] };
        const got = withFused(true, () => tf.tidy(() => {
          const f = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phis[0], ...outcome, circuit: c.circuit });
          const e = sqsStep({ circuit: c.circuit, unitary: c.unitary, mem: c.mem, phi: c.phis[0], ...outcome });
          return [f.probs, f.oneHot, f.mem.re, f.mem.im, f.prob, e.probs, e.oneHot, e.mem.re, e.mem.im, e.prob].map((t) => t.dataSync() as Float32Array) as any;
        })) as unknown as Float32Array[];
        const names = ['probs', 'oneHot', 'mem.re', 'mem.im', 'prob'];
        for (let i = 0; i < 5; i++) expect({ what: names[i], diff: maxAbsDiff(got[i], got[i + 5]) < 1e-5 }).toEqual({ what: names[i], diff: true });
        // Some of each outcome were taken.
        const ones = got[1].reduce((a, v) => a + v, 0);
        expect(ones).toBeGreaterThan(0);
        expect(ones).toBeLessThan(got[1].length);
        // Gradients: one step, all outputs; one step, only prob (null dys); a chain of 3 steps.
        for (const [steps, parts] of [[1, 'all'], [1, 'prob-only'], [1, 'mem-only'], [3, 'all']] as [number, Parts][]) {
          const gf = withFused(true, () => gradients(c, fusedFn(c), mode, steps, parts));
          const gc = withFused(false, () => gradients(c, composedFn(c), mode, steps, parts));
          expect(gf.length).toBe(4 + steps);
          gf.forEach((g, i) => expectRelClose(`${backendName} M=${m} ${mode} T=${steps} ${parts} d/d${GRAD_NAMES[i]}`, g, gc[i], 1e-4));
          // The gradients are not trivially zero.
          expect(maxAbs(gc[0])).toBeGreaterThan(1e-3);
        }
        expect(tf.memory().numTensors).toBe(before);
        disposeCase(c);
      });

  test('M = 1: the unrolled backward loop equals the general one (option specialise off)', () => {
    const c = makeCase(1, 4, 10, 3, 9);
    for (const mode of ['sampled', 'forced'] as const) {
      const a = withFused(true, () => gradients(c, fusedFn(c), mode, 3, 'all'));
      const b = withSqsStepOptions({ fusedGrad: true, specialise: false }, () => gradients(c, fusedFn(c), mode, 3, 'all'));
      a.forEach((g, i) => expectRelClose(`generic vs unrolled ${mode} d/d${GRAD_NAMES[i]}`, g, b[i], 1e-5));
    }
    disposeCase(c);
  });

  test('the backward split across two threads (worker pool) equals one thread, bit for bit', () => {
    const c = makeCase(1, 37, 16, 3, 11);
    // The JS loop: the SIMD backward in place on the wasm heap is kept on the main thread (below).
    const options = { fusedGrad: true, simd: false };
    for (const mode of ['sampled', 'forced'] as const) {
      const one = withSqsStepOptions({ ...options, threads: 1 }, () => gradients(c, fusedFn(c), mode, 3, 'all'));
      const two = withSqsStepOptions({ ...options, threads: 2, minWork: 0 }, () => {
        const g = gradients(c, fusedFn(c), mode, 3, 'all');
        const info = sqsStepThreadInfo();
        expect(info.lastError).toBeNull();
        expect([info.lastJob, info.lastThreadsUsed]).toEqual(['backward', 2]);
        return g;
      });
      one.forEach((g, i) => expect({ grad: GRAD_NAMES[i], same: Array.from(g).every((v, j) => Object.is(v, two[i][j])) }).toEqual({ grad: GRAD_NAMES[i], same: true }));
    }
    // With SIMD: in place on the wasm heap the backward stays on the main thread; on cpu it is handed off.
    withSqsStepOptions({ fusedGrad: true, simd: true, threads: 2, minWork: 0 }, () => {
      gradients(c, fusedFn(c), 'sampled', 3, 'all');
      expect([sqsStepThreadInfo().lastJob, sqsStepThreadInfo().lastThreadsUsed]).toEqual(['backward', backendName === 'wasm' ? 1 : 2]);
    });
    disposeCase(c);
  });

  test('under a tape, draws from a seed equal the same draws passed as uniforms (seededUniforms): outputs and gradients', () => {
    const c = makeCase(1, 6, 12, 1, 13);
    const seed = 4242;
    const run = (how: 'seed' | 'uniforms') =>
      withFused(true, () =>
        tf.tidy(() => {
          const rows = c.mem.re.shape[0] as number;
          const b = c.mem.re.shape[2] as number;
          const u = seededUniforms(seed, rows, b);
          const f = (ure: Tensor, p: Tensor) => {
            if (how === 'seed') expect(sqsStepPath({ unitary: { re: ure, im: c.unitary.im }, mem: c.mem, phi: p, seed })).toBe('fused-grad');
            const o = sqsStepOp({ unitary: { re: ure, im: c.unitary.im }, mem: c.mem, phi: p, ...(how === 'seed' ? { seed } : { uniforms: u }) });
            return tf.add(tf.sum(tf.mul(o.mem.re, o.probs.shape[1] === 2 ? 1.5 : 1)), tf.add(tf.sum(o.prob), tf.sum(tf.mul(o.oneHot, o.probs))));
          };
          return tf.grads(f as never)([c.unitary.re, c.phis[0]]).map((g) => Array.from(g.dataSync()));
        }),
      );
    const seeded = run('seed');
    const given = run('uniforms');
    expect(seeded).toEqual(given);
    expect(Math.max(...seeded[0].map(Math.abs))).toBeGreaterThan(1e-3);
    disposeCase(c);
  });

  test('the fused kernels (forward and backward) are the ones that run under a tape', () => {
    const c = makeCase(1, 3, 8, 1, 7);
    withFused(true, () => {
      const names = kernelsRun(() => {
        gradients(c, fusedFn(c), 'sampled', 1, 'all');
        gradients(c, fusedFn(c), 'forced', 1, 'all');
      });
      expect(names).toContain(SQS_STEP_KERNELS.tapedSampled);
      expect(names).toContain(SQS_STEP_KERNELS.tapedForced);
      expect(names.filter((n) => n === SQS_STEP_KERNELS.backward).length).toBe(2);
      expect(names).not.toContain('BatchMatMul');
    });
    disposeCase(c);
  });

  const nets: { label: string; cfg: NetworkConfig }[] = [
    { label: 'paper neurons, inputs 12, [sqs 5, sqs 3]', cfg: { inputs: 12, layers: [{ neuron: 'sqs', size: 5 }, { neuron: 'sqs', size: 3 }] } as NetworkConfig },
    {
      label: 'M = 2 hardware-efficient hidden layer',
      cfg: {
        inputs: 12,
        layers: [
          { neuron: 'sqs', size: 4, memoryQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 } },
          { neuron: 'sqs', size: 3 },
        ],
      } as unknown as NetworkConfig,
    },
  ];
  for (const { label, cfg } of nets)
    test(`bpttGradients, ${label}: fused path equals the composed path; tensor count flat`, () => {
      const net = new Network(cfg, 21);
      const T = 4;
      const B = 8;
      const r = seedrandom('bptt-inputs');
      const x = tf.tensor3d(Float32Array.from({ length: T * 12 * B }, () => (r() < 0.4 ? 1 : 0)), [T, 12, B]);
      const labels = tf.tensor1d(Array.from({ length: B }, (_, i) => i % 3), 'int32');
      const run = (fused: boolean, surrogate: 'straight-through' | 'pq') =>
        withFused(fused, () => {
          const g = bpttGradients(net, x, labels, new Rng(5), { surrogate });
          const out: Record<string, Float32Array> = { loss: g.loss.dataSync() as Float32Array };
          for (const [k, v] of Object.entries(g.grads)) out[k] = v.dataSync() as Float32Array;
          tf.dispose([g.loss, g.predictions, ...Object.values(g.grads)]);
          return out;
        });
      for (const surrogate of ['straight-through', 'pq'] as const) {
        let a: Record<string, Float32Array> = {};
        let b: Record<string, Float32Array> = {};
        const fusedKernels = kernelsRun(() => (a = run(true, surrogate)));
        const composedKernels = kernelsRun(() => (b = run(false, surrogate)));
        // Both layers, every step, take the fused kernels with the switch on, and never with it off.
        expect(fusedKernels.filter((n) => n === SQS_STEP_KERNELS.backward).length).toBe(2 * T);
        expect(composedKernels).not.toContain(SQS_STEP_KERNELS.backward);
        expect(composedKernels).not.toContain(SQS_STEP_KERNELS.tapedSampled);
        expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
        for (const k of Object.keys(b)) expectRelClose(`${backendName} ${label} ${surrogate} ${k}`, a[k], b[k], 1e-4);
        expect(maxAbs(b['layer.0.theta'])).toBeGreaterThan(1e-6);
      }
      // No tensors left behind by repeated gradient computations.
      run(true, 'pq');
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) run(true, 'pq');
      expect(tf.memory().numTensors).toBe(n0);
      tf.dispose([x, labels]);
      net.dispose();
    });
});
