/**
 * The WebAssembly SIMD backward of the paper-neuron step (kernels/sqs-step/simd, `backwardN1M1`)
 * against the JS backward loop (float64) on the same job: every cotangent to float32 rounding, for
 * batch sizes with and without a partial last lane group, zero-probability branches, rows it leaves
 * to the scalar loop, arrays in place in a WebAssembly memory; and the op's gradients under a tape with
 * SIMD on and off, on cpu and wasm, one and two threads.
 */
import seedrandom from 'seedrandom';
import { BackwardJob, runBackward } from '../kernels/sqs-step/backward';
import { simdBackwardCounts, simdStepSupported } from '../kernels/sqs-step/simd';
import { paperCircuit, occurrenceAngles } from '../kernels/circuit';
import { circuitUnitary } from '../kernels/evolve';
import { configureSqsStep, shutdownSqsStepThreads, sqsStepOp, withSqsStepOptions } from '../kernels/sqs-step';
import { initBackend } from '../src/backend';
import { tf } from './helpers';

type Rng = () => number;
const INPUTS = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'outcome', 'dProbs', 'dMemRe', 'dMemIm', 'dProb'] as const;
const OUTPUTS = ['gURe', 'gUIm', 'gMemRe', 'gMemIm', 'gPhi'] as const;
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;

function random(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/** A backward job on random inputs: repeated angles (the cached W), and a few samples with a zero branch. */
function makeJob(rows: number, b: number, seed: number, simd: boolean): BackwardJob {
  const rng = seedrandom(`bwd-${seed}`);
  const phi = random(rows * b, rng, 4);
  for (let i = 1; i < phi.length; i += 3) phi[i] = phi[i - 1];
  const memRe = random(rows * 2 * b, rng);
  const memIm = random(rows * 2 * b, rng);
  const outcome = new Float32Array(rows * 2 * b);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < b; j++) {
      const y = rng() < 0.5 ? 1 : 0;
      outcome[2 * r * b + j] = 1 - y;
      outcome[2 * r * b + b + j] = y;
      if (j % 11 === 5) for (const m of [0, 1]) memRe[(2 * r + m) * b + j] = memIm[(2 * r + m) * b + j] = 0; // P = 0 < TINY
    }
  const n16 = rows * 16;
  return {
    dm: 2, b,
    uRe: random(n16, rng), uIm: random(n16, rng), memRe, memIm, phi, outcome,
    dProbs: random(rows * 2 * b, rng), dMemRe: random(rows * 2 * b, rng), dMemIm: random(rows * 2 * b, rng), dProb: random(rows * b, rng),
    gURe: new Float32Array(n16), gUIm: new Float32Array(n16), gMemRe: new Float32Array(rows * 2 * b), gMemIm: new Float32Array(rows * 2 * b), gPhi: new Float32Array(rows * b),
    specialise: true, simd,
  };
}

/** Largest |a − b| / max(1, |b|) over every cotangent. */
function worstRelative(a: BackwardJob, b: BackwardJob): number {
  let worst = 0;
  for (const k of OUTPUTS) {
    let scale = 1;
    for (const v of b[k]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]) / scale);
  }
  return worst;
}

test('WebAssembly SIMD is available here (else these tests check only the fallback)', () => {
  expect(simdStepSupported()).toBe(true);
});

test.each([4, 5, 7, 13, 64, 256])('B = %i: SIMD cotangents equal the JS loop to float32 rounding', (b) => {
  const rows = 6;
  const simd = makeJob(rows, b, b, true);
  const js = makeJob(rows, b, b, false);
  const before = simdBackwardCounts();
  runBackward(simd, 0, rows, true);
  runBackward(js, 0, rows, true);
  expect(simdBackwardCounts().copied - before.copied).toBe(rows);
  expect(worstRelative(simd, js)).toBeLessThan(1e-5);
  // The cotangents are not trivially zero.
  expect(Math.max(...Array.from(js.gURe).map(Math.abs))).toBeGreaterThan(1e-2);
});

