/**
 * The SQS-step op (kernels/sqs-step) on its fused forward path against the composed `sqsStep`: the
 * same op, two implementations. Random circuits from the gate registry, random memory states and
 * angles, on the `cpu` and `wasm` backends, with worker threads off and on (a zero work threshold
 * forces the hand-off even for these small tensors), the unrolled and the general loops; and the
 * op's choice of path. No timing assertions.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import seedrandom from 'seedrandom';
import { Circuit, CircuitSpec, GateOp, compileCircuit, occurrenceAngles, paperCircuit } from '../kernels/circuit';
import { Complex } from '../kernels/complex';
import { circuitUnitary } from '../kernels/evolve';
import {
  SQS_STEP_KERNELS,
  SqsStepOutput,
  composedStep,
  configureSqsStep,
  fusedSupported,
  seededUniforms,
  shutdownSqsStepThreads,
  sqsStepOp,
  sqsStepPath,
  sqsStepThreadInfo,
  withSqsStepOptions,
} from '../kernels/sqs-step';
import { optionsFromEnv, sqsStepOptions, tensorflowFusedAllowed } from '../kernels/sqs-step/options';
import { GATES, GateName } from '../kernels/gates';
import { sqsStep } from '../kernels/statevector';
import { initBackend } from '../src/backend';
import { maxAbsDiff, tf } from './helpers';

type Tensor = tf.Tensor;

let savedOptions: ReturnType<typeof configureSqsStep> | null = null;
function setThreads(on: boolean): void {
  const before = configureSqsStep({ threads: on ? 2 : 1, minWork: 0 });
  savedOptions ??= before;
}
afterAll(async () => {
  if (savedOptions) configureSqsStep(savedOptions);
  await shutdownSqsStepThreads();
});

test('importing the op registers no kernel: the op registers its kernels on first use', () => {
  expect(tf.getKernel(SQS_STEP_KERNELS.forward, 'cpu')).toBeUndefined();
  expect(tf.getKernel(SQS_STEP_KERNELS.backward, 'wasm')).toBeUndefined();
});

test('options: the environment is read once, at first use; configureSqsStep changes them and checks its input', () => {
  expect(optionsFromEnv({ SQSNN_THREADS: '3', SQSNN_THREAD_MIN_WORK: '100', SQSNN_FUSED_GRAD: '0', SQSNN_GENERIC_LOOPS: '1', SQSNN_SIMD: '0', SQSNN_SPARSE_INPUTS: '0' })).toEqual({
    threads: 3,
    minWork: 100,
    fusedGrad: false,
    specialise: false,
    simd: false,
    sparseInputs: false,
    fusedOnTensorflow: false, // initBackend turns it on for tfjs-node
  });
  expect(tensorflowFusedAllowed({})).toBe(true);
  expect(tensorflowFusedAllowed({ SQSNN_TENSORFLOW_FUSED: '0' })).toBe(false);
  const defaults = optionsFromEnv({ SQSNN_THREADS: 'many', SQSNN_THREAD_MIN_WORK: '-1' });
  expect(defaults.threads).toBeGreaterThanOrEqual(1);
  expect(defaults.minWork).toBe(1 << 19);
  expect(defaults.fusedGrad).toBe(true);
  expect(defaults.specialise).toBe(true);
  expect(defaults.sparseInputs).toBe(true);
  expect(defaults.simd).toBe(true);
  const first = sqsStepOptions();
  const saved = process.env.SQSNN_FUSED_GRAD;
  process.env.SQSNN_FUSED_GRAD = first.fusedGrad ? '0' : '1';
  try {
    expect(sqsStepOptions()).toEqual(first);
  } finally {
    if (saved === undefined) delete process.env.SQSNN_FUSED_GRAD;
    else process.env.SQSNN_FUSED_GRAD = saved;
  }
  expect(() => configureSqsStep({ threads: 0 })).toThrow(/threads/);
  expect(() => configureSqsStep({ minWork: -1 })).toThrow(/minWork/);
  expect(withSqsStepOptions({ specialise: !first.specialise }, () => sqsStepOptions().specialise)).toBe(!first.specialise);
  expect(sqsStepOptions()).toEqual(first);
});

/** A random circuit over the whole gate registry (every gate kind, random qubits). */
function randomCircuit(n: number, m: number, gates: number, rng: seedrandom.PRNG): Circuit {
  if (n === 1 && m === 1 && gates === 0) return paperCircuit();
  const total = n + m;
  const names = Object.keys(GATES) as GateName[];
  const layer: GateOp[] = [];
  for (let g = 0; g < gates; g++) {
    let name = names[Math.floor(rng() * names.length)];
    if (GATES[name].arity === 2 && total < 2) name = 'RY';
    const info = GATES[name];
    const a = Math.floor(rng() * total);
    let b = Math.floor(rng() * (total - 1));
    if (b >= a) b++;
    layer.push({ gate: name, qubits: info.arity === 2 ? [a, b] : [a], ...(info.parametric ? { param: `p${g}` } : {}) });
  }
  // A dense first layer so every qubit is touched.
  const first: GateOp[] = Array.from({ length: total }, (_, q) => ({ gate: 'RY' as GateName, qubits: [q], param: `f${q}` }));
  const spec: CircuitSpec = { ioQubits: n, memoryQubits: m, layers: [first, layer] };
  return compileCircuit(spec);
}

