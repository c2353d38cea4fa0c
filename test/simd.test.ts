/**
 * The WebAssembly SIMD forward step of the paper neuron (kernels/sqs-step/simd) against the scalar
 * float64 loop (`simd: false`) and an independent float64 computation here: random unitaries, memory
 * states and angles (zeros, runs, spikes, continuous, large), uniforms / seeded / forced outcomes,
 * batches that are not multiples of four, angles the polynomial leaves to the scalar loop, the
 * wasm-heap (in place) and own-memory (copied) paths, and the op on both backends. Also fails when
 * the committed module (simd/module.generated.ts) is stale. No timing assertions.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import seedrandom from 'seedrandom';
import { ForwardJob, fillUniforms, runForward, streamKeys } from '../kernels/sqs-step/forward';
import { newSharedSimdMemory, simdStepCounts, simdStepSupported } from '../kernels/sqs-step/simd';
import { paperCircuit, occurrenceAngles } from '../kernels/circuit';
import { circuitUnitary } from '../kernels/evolve';
import { configureSqsStep, shutdownSqsStepThreads, sqsStepOp, sqsStepThreadInfo, withSqsStepOptions } from '../kernels/sqs-step';
import { initBackend } from '../src/backend';
import { maxAbsDiff, tf } from './helpers';

const ROOT = path.join(__dirname, '..');

test('the committed SIMD module is what the AssemblyScript source compiles to (else run `npm run build:simd`)', () => {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-simd.js'), '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});

test('Node 20 runs WebAssembly SIMD', () => {
  expect(simdStepSupported()).toBe(true);
});

type Rng = () => number;
const ARRAYS = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'] as const;
type Name = (typeof ARRAYS)[number];
interface Memory {
  buffer: ArrayBuffer;
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => Memory } }).WebAssembly.Memory;

/** A random 4×4 unitary (Gram–Schmidt on the rows of a random complex matrix), re and im row-major. */
function randomUnitary(rng: Rng): { re: number[]; im: number[] } {
  const re: number[] = [];
  const im: number[] = [];
  for (let i = 0; i < 4; i++) {
    const vr = Array.from({ length: 4 }, () => rng() * 2 - 1);
    const vi = Array.from({ length: 4 }, () => rng() * 2 - 1);
    for (let k = 0; k < i; k++) {
      // v −= ⟨row_k, v⟩ row_k
      let dr = 0, di = 0;
      for (let j = 0; j < 4; j++) {
        dr += re[k * 4 + j] * vr[j] + im[k * 4 + j] * vi[j];
        di += re[k * 4 + j] * vi[j] - im[k * 4 + j] * vr[j];
      }
      for (let j = 0; j < 4; j++) {
        vr[j] -= dr * re[k * 4 + j] - di * im[k * 4 + j];
        vi[j] -= dr * im[k * 4 + j] + di * re[k * 4 + j];
      }
    }
    const n = Math.sqrt(vr.reduce((s, x, j) => s + x * x + vi[j] * vi[j], 0));
    for (let j = 0; j < 4; j++) {
      re.push(vr[j] / n);
      im.push(vi[j] / n);
    }
  }
  return { re, im };
}

/** Angles of one row: zeros, runs of one value, spikes 0/π·w, continuous, some large. */
function angleRow(rng: Rng, b: number, kind: number): number[] {
  const w = 0.1 + 1.4 * rng();
  const out: number[] = [];
  let run = 0;
  for (let j = 0; j < b; j++) {
    if (kind === 0) out.push(0);
    else if (kind === 1) out.push(rng() < 0.3 ? Math.PI * w : 0);
    else if (kind === 2) {
      if (j % 5 === 0) run = (rng() - 0.3) * 20;
      out.push(run);
    } else if (kind === 3) out.push(rng() < 0.5 ? 0 : Math.PI * Math.abs(rng() * 3));
    else out.push((rng() - 0.5) * 16000); // up to the reduction's limit |φ/2| < 4096
  }
  return out;
}

interface Case {
  rows: number;
  b: number;
  mode: 0 | 1 | 2;
  seed: number;
  data: Record<Name, number[]>;
}