test('rows with |φ/2| ≥ 4096 or NaN go to the JS loop (same bits as SIMD off), the others do not', () => {
  const rows = 5, b = 9;
  const simd = makeJob(rows, b, 77, true);
  const js = makeJob(rows, b, 77, false);
  for (const J of [simd, js]) {
    J.phi[1 * b + 3] = 9000;
    J.phi[3 * b + 8] = NaN;
  }
  const before = simdBackwardCounts();
  runBackward(simd, 0, rows, true);
  runBackward(js, 0, rows, true);
  const after = simdBackwardCounts();
  expect([after.copied - before.copied, after.scalar - before.scalar]).toEqual([3, 2]);
  for (const k of OUTPUTS) for (const r of [1, 3]) {
    const per = k === 'gURe' || k === 'gUIm' ? 16 : k === 'gPhi' ? b : 2 * b;
    expect(Array.from(simd[k].subarray(r * per, (r + 1) * per))).toEqual(Array.from(js[k].subarray(r * per, (r + 1) * per)));
  }
});

test('arrays in a WebAssembly memory are used in place, with the same bits as through the own memory', () => {
  const rows = 4, b = 13;
  const copied = makeJob(rows, b, 5, true);
  runBackward(copied, 0, rows, true);
  const heap = new WasmMemory({ initial: 16 });
  const inPlace = makeJob(rows, b, 5, true);
  let at = 0;
  for (const k of [...INPUTS, ...OUTPUTS]) {
    const view = new Float32Array(heap.buffer, at, inPlace[k].length);
    view.set(inPlace[k]);
    (inPlace as unknown as Record<string, Float32Array>)[k] = view;
    at += 4 * Math.ceil(view.length / 4) * 4;
  }
  inPlace.heap = heap as never;
  const before = simdBackwardCounts();
  runBackward(inPlace, 0, rows, true);
  expect(simdBackwardCounts().inPlace - before.inPlace).toBe(rows);
  for (const k of OUTPUTS) expect(Array.from(inPlace[k])).toEqual(Array.from(copied[k]));
});

describe.each(['cpu', 'wasm'])('the op\'s gradients on %s with the SIMD backward on and off', (backendName) => {
  afterAll(async () => {
    await shutdownSqsStepThreads();
  });

  test.each([1, 2])('threads %i', async (threads) => {
    await initBackend(backendName);
    const saved = configureSqsStep({ threads, minWork: 0 });
    try {
      const c = paperCircuit();
      const rows = 24, b = 30;
      const theta = tf.randomUniform([rows, c.paramNames.length], -3, 3, 'float32', 4);
      const phi = tf.tidy(() => tf.mul(tf.relu(tf.randomNormal([rows, 1, b], 0, 1, 'float32', 6)), Math.PI));
      const u = tf.randomUniform([rows, b], 0, 1, 'float32', 8);
      const weights = tf.randomNormal([rows, 2, b], 0, 1, 'float32', 9);
      const grads = (simd: boolean) =>
        withSqsStepOptions({ simd, fusedGrad: true }, () =>
          tf.tidy(() => {
            const f = (t: tf.Tensor, p: tf.Tensor) => {
              const unitary = circuitUnitary(c, occurrenceAngles(c, t));
              const mem = { re: tf.concat([tf.ones([rows, 1, b]), tf.zeros([rows, 1, b])], 1), im: tf.zeros([rows, 2, b]) };
              const one = sqsStepOp({ unitary, mem, phi: p, uniforms: u });
              const two = sqsStepOp({ unitary, mem: one.mem, phi: tf.mul(p, 0.7), uniforms: u });
              return tf.add(tf.sum(tf.mul(two.mem.re, weights)), tf.add(tf.sum(tf.mul(two.probs, weights)), tf.sum(two.prob)));
            };
            return tf.grads(f as never)([theta, phi]).map((g) => Array.from(g.dataSync()));
          }),
        );
      const before = simdBackwardCounts();
      const on = grads(true);
      const after = simdBackwardCounts();
      // The main thread's rows ran through the SIMD backward: in place on wasm, copied on cpu.
      if (threads === 1) expect(backendName === 'wasm' ? after.inPlace - before.inPlace : after.copied - before.copied).toBe(2 * rows);
      const off = grads(false);
      expect(simdBackwardCounts()).toEqual(after);
      for (let i = 0; i < 2; i++) {
        const scale = Math.max(1, ...off[i].map(Math.abs));
        const worst = Math.max(...on[i].map((v, j) => Math.abs(v - off[i][j])));
        expect({ grad: i, ok: worst / scale < 1e-4 }).toEqual({ grad: i, ok: true });
      }
      tf.dispose([theta, phi, u, weights]);
    } finally {
      configureSqsStep(saved);
    }
  });
});