interface Case {
  circuit: Circuit;
  rows: number;
  batch: number;
  unitary: Complex;
  mem: Complex;
  phi: Tensor;
}

function makeCase(n: number, m: number, rows: number, batch: number, seed: number, gates = 10): Case {
  const rng = seedrandom(String(seed));
  const circuit = randomCircuit(n, m, gates, rng);
  const dm = 2 ** m;
  const theta = tf.tensor2d(
    Float32Array.from({ length: rows * circuit.paramNames.length }, () => (rng() * 2 - 1) * Math.PI),
    [rows, circuit.paramNames.length],
  );
  const unitary = tf.tidy(() => circuitUnitary(circuit, occurrenceAngles(circuit, theta)) as any) as unknown as Complex;
  theta.dispose();
  // Random normalised memory states.
  const re = new Float32Array(rows * dm * batch);
  const im = new Float32Array(rows * dm * batch);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < batch; b++) {
      let norm = 0;
      for (let k = 0; k < dm; k++) {
        const i = (r * dm + k) * batch + b;
        re[i] = rng() * 2 - 1;
        im[i] = rng() * 2 - 1;
        norm += re[i] * re[i] + im[i] * im[i];
      }
      const s = 1 / Math.sqrt(norm);
      for (let k = 0; k < dm; k++) {
        const i = (r * dm + k) * batch + b;
        re[i] *= s;
        im[i] *= s;
      }
    }
  // Angles: zeros, runs of repeated values, continuous values, and a few beyond 2π.
  const phi = new Float32Array(rows * n * batch);
  let prev = 0;
  for (let i = 0; i < phi.length; i++) {
    const x = rng();
    phi[i] = x < 0.35 ? 0 : x < 0.55 ? prev : x < 0.95 ? rng() * Math.PI : rng() * 40;
    prev = phi[i];
  }
  return {
    circuit,
    rows,
    batch,
    unitary,
    mem: { re: tf.tensor3d(re, [rows, dm, batch]), im: tf.tensor3d(im, [rows, dm, batch]) },
    phi: tf.tensor3d(phi, [rows, n, batch]),
  };
}

function disposeCase(c: Case): void {
  tf.dispose([c.unitary.re, c.unitary.im, c.mem.re, c.mem.im, c.phi]);
}


