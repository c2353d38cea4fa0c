/**
 * Test drivers: run the same SQS trajectory through the engine's float32 kernels and through the
 * float64 reference (`sim64.ts`), laid out the same way for comparison. Only this file (and the
 * tests) touch the engine; `sim64.ts` and `bridge.ts` do not.
 */
import { Circuit, compileCircuit, occurrenceAngles } from '../../kernels/circuit';
import { Complex } from '../../kernels/complex';
import { circuitUnitary } from '../../kernels/evolve';
import { encodingAngles, initialMemory, oneHotFromBits, sqsStep } from '../../kernels/statevector';
import { tf, Tensor } from '../../kernels/tf';
import { Spec, flat3, refCircuit } from './bridge';
import {
  CMat,
  CVec,
  RefCircuit,
  RefNoise,
  circuitUnitary64,
  collapse64,
  densityOutcomeProbs,
  encodingAngle,
  evolveDensity,
  evolvePure,
  measureDensity,
  outer,
  zeroDensity,
  zeroMemory,
} from './sim64';

export function compileSpec(spec: Spec): Circuit {
  return compileCircuit(spec as any);
}

/** θ [R, K] with columns in the engine's `paramNames` order. */
export function thetaTensor(circuit: Circuit, thetas: Record<string, number>[]): Tensor {
  const k = circuit.paramNames.length;
  const data = new Float32Array(thetas.length * k);
  thetas.forEach((t, r) => circuit.paramNames.forEach((nm, j) => (data[r * k + j] = t[nm])));
  return tf.tensor2d(data, [thetas.length, k]);
}

/** Per-step record in the engine layout: probs [R,K,B], oneHot [R,K,B], mem re/im [R,Dm,B], prob [R,B]. */
export interface StepRecord {
  probs: Float64Array;
  oneHot: Float64Array;
  memRe: Float64Array;
  memIm: Float64Array;
  prob: Float64Array;
}

/**
 * Engine trajectory over T steps for R neurons × B samples: currents [T][R][N][B]; outcomes either
 * forced (ys [T][R][B], given to the engine as bits through `oneHotFromBits`) or sampled from
 * uniforms [T][R][B]. `path` picks the dense-unitary or the gate-by-gate evolution.
 */
export function engineTrajectory(opts: {
  spec: Spec;
  thetas: Record<string, number>[];
  currents: number[][][][];
  forced?: number[][][];
  uniforms?: number[][][];
  path: 'dense' | 'gates';
}): StepRecord[] {
  const circuit = compileSpec(opts.spec);
  const rows = opts.thetas.length;
  const n = circuit.ioQubits;
  const batch = opts.currents[0][0][0].length;
  const out: StepRecord[] = [];
  const setup = tf.tidy((() => {
    const angles = occurrenceAngles(circuit, thetaTensor(circuit, opts.thetas));
    const unitary = opts.path === 'dense' ? circuitUnitary(circuit, angles) : undefined;
    return { angles, unitary };
  }) as never) as unknown as { angles: Tensor; unitary?: Complex };
  let mem: Complex = tf.tidy(() => {
    const m0 = initialMemory(rows, circuit.memoryQubits, batch);
    return { re: m0.re, im: m0.im };
  });
  for (let t = 0; t < opts.currents.length; t++) {
    const res = tf.tidy(() => {
      const phi = encodingAngles(tf.tensor3d(flat3(opts.currents[t]), [rows, n, batch]));
      let forced: Tensor | undefined;
      if (opts.forced) {
        const bits: number[][][] = opts.forced[t].map((row) =>
          Array.from({ length: n }, (_, q) => row.map((y) => (y >> q) & 1)),
        );
        forced = oneHotFromBits(tf.tensor3d(flat3(bits), [rows, n, batch]));
      }
      const uniforms = opts.uniforms ? tf.tensor2d(opts.uniforms[t].flat(), [rows, batch]) : undefined;
      const s = sqsStep({
        circuit,
        ...(setup.unitary ? { unitary: setup.unitary } : { angles: setup.angles }),
        mem,
        phi,
        ...(forced ? { forced } : { uniforms }),
      });
      return { probs: s.probs, oneHot: s.oneHot, memRe: s.mem.re, memIm: s.mem.im, prob: s.prob };
    });
    tf.dispose([mem.re, mem.im]);
    mem = { re: res.memRe, im: res.memIm };
    out.push({
      probs: Float64Array.from(res.probs.dataSync()),
      oneHot: Float64Array.from(res.oneHot.dataSync()),
      memRe: Float64Array.from(res.memRe.dataSync()),
      memIm: Float64Array.from(res.memIm.dataSync()),
      prob: Float64Array.from(res.prob.dataSync()),
    });
    tf.dispose([res.probs, res.oneHot, res.prob]);
  }
  tf.dispose([mem.re, mem.im, setup.angles]);
  if (setup.unitary) tf.dispose([setup.unitary.re, setup.unitary.im]);
  return out;
}