function makeCase(rows: number, b: number, mode: 0 | 1 | 2, seed: number, extraPhi?: (r: number, phi: number[]) => void): Case {
  const rng = seedrandom(`simd-${rows}-${b}-${mode}-${seed}`);
  const data = Object.fromEntries(ARRAYS.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  for (let r = 0; r < rows; r++) {
    const u = randomUnitary(rng);
    data.uRe.push(...u.re);
    data.uIm.push(...u.im);
    const m0r: number[] = [], m0i: number[] = [], m1r: number[] = [], m1i: number[] = [];
    for (let j = 0; j < b; j++) {
      const a = [rng() - 0.5, rng() - 0.5, rng() - 0.5, rng() - 0.5];
      const n = Math.hypot(...a);
      m0r.push(a[0] / n);
      m0i.push(a[1] / n);
      m1r.push(a[2] / n);
      m1i.push(a[3] / n);
    }
    data.memRe.push(...m0r, ...m1r);
    data.memIm.push(...m0i, ...m1i);
    const phi = angleRow(rng, b, r % 5);
    extraPhi?.(r, phi);
    data.phi.push(...phi);
    if (mode === 0) for (let j = 0; j < b; j++) data.uni.push(Math.floor(rng() * 2 ** 24) / 2 ** 24);
    if (mode === 2) {
      const y = Array.from({ length: b }, () => +(rng() < 0.5));
      data.forced.push(...y.map((v) => 1 - v), ...y);
    }
  }
  return { rows, b, mode, seed, data };
}

/** The job of a case: plain arrays, or arrays laid out in a WebAssembly memory passed as `heap`. */
function makeJob(c: Case, simd: boolean, inHeap: false | 'plain' | 'shared' = false): ForwardJob {
  const { rows, b, mode } = c;
  const sizes: Record<Name, number> = {
    uRe: rows * 16, uIm: rows * 16, memRe: rows * 2 * b, memIm: rows * 2 * b, phi: rows * b,
    uni: mode === 0 ? rows * b : 0, forced: mode === 2 ? rows * 2 * b : 0,
    probs: rows * 2 * b, oneHot: mode === 2 ? 0 : rows * 2 * b, outRe: rows * 2 * b, outIm: rows * 2 * b, prob: rows * b,
  };
  const total = ARRAYS.reduce((s, n) => s + sizes[n] + 8, 64);
  const heap = inHeap === 'shared' ? (newSharedSimdMemory(total * 4) as Memory) : inHeap ? new WasmMemory({ initial: Math.ceil((total * 4) / 65536) }) : null;
  let at = 16; // a non-zero, unaligned-to-16 start: the kernel must not assume alignment
  const arrays = {} as Record<Name, Float32Array>;
  for (const n of ARRAYS) {
    arrays[n] = heap && sizes[n] > 0 ? new Float32Array(heap.buffer, at * 4 + 4, sizes[n]) : new Float32Array(sizes[n]);
    arrays[n].set(c.data[n]);
    at += sizes[n] + 3;
  }
  const [k1, k2] = mode === 1 ? streamKeys(c.seed) : [0, 0];
  return { n: 1, dm: 2, b, r0: 0, r1: rows, rowBase: 3, mode, k1, k2, ...arrays, specialise: true, simd, heap: heap as ForwardJob['heap'] };
}

/** The uniforms a job used (its tensor, or the seeded hash of (seed, (rowBase + r)·B + j)). */
function uniformsOf(J: ForwardJob): Float32Array {
  if (J.mode === 0) return J.uni;
  const u = new Float32Array(J.r1 * J.b);
  fillUniforms(u, J.k1, J.k2, J.rowBase * J.b, u.length);
  return u;
}

/** Independent float64 step of sample (r, j), given the outcome y (one-hot weights f0, f1). */
function reference64(J: ForwardJob, r: number, j: number, f: [number, number]) {
  const B = J.b;
  const c = Math.cos(J.phi[r * B + j] / 2), s = Math.sin(J.phi[r * B + j] / 2);
  const mem = [0, 1].map((m) => ({ re: J.memRe[(2 * r + m) * B + j], im: J.memIm[(2 * r + m) * B + j] }));
  // in[y + 2m] = (y = 0: c, y = 1: −i s)·mem[m]
  const inp = [0, 1, 2, 3].map((i) => {
    const y = i & 1, e = mem[i >> 1];
    return y === 0 ? { re: c * e.re, im: c * e.im } : { re: s * e.im, im: -s * e.re };
  });
  const psi = [0, 1, 2, 3].map((i) => {
    let re = 0, im = 0;
    for (let k = 0; k < 4; k++) {
      const ur = J.uRe[r * 16 + i * 4 + k], ui = J.uIm[r * 16 + i * 4 + k];
      re += ur * inp[k].re - ui * inp[k].im;
      im += ur * inp[k].im + ui * inp[k].re;
    }
    return { re, im };
  });
  const q = [0, 1].map((y) => psi[y].re ** 2 + psi[y].im ** 2 + psi[y + 2].re ** 2 + psi[y + 2].im ** 2);
  const g = [0, 1].map((m) => ({ re: f[0] * psi[2 * m].re + f[1] * psi[2 * m + 1].re, im: f[0] * psi[2 * m].im + f[1] * psi[2 * m + 1].im }));
  const prob = g[0].re ** 2 + g[0].im ** 2 + g[1].re ** 2 + g[1].im ** 2;
  const nrm = 1 / Math.sqrt(Math.max(prob, 1e-30));
  return { q, prob, out: g.map((x) => ({ re: x.re * nrm, im: x.im * nrm })) };
}

/** Distance of a draw from its tie: |q0 − u·(q0 + q1)| in float64 (outcomes may differ below float32 rounding). */
const TIE = 1e-5;

/** Checks a SIMD job's outputs against the float64 computation; returns how many draws sat in the tie band. */
function checkAgainstReference(J: ForwardJob): number {
  const B = J.b;
  const u = uniformsOf(J);
  let ties = 0;
  for (let r = J.r0; r < J.r1; r++)
    for (let j = 0; j < B; j++) {
      const p0 = 2 * r * B + j, p1 = p0 + B;
      const f: [number, number] = J.mode === 2 ? [J.forced[p0], J.forced[p1]] : [J.oneHot[p0], J.oneHot[p1]];
      const ref = reference64(J, r, j, f);
      expect(Math.abs(J.probs[p0] - ref.q[0])).toBeLessThan(2e-6);
      expect(Math.abs(J.probs[p1] - ref.q[1])).toBeLessThan(2e-6);
      expect(Math.abs(J.prob[r * B + j] - ref.prob)).toBeLessThan(2e-6);
      if (J.mode !== 2) {
        expect(f[0] + f[1]).toBe(1);
        const margin = ref.q[0] - u[r * B + j] * (ref.q[0] + ref.q[1]);
        if (Math.abs(margin) < TIE) ties++;
        else expect(f[1]).toBe(+(margin <= 0));
      }
      if (ref.prob > 1e-3)
        for (const m of [0, 1]) {
          expect(Math.abs(J.outRe[(2 * r + m) * B + j] - ref.out[m].re)).toBeLessThan(1e-5);
          expect(Math.abs(J.outIm[(2 * r + m) * B + j] - ref.out[m].im)).toBeLessThan(1e-5);
        }
    }
  return ties;
}

describe.each([0, 1, 2] as const)('SIMD paper-neuron step, mode %i (0 uniforms, 1 seeded, 2 forced)', (mode) => {
  test.each([4, 5, 7, 16, 13, 64])('B = %i: float32 results of the float64 step; the JS loop agrees', (b) => {
    const c = makeCase(10, b, mode, 11 + b);
    const before = simdStepCounts();
    const simd = makeJob(c, true);
    runForward(simd);
    expect(simdStepCounts().copied - before.copied).toBe(10);
    const ties = checkAgainstReference(simd);
    expect(ties).toBeLessThanOrEqual(1);
    const scalar = makeJob(c, false);
    runForward(scalar);
    expect(simdStepCounts().copied - before.copied).toBe(10); // simd: false never reaches the kernel
    expect(maxAbsDiff(simd.probs, scalar.probs)).toBeLessThan(2e-6);
    // Outcomes: identical except at ties; where the outcomes agree, the states agree to float32 rounding.
    let differ = 0;
    for (let r = 0; r < c.rows; r++)
      for (let j = 0; j < b; j++) {
        const p0 = 2 * r * b + j;
        if (mode !== 2 && simd.oneHot[p0] !== scalar.oneHot[p0]) {
          differ++;
          continue;
        }
        expect(Math.abs(simd.prob[r * b + j] - scalar.prob[r * b + j])).toBeLessThan(2e-6);
        if (scalar.prob[r * b + j] > 1e-3)
          for (const k of [p0, p0 + b]) {
            expect(Math.abs(simd.outRe[k] - scalar.outRe[k])).toBeLessThan(1e-5);
            expect(Math.abs(simd.outIm[k] - scalar.outIm[k])).toBeLessThan(1e-5);
          }
      }
    expect(differ).toBeLessThanOrEqual(ties);
  });

  test.each(['plain', 'shared'] as const)('arrays in a %s WebAssembly memory are used in place, with the same bits as through the own memory', (kind) => {
    const c = makeCase(37, 24, mode, 5);
    const copied = makeJob(c, true);
    runForward(copied);
    const before = simdStepCounts();
    const inPlace = makeJob(c, true, kind);
    expect(inPlace.probs.buffer).toBe(inPlace.heap?.buffer);
    expect(inPlace.probs.buffer instanceof SharedArrayBuffer).toBe(kind === 'shared');
    runForward(inPlace);
    expect(simdStepCounts().inPlace - before.inPlace).toBe(37);
    for (const n of ['probs', 'oneHot', 'outRe', 'outIm', 'prob'] as const) expect(Array.from(inPlace[n])).toEqual(Array.from(copied[n]));
    // A row range: rows outside it stay untouched.
    const part = makeJob(c, true, kind);
    runForward({ ...part, r0: 5, r1: 9 });
    expect(Array.from(part.prob.subarray(5 * 24, 9 * 24))).toEqual(Array.from(copied.prob.subarray(5 * 24, 9 * 24)));
    expect(part.prob.subarray(0, 5 * 24).every((x) => x === 0) && part.prob.subarray(9 * 24).every((x) => x === 0)).toBe(true);
  });

  test('rows with |φ/2| ≥ 4096 or NaN are left to the scalar loop (same bits as simd off); the others are not', () => {
    const c = makeCase(7, 12, mode, 9, (r, phi) => {
      if (r === 1) phi[7] = 3e8;
      if (r === 4) phi[0] = NaN;
      if (r === 5) phi[11] = -8192;
      if (r === 6) phi[3] = 8191.99; // in range
    });
    for (const inHeap of [false, 'plain', 'shared'] as const) {
      const before = simdStepCounts();
      const simd = makeJob(c, true, inHeap);
      runForward(simd);
      expect(simdStepCounts().scalar - before.scalar).toBe(3);
      expect(simdStepCounts().inPlace - before.inPlace).toBe(inHeap ? 4 : 0);
      const scalar = makeJob(c, false);
      runForward(scalar);
      for (const r of [1, 4, 5])
        for (const n of ['probs', 'outRe', 'outIm'] as const)
          expect(Array.from(simd[n].subarray(2 * r * 12, 2 * (r + 1) * 12))).toEqual(Array.from(scalar[n].subarray(2 * r * 12, 2 * (r + 1) * 12)));
      for (const r of [1, 4, 5]) expect(Array.from(simd.prob.subarray(r * 12, (r + 1) * 12))).toEqual(Array.from(scalar.prob.subarray(r * 12, (r + 1) * 12)));
      checkAgainstReference({ ...simd, r0: 6, r1: 7 });
      // A sample's bits differ somewhere in the other rows (float32 vs float64 arithmetic): the kernel ran them.
      expect(maxAbsDiff(simd.probs.subarray(0, 24), scalar.probs.subarray(0, 24))).toBeGreaterThan(0);
    }
  });
});

test('fewer than four samples take the scalar loop (bit-identical to simd off)', () => {
  const c = makeCase(5, 3, 1, 2);
  const before = simdStepCounts();
  const a = makeJob(c, true);
  runForward(a);
  const b = makeJob(c, false);
  runForward(b);
  expect(simdStepCounts()).toEqual(before);
  for (const n of ['probs', 'oneHot', 'outRe', 'outIm', 'prob'] as const) expect(Array.from(a[n])).toEqual(Array.from(b[n]));
});

test('specialise: false runs the general loop, never the SIMD kernel', () => {
  const c = makeCase(4, 8, 0, 3);
  const before = simdStepCounts();
  runForward({ ...makeJob(c, true), specialise: false });
  expect(simdStepCounts()).toEqual(before);
});

test('the workers run the SIMD kernel in place on the pool\'s shared WebAssembly memory', async () => {
  await initBackend('wasm');
  const saved = configureSqsStep({ threads: 2, minWork: 0 });
  try {
    const c = paperCircuit();
    const rows = 2000, b = 32;
    const theta = tf.randomUniform([rows, c.paramNames.length], -3, 3, 'float32', 4);
    const unitary = tf.tidy(() => circuitUnitary(c, occurrenceAngles(c, theta)));
    const mem = { re: tf.concat([tf.ones([rows, 1, b]), tf.zeros([rows, 1, b])], 1), im: tf.zeros([rows, 2, b]) };
    const phi = tf.tidy(() => tf.mul(tf.relu(tf.randomNormal([rows, 1, b], 0, 1, 'float32', 6)), Math.PI));
    const before = sqsStepThreadInfo().workerSimdRows;
    // The main thread may take every chunk while a worker is descheduled: step until a worker has run some.
    for (let step = 0; step < 200 && sqsStepThreadInfo().workerSimdRows.inPlace === before.inPlace; step++) {
      const o = sqsStepOp({ unitary, mem, phi, seed: step });
      tf.dispose([o.probs, o.oneHot, o.mem.re, o.mem.im, o.prob]);
    }
    const info = sqsStepThreadInfo();
    expect(info.lastError).toBeNull();
    expect(info.lastThreadsUsed).toBe(2);
    expect(info.workerSimdRows.inPlace).toBeGreaterThan(before.inPlace);
    expect(info.workerSimdRows.copied).toBe(before.copied);
    tf.dispose([theta, unitary.re, unitary.im, mem.re, mem.im, phi]);
  } finally {
    configureSqsStep(saved);
  }
});

describe.each(['cpu', 'wasm'])('the op on %s with SIMD on and off', (backendName) => {
  afterAll(async () => {
    await shutdownSqsStepThreads();
  });

  test.each([1, 2])('threads %i: seeded steps agree (in place on wasm, copied on cpu and in the workers)', async (threads) => {
    await initBackend(backendName);
    const saved = configureSqsStep({ threads, minWork: 0 });
    try {
      const c = paperCircuit();
      const rows = 40, b = 32;
      const theta = tf.randomUniform([rows, c.paramNames.length], -3, 3, 'float32', 4);
      const unitary = tf.tidy(() => circuitUnitary(c, occurrenceAngles(c, theta)));
      const mem = { re: tf.concat([tf.ones([rows, 1, b]), tf.zeros([rows, 1, b])], 1), im: tf.zeros([rows, 2, b]) };
      const phi = tf.tidy(() => tf.mul(tf.relu(tf.randomNormal([rows, 1, b], 0, 1, 'float32', 6)), Math.PI));
      const before = simdStepCounts();
      const on = sqsStepOp({ unitary, mem, phi, seed: 21 });
      const after = simdStepCounts();
      // The main thread's rows: in place on wasm, copied on cpu (worker rows are counted in the workers).
      if (threads === 1) expect(backendName === 'wasm' ? after.inPlace - before.inPlace : after.copied - before.copied).toBe(rows);
      const off = withSqsStepOptions({ simd: false }, () => sqsStepOp({ unitary, mem, phi, seed: 21 }));
      expect(simdStepCounts()).toEqual(after);
      const oh = [on.oneHot.dataSync(), off.oneHot.dataSync()];
      const agree = oh[0].every((x, i) => x === oh[1][i]);
      if (agree) {
        expect(maxAbsDiff(on.mem.re.dataSync(), off.mem.re.dataSync())).toBeLessThan(1e-4);
        expect(maxAbsDiff(on.prob.dataSync(), off.prob.dataSync())).toBeLessThan(1e-5);
      } else expect(oh[0].filter((x, i) => x !== oh[1][i]).length).toBeLessThanOrEqual(2);
      expect(maxAbsDiff(on.probs.dataSync(), off.probs.dataSync())).toBeLessThan(1e-5);
      tf.dispose([theta, unitary.re, unitary.im, mem.re, mem.im, phi, on.probs, on.oneHot, on.mem.re, on.mem.im, on.prob, off.probs, off.oneHot, off.mem.re, off.mem.im, off.prob]);
    } finally {
      configureSqsStep(saved);
    }
  });
});