/** Cases shared by the tests of one backend (building unitaries with the composed ops is the slow part). */
const cases = new Map<string, Case & { probs: Float32Array }>();
function sharedCase(n: number, m: number, gates: number): Case & { probs: Float32Array } {
  const key = `${tf.getBackend()}:${n}:${m}:${gates}`;
  let c = cases.get(key);
  if (!c) {
    const made = makeCase(n, m, 23, 37, 100 * n + 10 * m + gates, gates);
    c = { ...made, probs: caseProbs(made) };
    cases.set(key, c);
  }
  return c;
}
function disposeCases(): void {
  for (const c of cases.values()) disposeCase(c);
  cases.clear();
}
function disposeOut(o: SqsStepOutput, keepOneHot = false): void {
  tf.dispose([o.probs, o.prob, o.mem.re, o.mem.im]);
  if (!keepOneHot) o.oneHot.dispose();
}

/** Outcome probabilities of the case (they do not depend on the draw). */
function caseProbs(c: Case): Float32Array {
  return tf.tidy(() => {
    const u = tf.zeros([c.rows, c.batch]);
    return sqsStep({ circuit: c.circuit, unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u }).probs;
  }).dataSync() as Float32Array;
}

/** Uniforms whose targets u·Σp stay at least `margin`·Σp away from every cdf value (no rounding ties). */
function safeUniforms(probs: Float32Array, rows: number, k: number, batch: number, rng: seedrandom.PRNG, margin = 1e-3): Tensor {
  const u = new Float32Array(rows * batch);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < batch; b++) {
      const p = Array.from({ length: k }, (_, y) => probs[(r * k + y) * batch + b]);
      const tot = p.reduce((a, x) => a + x, 0);
      const cdf = p.map((_, y) => p.slice(0, y + 1).reduce((a, x) => a + x, 0) / tot);
      let x = rng();
      for (let tries = 0; tries < 1000 && cdf.slice(0, k - 1).some((c) => Math.abs(c - x) < margin); tries++) x = rng();
      u[r * batch + b] = x;
    }
  return tf.tensor2d(u, [rows, batch]);
}

/** Forced one-hots on outcomes of probability ≥ 0.05 (so the renormalisation is well conditioned). */
function safeForced(probs: Float32Array, rows: number, k: number, batch: number, rng: seedrandom.PRNG): Tensor {
  const f = new Float32Array(rows * k * batch);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < batch; b++) {
      const ok = Array.from({ length: k }, (_, y) => y).filter((y) => probs[(r * k + y) * batch + b] >= 0.05);
      const y = ok[Math.floor(rng() * ok.length)];
      f[(r * k + y) * batch + b] = 1;
    }
  return tf.tensor3d(f, [rows, k, batch]);
}

function expectClose(a: SqsStepOutput, b: { probs: Tensor; oneHot: Tensor; mem: Complex; prob: Tensor }, tol = 1e-5): void {
  expect(a.probs.shape).toEqual(b.probs.shape);
  expect(a.mem.re.shape).toEqual(b.mem.re.shape);
  expect(a.prob.shape).toEqual(b.prob.shape);
  expect(maxAbsDiff(a.probs.dataSync(), b.probs.dataSync())).toBeLessThan(tol);
  expect(maxAbsDiff(a.oneHot.dataSync(), b.oneHot.dataSync())).toBe(0);
  expect(maxAbsDiff(a.mem.re.dataSync(), b.mem.re.dataSync())).toBeLessThan(tol);
  expect(maxAbsDiff(a.mem.im.dataSync(), b.mem.im.dataSync())).toBeLessThan(tol);
  expect(maxAbsDiff(a.prob.dataSync(), b.prob.dataSync())).toBeLessThan(tol);
}

/** (N, M, random gates; 0 = the paper circuit) with D ≤ 16. */
const SHAPES: [number, number, number][] = [
  [1, 1, 0],
  [1, 1, 12],
  [1, 0, 6],
  [1, 2, 12],
  [1, 3, 16],
  [2, 1, 12],
  [2, 2, 16],
  [3, 1, 16],
];