/** Reference trajectory with the same layout; `choose(t, r, b, probs)` gives the outcome taken. */
export function referenceTrajectory(opts: {
  spec: Spec;
  thetas: Record<string, number>[];
  currents: number[][][][];
  choose: (t: number, r: number, b: number, probs: number[]) => number;
}): { records: StepRecord[]; ys: number[][][] } {
  const { spec, thetas, currents } = opts;
  const rows = thetas.length;
  const n = spec.ioQubits;
  const k = 2 ** n;
  const dm = 2 ** spec.memoryQubits;
  const batch = currents[0][0][0].length;
  const circuits: RefCircuit[] = thetas.map((th) => refCircuit(spec, th));
  const us = circuits.map(circuitUnitary64);
  let mems: CVec[][] = thetas.map(() => Array.from({ length: batch }, () => zeroMemory(spec.memoryQubits)));
  const records: StepRecord[] = [];
  const ys: number[][][] = [];
  for (let t = 0; t < currents.length; t++) {
    const rec: StepRecord = {
      probs: new Float64Array(rows * k * batch),
      oneHot: new Float64Array(rows * k * batch),
      memRe: new Float64Array(rows * dm * batch),
      memIm: new Float64Array(rows * dm * batch),
      prob: new Float64Array(rows * batch),
    };
    const yt: number[][] = [];
    const next: CVec[][] = [];
    for (let r = 0; r < rows; r++) {
      const yr: number[] = [];
      const nr: CVec[] = [];
      for (let b = 0; b < batch; b++) {
        const phi = Array.from({ length: n }, (_, q) => encodingAngle(currents[t][r][q][b]));
        const psi = evolvePure(circuits[r], mems[r][b], phi, us[r]);
        const probs = Array.from({ length: k }, () => 0);
        for (let i = 0; i < psi.re.length; i++) probs[i % k] += psi.re[i] ** 2 + psi.im[i] ** 2;
        const y = opts.choose(t, r, b, probs);
        const col = collapse64(circuits[r], psi, y);
        for (let j = 0; j < k; j++) {
          rec.probs[(r * k + j) * batch + b] = probs[j];
          rec.oneHot[(r * k + j) * batch + b] = j === y ? 1 : 0;
        }
        for (let m = 0; m < dm; m++) {
          rec.memRe[(r * dm + m) * batch + b] = col.mem.re[m];
          rec.memIm[(r * dm + m) * batch + b] = col.mem.im[m];
        }
        rec.prob[r * batch + b] = col.prob;
        yr.push(y);
        nr.push(col.mem);
      }
      yt.push(yr);
      next.push(nr);
    }
    mems = next;
    records.push(rec);
    ys.push(yt);
  }
  return { records, ys };
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest difference between two trajectories, per field. */
export function trajectoryDiff(a: StepRecord[], b: StepRecord[]): { probs: number; mem: number; prob: number; oneHot: number } {
  const d = { probs: 0, mem: 0, prob: 0, oneHot: 0 };
  a.forEach((ra, t) => {
    const rb = b[t];
    d.probs = Math.max(d.probs, maxDiff(ra.probs, rb.probs));
    d.mem = Math.max(d.mem, maxDiff(ra.memRe, rb.memRe), maxDiff(ra.memIm, rb.memIm));
    d.prob = Math.max(d.prob, maxDiff(ra.prob, rb.prob));
    d.oneHot = Math.max(d.oneHot, maxDiff(ra.oneHot, rb.oneHot));
  });
  return d;
}

// ---------------------------------------------------------------------------------------------
// Density mode
// ---------------------------------------------------------------------------------------------

/** Per-step density record: probs [R,K,B], rhoMem re/im [R,Dm,Dm,B], prob [R,B], register ρ [R,D,D,B]. */
export interface DensityRecord {
  probs: Float64Array;
  oneHot: Float64Array | null;
  rhoRe: Float64Array;
  rhoIm: Float64Array;
  prob: Float64Array;
  fullRe: Float64Array;
  fullIm: Float64Array;
}

/** Initial memory [R, Dm, B] as tensors from per-(row, column) pure states, or |0…0⟩. */
function memoryTensor(rows: number, dm: number, batch: number, init?: CVec[][]): { re: Tensor; im: Tensor } {
  const re = new Float32Array(rows * dm * batch);
  const im = new Float32Array(rows * dm * batch);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < batch; b++)
      for (let m = 0; m < dm; m++) {
        re[(r * dm + m) * batch + b] = init ? init[r][b].re[m] : m === 0 ? 1 : 0;
        im[(r * dm + m) * batch + b] = init ? init[r][b].im[m] : 0;
      }
  return { re: tf.tensor3d(re, [rows, dm, batch]), im: tf.tensor3d(im, [rows, dm, batch]) };
}