describe.each(['cpu', 'wasm'])('fused SQS step on %s', (backendName) => {
  beforeAll(async () => {
    await initBackend(backendName);
    expect(tf.getBackend()).toBe(backendName);
  });
  afterAll(() => disposeCases());

  test('after a first step the kernels are registered for both CPU backends; fusedSupported', () => {
    const c = sharedCase(1, 1, 0);
    disposeOut(sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, seed: 1 }));
    for (const name of Object.values(SQS_STEP_KERNELS)) for (const b of ['cpu', 'wasm']) expect(tf.getKernel(name, b)).toBeDefined();
    expect(tf.getKernel(SQS_STEP_KERNELS.forward, 'cpu')).toBeDefined();
    expect(tf.getKernel(SQS_STEP_KERNELS.forward, 'wasm')).toBeDefined();
    expect(fusedSupported(4, backendName)).toBe(true);
    expect(fusedSupported(paperCircuit())).toBe(true);
    expect(fusedSupported(64, 'cpu')).toBe(true);
    expect(fusedSupported(128, 'cpu')).toBe(false);
    expect(fusedSupported(4, 'webgl')).toBe(false);
    // tensorflow only when its tensors live in host memory (tfjs-node; initBackend decides).
    expect(withSqsStepOptions({ fusedOnTensorflow: false }, () => fusedSupported(4, 'tensorflow'))).toBe(false);
    expect(withSqsStepOptions({ fusedOnTensorflow: true }, () => fusedSupported(4, 'tensorflow'))).toBe(true);
  });

  describe.each([false, true])('threads %s', (threads) => {
    beforeAll(() => setThreads(threads));

    test.each(SHAPES)('N=%i M=%i (gates %i): sampled with the same uniforms = composed sqsStep', (n, m, gates) => {
      const rng = seedrandom(`u${n}${m}${gates}`);
      const c = sharedCase(n, m, gates);
      const k = 2 ** n;
      const u = safeUniforms(c.probs, c.rows, k, c.batch, rng);
      const fused = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u });
      const ref = tf.tidy(() => {
        const o = sqsStep({ circuit: c.circuit, unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u });
        return { probs: o.probs, oneHot: o.oneHot, mem: o.mem, prob: o.prob } as any;
      }) as unknown as SqsStepOutput;
      // With threads on, the pool really ran the rows on a worker (a real worker file, also under coverage).
      const info = sqsStepThreadInfo();
      expect(info.lastError).toBeNull();
      expect(info.broken).toBe(false);
      expect(info.lastThreadsUsed).toBe(threads ? 2 : 1);
      expect(fused.oneHot.shape).toEqual([c.rows, k, c.batch]);
      expectClose(fused, ref);
      // Both outcomes occur (the draws are not degenerate).
      const ones = (fused.oneHot.dataSync() as Float32Array).reduce((a, x) => a + x, 0);
      expect(ones).toBe(c.rows * c.batch);
      disposeOut(fused);
      disposeOut(ref);
      u.dispose();
    });

    test.each(SHAPES)('N=%i M=%i (gates %i): forced outcomes = composed sqsStep', (n, m, gates) => {
      const rng = seedrandom(`f${n}${m}${gates}`);
      const c = sharedCase(n, m, gates);
      const k = 2 ** n;
      const forced = safeForced(c.probs, c.rows, k, c.batch, rng);
      const fused = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, forced });
      expect(fused.oneHot).toBe(forced); // as sqsStep: the forced tensor itself
      const ref = tf.tidy(() => {
        const o = sqsStep({ circuit: c.circuit, unitary: c.unitary, mem: c.mem, phi: c.phi, forced });
        return { probs: o.probs, oneHot: o.oneHot, mem: o.mem, prob: o.prob } as any;
      }) as unknown as SqsStepOutput;
      expectClose(fused, ref);
      disposeOut(fused, true);
      disposeOut(ref, true);
      forced.dispose();
    });

    test.each([
      [1, 1, 0],
      [2, 1, 12],
      [1, 3, 16],
    ])('N=%i M=%i: seeded draws = composed step on seededUniforms, independent of threading', (n, m, gates) => {
      const c = sharedCase(n, m, gates);
      const k = 2 ** n;
      const fused = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, seed: 12345 });
      const ref = composedStep({ unitary: c.unitary, mem: c.mem, phi: c.phi, seed: 12345, circuit: c.circuit });
      // Outcomes agree except where u·Σp lies within float rounding of a cdf value.
      const probs = ref.probs.dataSync();
      const u = seededUniforms(12345, c.rows, c.batch);
      const uv = u.dataSync();
      const a = fused.oneHot.dataSync();
      const b = ref.oneHot.dataSync();
      let mismatches = 0;
      for (let r = 0; r < c.rows; r++)
        for (let j = 0; j < c.batch; j++) {
          let same = true;
          for (let y = 0; y < k; y++) if (a[(r * k + y) * c.batch + j] !== b[(r * k + y) * c.batch + j]) same = false;
          if (same) continue;
          mismatches++;
          let tot = 0;
          for (let y = 0; y < k; y++) tot += probs[(r * k + y) * c.batch + j];
          let cdf = 0;
          let near = false;
          for (let y = 0; y < k - 1; y++) {
            cdf += probs[(r * k + y) * c.batch + j];
            if (Math.abs(cdf - uv[r * c.batch + j] * tot) < 1e-5) near = true;
          }
          expect(near).toBe(true);
        }
      expect(mismatches).toBeLessThanOrEqual(2);
      if (mismatches === 0) expectClose(fused, ref);
      // The same seed gives bit-identical results with the other threading setting.
      setThreads(!threads);
      const other = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, seed: 12345 });
      setThreads(threads);
      expect(maxAbsDiff(other.oneHot.dataSync(), a)).toBe(0);
      expect(maxAbsDiff(other.mem.re.dataSync(), fused.mem.re.dataSync())).toBe(0);
      expect(maxAbsDiff(other.prob.dataSync(), fused.prob.dataSync())).toBe(0);
      // A different seed draws differently.
      const u2 = seededUniforms(12346, c.rows, c.batch);
      expect(maxAbsDiff(u2.dataSync(), uv)).toBeGreaterThan(0.1);
      tf.dispose([u, u2]);
      disposeOut(fused);
      disposeOut(ref);
      disposeOut(other);
    });

    test('the tensor count does not grow over many steps (sampled, seeded, forced)', () => {
      const c = makeCase(1, 1, 17, 33, 9, 0);
      let mem: Complex = { re: tf.clone(c.mem.re), im: tf.clone(c.mem.im) };
      const forced = tf.tidy(() => tf.concat([tf.zeros([17, 1, 33]), tf.ones([17, 1, 33])], 1));
      const step = (t: number) => {
        const u = t % 3 === 0 ? tf.randomUniform([17, 33], 0, 1, 'float32', t) : undefined;
        const o =
          t % 3 === 0
            ? sqsStepOp({ unitary: c.unitary, mem, phi: c.phi, uniforms: u })
            : t % 3 === 1
              ? sqsStepOp({ unitary: c.unitary, mem, phi: c.phi, seed: t })
              : sqsStepOp({ unitary: c.unitary, mem, phi: c.phi, forced });
        u?.dispose();
        tf.dispose([o.probs, o.prob, mem.re, mem.im]);
        if (o.oneHot !== forced) o.oneHot.dispose();
        mem = o.mem;
      };
      step(0);
      step(1);
      step(2);
      const before = tf.memory().numTensors;
      for (let t = 3; t < 63; t++) step(t);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([mem.re, mem.im, forced]);
      disposeCase(c);
    });
  });

  test('above D = 64 the op runs the composed ops (and leaks nothing)', () => {
    const c = makeCase(1, 6, 2, 3, 77, 12);
    expect(fusedSupported(c.circuit)).toBe(false);
    const u = tf.tensor2d([0.1, 0.5, 0.9, 0.3, 0.7, 0.2], [2, 3]);
    const before = tf.memory().numTensors;
    const a = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u });
    expect(tf.memory().numTensors).toBe(before + 5);
    const b = tf.tidy(() => {
      const o = sqsStep({ circuit: c.circuit, unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u });
      return { probs: o.probs, oneHot: o.oneHot, mem: o.mem, prob: o.prob } as any;
    }) as unknown as SqsStepOutput;
    expectClose(a, b, 1e-12);
    disposeOut(a);
    disposeOut(b);
    u.dispose();
    disposeCase(c);
  });

  test('under a gradient tape the op takes the fused backward (N = 1), so gradients flow and equal the composed ones', () => {
    const c = sharedCase(1, 1, 0);
    const u = tf.fill([c.rows, c.batch], 0.5);
    const loss = (step: typeof sqsStepOp) => (uRe: Tensor) => {
      const o = step({ unitary: { re: uRe, im: c.unitary.im }, mem: c.mem, phi: c.phi, uniforms: u });
      return tf.add(tf.sum(tf.mul(o.probs, o.probs)), tf.sum(o.mem.re));
    };
    const g = tf.grad(loss(sqsStepOp))(c.unitary.re);
    const ref = tf.grad(loss(composedStep))(c.unitary.re);
    // Entries reach ~50 here (sums over the batch), where a float32 ulp is 4e-6: compare relative to the largest.
    const scale = Math.max(1, ...Array.from(ref.dataSync(), Math.abs));
    expect(maxAbsDiff(g.dataSync(), ref.dataSync())).toBeLessThan(1e-6 * scale);
    expect(Math.max(...Array.from(g.dataSync(), Math.abs))).toBeGreaterThan(1e-3);
    // With the fused backward switched off, the composed ops run under the tape: the same gradient.
    const off = withSqsStepOptions({ fusedGrad: false }, () => tf.grad(loss(sqsStepOp))(c.unitary.re));
    expect(maxAbsDiff(off.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
    tf.dispose([u, g, ref, off]);
  });

  test('the op picks its path by tape, backend, size and N', () => {
    const c = sharedCase(1, 1, 0);
    const c2 = sharedCase(2, 1, 12);
    const u = tf.fill([c.rows, c.batch], 0.5);
    const input = { unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u };
    const input2 = { unitary: c2.unitary, mem: c2.mem, phi: c2.phi, uniforms: u };
    const onTape = (x: Parameters<typeof sqsStepPath>[0]) => {
      let path = '';
      const g = tf.grad((re: Tensor) => {
        path = sqsStepPath({ ...x, unitary: { re, im: (x.unitary as Complex).im } });
        return tf.sum(re);
      })((x.unitary as Complex).re);
      g.dispose();
      return path;
    };
    expect(sqsStepPath(input)).toBe('fused');
    expect(sqsStepPath(input2)).toBe('fused');
    expect(onTape(input)).toBe('fused-grad');
    expect(onTape(input2)).toBe('composed'); // the fused backward is for N = 1
    expect(onTape({ ...input, uniforms: undefined, seed: 3 })).toBe('fused-grad'); // draws hashed in the kernel
    expect(withSqsStepOptions({ fusedGrad: false }, () => onTape(input))).toBe('composed');
    expect(sqsStepPath({ circuit: c.circuit, angles: tf.zeros([c.rows, 3]), mem: c.mem, phi: c.phi, uniforms: u })).toBe('composed');
    u.dispose();
  });

  test('the general loop equals the unrolled N = 1 loops (specialise off), sampled and forced', () => {
    for (const [n, m, gates] of [[1, 1, 0], [1, 2, 12], [1, 3, 16]] as const) {
      const c = sharedCase(n, m, gates);
      const forced = safeForced(c.probs, c.rows, 2, c.batch, seedrandom(`g${m}`));
      for (const outcome of [{ seed: 77 }, { forced }]) {
        const a = sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, ...outcome });
        const b = withSqsStepOptions({ specialise: false }, () => sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, ...outcome }));
        expectClose(a, b, 1e-6);
        disposeOut(a, 'forced' in outcome);
        disposeOut(b, 'forced' in outcome);
      }
      forced.dispose();
    }
  });

  test('input checks', () => {
    const c = makeCase(1, 1, 2, 3, 1, 0);
    const u = tf.zeros([2, 3]);
    expect(() => sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi })).toThrow(/exactly one/);
    expect(() => sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, uniforms: u, seed: 1 })).toThrow(/exactly one/);
    expect(() => sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: c.phi, seed: 1.5 })).toThrow(/integer/);
    const badPhi = tf.zeros([2, 2, 3]);
    expect(() => sqsStepOp({ unitary: c.unitary, mem: c.mem, phi: badPhi, uniforms: u })).toThrow(/SqsFusedStep/);
    tf.dispose([u, badPhi]);
    disposeCase(c);
  });
});

/** A threaded seeded step of 50 paper neurons × 64 samples, from `root` (the sources or dist/): its outputs. */
const DIST_STEP_SCRIPT = `
const path = require('path');
const root = process.argv[1];
const op = require(path.join(root, 'kernels/sqs-step'));
const { paperCircuit, occurrenceAngles } = require(path.join(root, 'kernels/circuit'));
const { circuitUnitary } = require(path.join(root, 'kernels/evolve'));
const { tf } = require(path.join(root, 'kernels/tf'));
(async () => {
  await tf.setBackend('cpu');
  op.configureSqsStep({ threads: 2, minWork: 0 });
  const c = paperCircuit();
  const theta = tf.tensor2d(Float32Array.from({ length: 50 * c.paramNames.length }, (_, i) => Math.sin(i)), [50, c.paramNames.length]);
  const unitary = circuitUnitary(c, occurrenceAngles(c, theta));
  const mem = { re: tf.concat([tf.ones([50, 1, 64]), tf.zeros([50, 1, 64])], 1), im: tf.zeros([50, 2, 64]) };
  const phi = tf.tensor3d(Float32Array.from({ length: 50 * 64 }, (_, i) => (i % 3) * Math.abs(Math.cos(i))), [50, 1, 64]);
  const out = op.sqsStepOp({ unitary, mem, phi, seed: 5 });
  const info = op.sqsStepThreadInfo();
  process.stdout.write(JSON.stringify({ threads: info.lastThreadsUsed, error: info.lastError, oneHot: Array.from(out.oneHot.dataSync()), memRe: Array.from(out.mem.re.dataSync()) }));
  await op.shutdownSqsStepThreads();
})();
`;