/**
 * Engine density trajectory (kernels/density.ts): ρ_mem starts as |m⟩⟨m| (densityFromPure) of the
 * given pure memories (default |0…0⟩); outcomes forced (ys [T][R][B]), sampled (uniforms), or
 * averaged over (`average`).
 */
export function engineDensityTrajectory(opts: {
  spec: Spec;
  thetas: Record<string, number>[];
  currents: number[][][][];
  noise?: import('../../kernels/density').NoiseSpec;
  forced?: number[][][];
  uniforms?: number[][][];
  average?: boolean;
  initialMemory?: CVec[][];
}): DensityRecord[] {
  // Loaded lazily so the statevector tests do not depend on this file.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const density = require('../../kernels/density') as typeof import('../../kernels/density');
  const circuit = compileSpec(opts.spec);
  const rows = opts.thetas.length;
  const n = circuit.ioQubits;
  const k = 2 ** n;
  const dm = 2 ** circuit.memoryQubits;
  const batch = opts.currents[0][0][0].length;
  const angles = tf.tidy(() => occurrenceAngles(circuit, thetaTensor(circuit, opts.thetas)));
  let rhoMem: Complex = tf.tidy(() => {
    const r = density.densityFromPure(memoryTensor(rows, dm, batch, opts.initialMemory));
    return { re: r.re, im: r.im };
  });
  const out: DensityRecord[] = [];
  for (let t = 0; t < opts.currents.length; t++) {
    const res = tf.tidy(() => {
      const phi = encodingAngles(tf.tensor3d(flat3(opts.currents[t]), [rows, n, batch]));
      let forced: Tensor | undefined;
      if (opts.forced) {
        const oh = new Float32Array(rows * k * batch);
        opts.forced[t].forEach((row, r) => row.forEach((y, b) => (oh[(r * k + y) * batch + b] = 1)));
        forced = tf.tensor3d(oh, [rows, k, batch]);
      }
      const uniforms = opts.uniforms ? tf.tensor2d(opts.uniforms[t].flat(), [rows, batch]) : undefined;
      const s = density.densityStep({
        circuit,
        angles,
        rhoMem,
        phi,
        ...(opts.noise ? { noise: opts.noise } : {}),
        ...(forced ? { forced } : {}),
        ...(uniforms ? { uniforms } : {}),
        ...(opts.average ? { average: true } : {}),
      });
      return {
        probs: s.probs,
        oneHot: s.oneHot ?? tf.zeros([0]),
        hasOneHot: tf.scalar(s.oneHot ? 1 : 0),
        re: s.rhoMem.re,
        im: s.rhoMem.im,
        prob: s.prob,
        fullRe: s.rho.re,
        fullIm: s.rho.im,
      };
    });
    tf.dispose([rhoMem.re, rhoMem.im]);
    rhoMem = { re: res.re, im: res.im };
    out.push({
      probs: Float64Array.from(res.probs.dataSync()),
      oneHot: res.hasOneHot.dataSync()[0] ? Float64Array.from(res.oneHot.dataSync()) : null,
      rhoRe: Float64Array.from(res.re.dataSync()),
      rhoIm: Float64Array.from(res.im.dataSync()),
      prob: Float64Array.from(res.prob.dataSync()),
      fullRe: Float64Array.from(res.fullRe.dataSync()),
      fullIm: Float64Array.from(res.fullIm.dataSync()),
    });
    tf.dispose([res.probs, res.oneHot, res.hasOneHot, res.prob, res.fullRe, res.fullIm]);
  }
  tf.dispose([rhoMem.re, rhoMem.im, angles]);
  return out;
}