const DIST = path.join(__dirname, '..', 'dist');
const distBuilt = fs.existsSync(path.join(DIST, 'kernels', 'sqs-step', 'worker.js'));
// CI builds dist/ before the tests; a local run without a build skips this one.
(distBuilt ? test : test.skip)('from the compiled package (dist/), the pool starts worker.js, and the step equals the sources\' one', async () => {
  await initBackend('cpu');
  const run = spawnSync(process.execPath, ['-e', DIST_STEP_SCRIPT, DIST], { encoding: 'utf8', timeout: 60000 });
  expect(run.status).toBe(0);
  const fromDist = JSON.parse(run.stdout);
  expect(fromDist.error).toBeNull();
  expect(fromDist.threads).toBe(2);
  // The same script from the sources in this process (ts-jest), on one thread: bit-identical.
  const saved = configureSqsStep({ threads: 1 });
  try {
    const c = paperCircuit();
    const got = tf.tidy(() => {
      const theta = tf.tensor2d(Float32Array.from({ length: 50 * c.paramNames.length }, (_, i) => Math.sin(i)), [50, c.paramNames.length]);
      const unitary = circuitUnitary(c, occurrenceAngles(c, theta));
      const mem = { re: tf.concat([tf.ones([50, 1, 64]), tf.zeros([50, 1, 64])], 1), im: tf.zeros([50, 2, 64]) };
      const phi = tf.tensor3d(Float32Array.from({ length: 50 * 64 }, (_, i) => (i % 3) * Math.abs(Math.cos(i))), [50, 1, 64]);
      const out = sqsStepOp({ unitary, mem, phi, seed: 5 });
      return [Array.from(out.oneHot.dataSync()), Array.from(out.mem.re.dataSync())];
    });
    expect(got[0]).toEqual(fromDist.oneHot);
    expect(got[1]).toEqual(fromDist.memRe);
  } finally {
    configureSqsStep(saved);
  }
});