/** Reference density trajectory in the same layout; `choose` gives the outcome or 'average'. */
export function referenceDensityTrajectory(opts: {
  spec: Spec;
  thetas: Record<string, number>[];
  currents: number[][][][];
  noise: RefNoise;
  choose: (t: number, r: number, b: number, probs: number[]) => number | 'average';
  initialMemory?: CVec[][];
}): { records: DensityRecord[]; ys: number[][][] } {
  const { spec, thetas, currents } = opts;
  const rows = thetas.length;
  const n = spec.ioQubits;
  const k = 2 ** n;
  const dm = 2 ** spec.memoryQubits;
  const d = k * dm;
  const batch = currents[0][0][0].length;
  const circuits = thetas.map((th) => refCircuit(spec, th));
  let sig: CMat[][] = thetas.map((_, r) =>
    Array.from({ length: batch }, (_, b) => (opts.initialMemory ? outer(opts.initialMemory[r][b]) : zeroDensity(spec.memoryQubits))),
  );
  const records: DensityRecord[] = [];
  const ys: number[][][] = [];
  for (let t = 0; t < currents.length; t++) {
    const rec: DensityRecord = {
      probs: new Float64Array(rows * k * batch),
      oneHot: new Float64Array(rows * k * batch),
      rhoRe: new Float64Array(rows * dm * dm * batch),
      rhoIm: new Float64Array(rows * dm * dm * batch),
      prob: new Float64Array(rows * batch),
      fullRe: new Float64Array(rows * d * d * batch),
      fullIm: new Float64Array(rows * d * d * batch),
    };
    const yt: number[][] = [];
    const next: CMat[][] = [];
    for (let r = 0; r < rows; r++) {
      const yr: number[] = [];
      const nr: CMat[] = [];
      for (let b = 0; b < batch; b++) {
        const z = Array.from({ length: n }, (_, q) => currents[t][r][q][b]);
        const full = evolveDensity(circuits[r], sig[r][b], z.map(encodingAngle), opts.noise);
        const probs = densityOutcomeProbs(circuits[r], full);
        const y = opts.choose(t, r, b, probs);
        const st = measureDensity(circuits[r], full, y);
        for (let j = 0; j < k; j++) {
          rec.probs[(r * k + j) * batch + b] = st.probs[j];
          (rec.oneHot as Float64Array)[(r * k + j) * batch + b] = j === y ? 1 : 0;
        }
        for (let i = 0; i < dm * dm; i++) {
          rec.rhoRe[(r * dm * dm + i) * batch + b] = st.rhoMem.re[i];
          rec.rhoIm[(r * dm * dm + i) * batch + b] = st.rhoMem.im[i];
        }
        for (let i = 0; i < d * d; i++) {
          rec.fullRe[(r * d * d + i) * batch + b] = full.re[i];
          rec.fullIm[(r * d * d + i) * batch + b] = full.im[i];
        }
        rec.prob[r * batch + b] = st.prob;
        yr.push(y === 'average' ? -1 : y);
        nr.push(st.rhoMem);
      }
      yt.push(yr);
      next.push(nr);
    }
    sig = next;
    records.push(rec);
    ys.push(yt);
  }
  return { records, ys };
}

/** Square matrix (r, b) out of a [R, n, n, B] flat layout. */
export function matrixAt(re: ArrayLike<number>, im: ArrayLike<number>, n: number, batch: number, r: number, b: number): CMat {
  const m: CMat = { n, re: new Float64Array(n * n), im: new Float64Array(n * n) };
  for (let i = 0; i < n * n; i++) {
    m.re[i] = re[(r * n * n + i) * batch + b];
    m.im[i] = im[(r * n * n + i) * batch + b];
  }
  return m;
}

/** Largest difference between two density trajectories, per field. */
export function densityDiff(a: DensityRecord[], b: DensityRecord[]): { probs: number; rho: number; prob: number; full: number } {
  const d = { probs: 0, rho: 0, prob: 0, full: 0 };
  a.forEach((ra, t) => {
    const rb = b[t];
    d.probs = Math.max(d.probs, maxDiff(ra.probs, rb.probs));
    d.rho = Math.max(d.rho, maxDiff(ra.rhoRe, rb.rhoRe), maxDiff(ra.rhoIm, rb.rhoIm));
    d.prob = Math.max(d.prob, maxDiff(ra.prob, rb.prob));
    d.full = Math.max(d.full, maxDiff(ra.fullRe, rb.fullRe), maxDiff(ra.fullIm, rb.fullIm));
  });
  return d;
}
