/**
 * A fused, forward-only implementation of one SQS statevector step (`sqsStep` in ./statevector) for
 * small dense registers (D ≤ 64): encode, evolve with the per-row unitary, outcome probabilities,
 * sample (or force), collapse and renormalise — one loop over typed arrays with no allocation inside.
 *
 * It is a real tfjs kernel, `SqsFusedStep`, registered for the `cpu` and `wasm` backends; on every
 * other backend (GPU, tensorflow) and for larger D, `fusedSqsStep` runs the composed `sqsStep` instead.
 * The two are one op with two implementations, held equal by test/fused.test.ts. The fused kernel has
 * no gradient: under a gradient tape (tf.grad, variableGrads) `fusedSqsStep` runs the composed ops.
 *
 * API: `fusedSqsStep`, `composedStep` (the composed ops with the same inputs), `fusedSupported`,
 * `seededUniforms`, `fusedThreadInfo`, `shutdownFusedThreads`; env SQSNN_THREADS (1 = no workers),
 * SQSNN_THREAD_MIN_WORK (hand-off threshold).
 *
 * Rows (neurons) are split across worker threads (SharedArrayBuffer hand-off, the main thread blocks
 * with `Atomics.wait`) when the step is large enough; `SQSNN_THREADS=1` turns that off.
 *
 * Uniforms for sampling come either as a tensor [R, B] or from an integer seed: then the kernel draws
 * u[r, b] from a counter-based hash of (seed, r·B + b), so the draws do not depend on how rows are split
 * across threads, and `seededUniforms(seed, R, B)` gives the composed path exactly the same numbers.
 */
import * as os from 'os';
import { Worker } from 'worker_threads';
import { Circuit, compileCircuit } from './circuit';
import { Complex } from './complex';
import { sqsStep } from './statevector';
import { tf, Tensor } from './tf';

export const FUSED_KERNEL_NAME = 'SqsFusedStep';
/** Largest register dimension the fused kernel takes (a dense D×D unitary per row). */
export const FUSED_MAX_DIM = 64;
export const FUSED_BACKENDS = ['cpu', 'wasm'] as const;

export interface FusedStepInput {
  /** Dense per-row unitaries U [R, D, D], U[r, i, j] = ⟨i|V(θ_r)|j⟩, D = 2^(N+M), i = y + 2^N·m. */
  unitary: Complex;
  /** Memory state [R, 2^M, B]. */
  mem: Complex;
  /** Encoding angles φ [R, N, B]. */
  phi: Tensor;
  /** Exactly one of: uniforms [R, B] in [0, 1); an integer seed for in-kernel uniforms; a forced one-hot [R, 2^N, B]. */
  uniforms?: Tensor;
  seed?: number;
  forced?: Tensor;
  /** Only used by the composed fallback (for N); inferred from the shapes when absent. */
  circuit?: Circuit;
}

export interface FusedStepOutput {
  probs: Tensor;
  /** The sampled outcome one-hot [R, 2^N, B]; with forcing, the `forced` tensor itself (as in `sqsStep`). */
  oneHot: Tensor;
  mem: Complex;
  /** Probability [R, B] of the outcome taken. */
  prob: Tensor;
}

/* ------------------------------------------------------------------------------------------------ */
/* The compute core. It must be self-contained (no reference to anything outside its body): worker   */
/* threads are built from its source text, so the same code runs on every thread.                   */
/* ------------------------------------------------------------------------------------------------ */

/** Arrays and dimensions of one step; rows r0..r1 of the arrays are computed. */
export interface FusedJob {
  /** IO qubits N, memory dimension 2^M, samples B. */
  n: number;
  dm: number;
  b: number;
  r0: number;
  r1: number;
  /** Global row index of local row 0 (for the seeded draws). */
  rowBase: number;
  /** 0: uniforms from `uni`; 1: seeded (keys k1, k2); 2: forced one-hot in `forced`. */
  mode: number;
  k1: number;
  k2: number;
  uRe: Float32Array;
  uIm: Float32Array;
  memRe: Float32Array;
  memIm: Float32Array;
  phi: Float32Array;
  uni: Float32Array;
  forced: Float32Array;
  probs: Float32Array;
  oneHot: Float32Array;
  outRe: Float32Array;
  outIm: Float32Array;
  prob: Float32Array;
}

export interface FusedCore {
  run(job: FusedJob): void;
  keys(seed: number): [number, number];
  fillUniforms(out: Float32Array, k1: number, k2: number, start: number, count: number): void;
  /** Writes [cos a, sin a] into `trig` (fast polynomial; shared with the backward kernel). */
  sincos(a: number): void;
  trig: Float64Array;
}

export function fusedCore(): FusedCore {
  const PIO2_HI = 1.5707963267341256;
  const PIO2_LO = 6.077100506506192e-11;
  const TWO_OVER_PI = 0.6366197723675814;
  const TWO_M24 = 5.960464477539063e-8;
  const TINY = 1e-30;
  // cos/sin of φ/2 for the general loops (the N=1 loops inline the same code).
  const trig = new Float64Array(2);

  function mix(h: number): number {
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b);
    h ^= h >>> 16;
    return h;
  }

  function keys(seed: number): [number, number] {
    const lo = seed | 0;
    const hi = Math.floor(seed / 4294967296) | 0;
    const k1 = mix(mix(lo ^ 0x243f6a88) + hi);
    const k2 = mix(k1 ^ 0x85a308d3);
    return [k1 | 0, k2 | 0];
  }

  /** u = hash(seed, idx) in [0, 1), a multiple of 2^−24 (exact in float32). */
  function uniformAt(k1: number, k2: number, idx: number): number {
    let h = (idx ^ k1) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b);
    h ^= h >>> 16;
    h = (h + k2) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b);
    h ^= h >>> 16;
    return (h >>> 8) * TWO_M24;
  }

  function fillUniforms(out: Float32Array, k1: number, k2: number, start: number, count: number): void {
    for (let i = 0; i < count; i++) out[i] = uniformAt(k1, k2, start + i);
  }

  /** trig[0] = cos(a), trig[1] = sin(a): minimax polynomials after a two-part reduction by π/2 (error ≈ 1e−16 for
   * |a| < 1e6, far below float32 resolution up to 1e8); `Math.cos/sin` beyond. About 3× faster than the two calls. */
  function sincos(a: number): void {
    if (!(a < 1e8 && a > -1e8)) {
      trig[0] = Math.cos(a);
      trig[1] = Math.sin(a);
      return;
    }
    const k = Math.floor(a * TWO_OVER_PI + 0.5);
    const r = a - k * PIO2_HI - k * PIO2_LO;
    const z = r * r;
    const sn = r + r * z * (-1.6666666666666632e-1 + z * (8.33333333332249e-3 + z * (-1.984126982985795e-4 + z * (2.755731370707007e-6 + z * -2.5050760253406863e-8))));
    const cs = 1 - 0.5 * z + z * z * (4.16666666666666e-2 + z * (-1.388888888887411e-3 + z * (2.480158728947673e-5 + z * (-2.755731435139066e-7 + z * 2.087572321298175e-9))));
    const ki = k | 0;
    const sw = ki & 1;
    trig[0] = (1 - ((ki + 1) & 2)) * (sw * sn + (1 - sw) * cs);
    trig[1] = (1 - (ki & 2)) * (sw * cs + (1 - sw) * sn);
  }

  /**
   * The paper neuron: N = 1, M = 1, D = 4, everything in registers. For each distinct φ (consecutive
   * samples often share one: zero input, or spike inputs) the row's U is folded with the encoding into
   * W[i][m] = cos(φ/2)·U[i][2m] − i·sin(φ/2)·U[i][2m+1], so that ψ = W·mem is a 4×2 complex product.
   * The outcome is selected arithmetically (no unpredictable branch).
   */
  function loopN1M1(J: FusedJob): void {
    const B = J.b, mode = J.mode, k1 = J.k1, k2 = J.k2;
    const uRe = J.uRe, uIm = J.uIm, memRe = J.memRe, memIm = J.memIm, phi = J.phi, uni = J.uni, forced = J.forced;
    const probs = J.probs, oneHot = J.oneHot, outRe = J.outRe, outIm = J.outIm, prob = J.prob;
    for (let r = J.r0; r < J.r1; r++) {
      const uo = r * 16;
      const a00 = uRe[uo], b00 = uIm[uo], a01 = uRe[uo + 1], b01 = uIm[uo + 1], a02 = uRe[uo + 2], b02 = uIm[uo + 2], a03 = uRe[uo + 3], b03 = uIm[uo + 3];
      const a10 = uRe[uo + 4], b10 = uIm[uo + 4], a11 = uRe[uo + 5], b11 = uIm[uo + 5], a12 = uRe[uo + 6], b12 = uIm[uo + 6], a13 = uRe[uo + 7], b13 = uIm[uo + 7];
      const a20 = uRe[uo + 8], b20 = uIm[uo + 8], a21 = uRe[uo + 9], b21 = uIm[uo + 9], a22 = uRe[uo + 10], b22 = uIm[uo + 10], a23 = uRe[uo + 11], b23 = uIm[uo + 11];
      const a30 = uRe[uo + 12], b30 = uIm[uo + 12], a31 = uRe[uo + 13], b31 = uIm[uo + 13], a32 = uRe[uo + 14], b32 = uIm[uo + 14], a33 = uRe[uo + 15], b33 = uIm[uo + 15];
      const m0 = 2 * r * B; // plane 0 (m = 0, or y = 0) of this row; plane 1 at m0 + B
      const m1 = m0 + B;
      const ro = r * B;
      const gbase = (J.rowBase + r) * B;
      let last = NaN;
      let w00r = 0, w00i = 0, w01r = 0, w01i = 0, w10r = 0, w10i = 0, w11r = 0, w11i = 0;
      let w20r = 0, w20i = 0, w21r = 0, w21i = 0, w30r = 0, w30i = 0, w31r = 0, w31i = 0;
      for (let j = 0; j < B; j++) {
        const ph = phi[ro + j];
        if (ph !== last) {
          last = ph;
          let c = 1;
          let s = 0;
          if (ph !== 0) {
            const a = 0.5 * ph;
            if (a < 1e8 && a > -1e8) {
              // sincos(a), as in `sincos` (inlined)
              const k = Math.floor(a * TWO_OVER_PI + 0.5);
              const t = a - k * PIO2_HI - k * PIO2_LO;
              const z = t * t;
              const sn = t + t * z * (-1.6666666666666632e-1 + z * (8.33333333332249e-3 + z * (-1.984126982985795e-4 + z * (2.755731370707007e-6 + z * -2.5050760253406863e-8))));
              const cs = 1 - 0.5 * z + z * z * (4.16666666666666e-2 + z * (-1.388888888887411e-3 + z * (2.480158728947673e-5 + z * (-2.755731435139066e-7 + z * 2.087572321298175e-9))));
              const ki = k | 0;
              const sw = ki & 1;
              c = (1 - ((ki + 1) & 2)) * (sw * sn + (1 - sw) * cs);
              s = (1 - (ki & 2)) * (sw * cs + (1 - sw) * sn);
            } else {
              c = Math.cos(a);
              s = Math.sin(a);
            }
          }
          // c·(ar + i·ai) − i·s·(br + i·bi) = (c·ar + s·bi) + i·(c·ai − s·br)
          w00r = c * a00 + s * b01; w00i = c * b00 - s * a01; w01r = c * a02 + s * b03; w01i = c * b02 - s * a03;
          w10r = c * a10 + s * b11; w10i = c * b10 - s * a11; w11r = c * a12 + s * b13; w11i = c * b12 - s * a13;
          w20r = c * a20 + s * b21; w20i = c * b20 - s * a21; w21r = c * a22 + s * b23; w21i = c * b22 - s * a23;
          w30r = c * a30 + s * b31; w30i = c * b30 - s * a31; w31r = c * a32 + s * b33; w31i = c * b32 - s * a33;
        }
        const e0r = memRe[m0 + j], e0i = memIm[m0 + j], e1r = memRe[m1 + j], e1i = memIm[m1 + j];
        // ψ[i] for i = y + 2m
        const p0r = w00r * e0r - w00i * e0i + w01r * e1r - w01i * e1i, p0i = w00r * e0i + w00i * e0r + w01r * e1i + w01i * e1r;
        const p1r = w10r * e0r - w10i * e0i + w11r * e1r - w11i * e1i, p1i = w10r * e0i + w10i * e0r + w11r * e1i + w11i * e1r;
        const p2r = w20r * e0r - w20i * e0i + w21r * e1r - w21i * e1i, p2i = w20r * e0i + w20i * e0r + w21r * e1i + w21i * e1r;
        const p3r = w30r * e0r - w30i * e0i + w31r * e1r - w31i * e1i, p3i = w30r * e0i + w30i * e0r + w31r * e1i + w31i * e1r;
        const q0 = p0r * p0r + p0i * p0i + p2r * p2r + p2i * p2i;
        const q1 = p1r * p1r + p1i * p1i + p3r * p3r + p3i * p3i;
        probs[m0 + j] = q0;
        probs[m1 + j] = q1;
        let f0: number, f1: number;
        if (mode === 2) {
          f0 = forced[m0 + j];
          f1 = forced[m1 + j];
        } else {
          const u = mode === 1 ? uniformAt(k1, k2, gbase + j) : uni[ro + j];
          f1 = +(q0 <= u * (q0 + q1));
          f0 = 1 - f1;
          oneHot[m0 + j] = f0;
          oneHot[m1 + j] = f1;
        }
        // branch[m] = Σ_y f_y ψ[y + 2m] (one-hot f: the outcome's amplitudes)
        const g0r = f0 * p0r + f1 * p1r, g0i = f0 * p0i + f1 * p1i, g1r = f0 * p2r + f1 * p3r, g1i = f0 * p2i + f1 * p3i;
        const pr = mode === 2 ? g0r * g0r + g0i * g0i + g1r * g1r + g1i * g1i : f0 * q0 + f1 * q1;
        const nrm = 1 / Math.sqrt(pr > TINY ? pr : TINY);
        outRe[m0 + j] = g0r * nrm;
        outIm[m0 + j] = g0i * nrm;
        outRe[m1 + j] = g1r * nrm;
        outIm[m1 + j] = g1i * nrm;
        prob[ro + j] = pr;
      }
    }
  }

  // Scratch for the general loops, grown on demand (never inside the sample loop).
  let wr = new Float64Array(0); // W[i·dm + m] = Σ_y U[i][y + K·m]·amp[y], re
  let wi = new Float64Array(0); // … im
  let ps = new Float64Array(0); // ψ, interleaved re/im
  let ev = new Float64Array(0); // memory amplitudes of one sample, interleaved re/im
  let amp = new Float64Array(0); // IO amplitudes, interleaved re/im
  let pk = new Float64Array(0); // outcome probabilities
  let lastPhi = new Float64Array(0);
  function ensure(D: number, K: number, N: number, dm: number): void {
    if (wr.length < D * dm) {
      wr = new Float64Array(D * dm);
      wi = new Float64Array(D * dm);
    }
    if (ps.length < 2 * D) ps = new Float64Array(2 * D);
    if (ev.length < 2 * dm) ev = new Float64Array(2 * dm);
    if (amp.length < 2 * K) amp = new Float64Array(2 * K);
    if (pk.length < K) pk = new Float64Array(K);
    if (lastPhi.length < N) lastPhi = new Float64Array(N);
  }

  /**
   * N = 1, any M (D = 2·2^M). Per distinct φ: W[i][m] = c·U[i][2m] − i s·U[i][2m+1] (D × 2^M); per
   * sample ψ = W·mem, two outcome probabilities, an arithmetic draw, the collapsed branch.
   */
  function loopN1(J: FusedJob): void {
    const dm = J.dm, B = J.b, mode = J.mode, k1 = J.k1, k2 = J.k2;
    const D = 2 * dm;
    ensure(D, 2, 1, dm);
    const WR = wr, WI = wi, PS = ps, EV = ev;
    const uRe = J.uRe, uIm = J.uIm, memRe = J.memRe, memIm = J.memIm, phi = J.phi, uni = J.uni, forced = J.forced;
    const probs = J.probs, oneHot = J.oneHot, outRe = J.outRe, outIm = J.outIm, prob = J.prob;
    for (let r = J.r0; r < J.r1; r++) {
      const uo = r * D * D;
      const mo = r * dm * B;
      const ko = r * 2 * B;
      const ro = r * B;
      const gbase = (J.rowBase + r) * B;
      let last = NaN;
      for (let j = 0; j < B; j++) {
        const ph = phi[ro + j];
        if (ph !== last) {
          last = ph;
          let c = 1;
          let s = 0;
          if (ph !== 0) {
            sincos(0.5 * ph);
            c = trig[0];
            s = trig[1];
          }
          for (let i = 0; i < D; i++)
            for (let m = 0; m < dm; m++) {
              const e = uo + i * D + 2 * m;
              WR[i * dm + m] = c * uRe[e] + s * uIm[e + 1];
              WI[i * dm + m] = c * uIm[e] - s * uRe[e + 1];
            }
        }
        for (let m = 0; m < dm; m++) {
          EV[2 * m] = memRe[mo + m * B + j];
          EV[2 * m + 1] = memIm[mo + m * B + j];
        }
        let q0 = 0, q1 = 0;
        // Two rows of W per pass (i even: outcome 0, i + 1: outcome 1), each memory amplitude loaded once.
        for (let i = 0; i < D; i += 2) {
          let s0r = 0, s0i = 0, s1r = 0, s1i = 0;
          const w0 = i * dm;
          const w1 = w0 + dm;
          for (let m = 0; m < dm; m++) {
            const er = EV[2 * m], ei = EV[2 * m + 1];
            const ar = WR[w0 + m], ai = WI[w0 + m], br = WR[w1 + m], bi = WI[w1 + m];
            s0r += ar * er - ai * ei;
            s0i += ar * ei + ai * er;
            s1r += br * er - bi * ei;
            s1i += br * ei + bi * er;
          }
          PS[2 * i] = s0r;
          PS[2 * i + 1] = s0i;
          PS[2 * i + 2] = s1r;
          PS[2 * i + 3] = s1i;
          q0 += s0r * s0r + s0i * s0i;
          q1 += s1r * s1r + s1i * s1i;
        }
        probs[ko + j] = q0;
        probs[ko + B + j] = q1;
        let f0: number, f1: number;
        if (mode === 2) {
          f0 = forced[ko + j];
          f1 = forced[ko + B + j];
        } else {
          const u = mode === 1 ? uniformAt(k1, k2, gbase + j) : uni[ro + j];
          f1 = +(q0 <= u * (q0 + q1));
          f0 = 1 - f1;
          oneHot[ko + j] = f0;
          oneHot[ko + B + j] = f1;
        }
        let pr = 0;
        for (let m = 0; m < dm; m++) {
          const gr = f0 * PS[4 * m] + f1 * PS[4 * m + 2];
          const gi = f0 * PS[4 * m + 1] + f1 * PS[4 * m + 3];
          EV[2 * m] = gr;
          EV[2 * m + 1] = gi;
          pr += gr * gr + gi * gi;
        }
        const nrm = 1 / Math.sqrt(pr > TINY ? pr : TINY);
        for (let m = 0; m < dm; m++) {
          outRe[mo + m * B + j] = EV[2 * m] * nrm;
          outIm[mo + m * B + j] = EV[2 * m + 1] * nrm;
        }
        prob[ro + j] = pr;
      }
    }
  }

  /**
   * Any N, M with D = 2^N·2^M small. Per distinct φ vector: IO amplitudes amp[x] = Π_n (x_n ?
   * −i sin(φ_n/2) : cos(φ_n/2)) and W[i][m] = Σ_y U[i][y + K m]·amp[y]; per sample ψ = W·mem.
   */
  function loopGeneral(J: FusedJob): void {
    const N = J.n, dm = J.dm, B = J.b, mode = J.mode, k1 = J.k1, k2 = J.k2;
    const K = 1 << N;
    const D = K * dm;
    ensure(D, K, N, dm);
    const WR = wr, WI = wi, PS = ps, EV = ev, AMP = amp, PK = pk, LAST = lastPhi;
    const uRe = J.uRe, uIm = J.uIm, memRe = J.memRe, memIm = J.memIm, phi = J.phi, uni = J.uni, forced = J.forced;
    const probs = J.probs, oneHot = J.oneHot, outRe = J.outRe, outIm = J.outIm, prob = J.prob;
    for (let r = J.r0; r < J.r1; r++) {
      const uo = r * D * D;
      const mo = r * dm * B;
      const ko = r * K * B;
      const no = r * N * B;
      const ro = r * B;
      const gbase = (J.rowBase + r) * B;
      LAST.fill(NaN);
      for (let j = 0; j < B; j++) {
        let changed = false;
        for (let q = 0; q < N; q++) {
          const ph = phi[no + q * B + j];
          if (ph !== LAST[q]) {
            LAST[q] = ph;
            changed = true;
          }
        }
        if (changed) {
          AMP[0] = 1;
          AMP[1] = 0;
          for (let q = 0; q < N; q++) {
            const ph = LAST[q];
            let c = 1;
            let s = 0;
            if (ph !== 0) {
              sincos(0.5 * ph);
              c = trig[0];
              s = trig[1];
            }
            const h = 1 << q;
            for (let x = 0; x < h; x++) {
              const ar = AMP[2 * x], ai = AMP[2 * x + 1];
              AMP[2 * (x + h)] = s * ai; // (−i s)·(ar + i ai)
              AMP[2 * (x + h) + 1] = -s * ar;
              AMP[2 * x] = c * ar;
              AMP[2 * x + 1] = c * ai;
            }
          }
          for (let i = 0; i < D; i++)
            for (let m = 0; m < dm; m++) {
              let sr = 0, si = 0;
              const e0 = uo + i * D + K * m;
              for (let y = 0; y < K; y++) {
                const ur = uRe[e0 + y], ui = uIm[e0 + y], ar = AMP[2 * y], ai = AMP[2 * y + 1];
                sr += ur * ar - ui * ai;
                si += ur * ai + ui * ar;
              }
              WR[i * dm + m] = sr;
              WI[i * dm + m] = si;
            }
        }
        for (let m = 0; m < dm; m++) {
          EV[2 * m] = memRe[mo + m * B + j];
          EV[2 * m + 1] = memIm[mo + m * B + j];
        }
        for (let y = 0; y < K; y++) PK[y] = 0;
        // Two rows of W per pass (D is even), each memory amplitude loaded once.
        for (let i = 0; i < D; i += 2) {
          let s0r = 0, s0i = 0, s1r = 0, s1i = 0;
          const w0 = i * dm;
          const w1 = w0 + dm;
          for (let m = 0; m < dm; m++) {
            const er = EV[2 * m], ei = EV[2 * m + 1];
            const ar = WR[w0 + m], ai = WI[w0 + m], br = WR[w1 + m], bi = WI[w1 + m];
            s0r += ar * er - ai * ei;
            s0i += ar * ei + ai * er;
            s1r += br * er - bi * ei;
            s1i += br * ei + bi * er;
          }
          PS[2 * i] = s0r;
          PS[2 * i + 1] = s0i;
          PS[2 * i + 2] = s1r;
          PS[2 * i + 3] = s1i;
          PK[i & (K - 1)] += s0r * s0r + s0i * s0i;
          PK[(i + 1) & (K - 1)] += s1r * s1r + s1i * s1i;
        }
        let tot = 0;
        for (let y = 0; y < K; y++) {
          tot += PK[y];
          probs[ko + y * B + j] = PK[y];
        }
        let pr = 0;
        if (mode === 2) {
          // branch[m] = Σ_y f_y ψ[y + K m]
          for (let m = 0; m < dm; m++) {
            let gr = 0, gi = 0;
            for (let y = 0; y < K; y++) {
              const f = forced[ko + y * B + j];
              const t = 2 * (y + K * m);
              gr += f * PS[t];
              gi += f * PS[t + 1];
            }
            EV[2 * m] = gr;
            EV[2 * m + 1] = gi;
            pr += gr * gr + gi * gi;
          }
        } else {
          const u = mode === 1 ? uniformAt(k1, k2, gbase + j) : uni[ro + j];
          const target = u * tot;
          let cdf = 0;
          let ys = 0;
          for (let y = 0; y < K - 1; y++) {
            cdf += PK[y];
            ys += +(cdf <= target);
          }
          for (let y = 0; y < K; y++) oneHot[ko + y * B + j] = +(y === ys);
          for (let m = 0; m < dm; m++) {
            const t = 2 * (ys + K * m);
            EV[2 * m] = PS[t];
            EV[2 * m + 1] = PS[t + 1];
          }
          pr = PK[ys];
        }
        const nrm = 1 / Math.sqrt(pr > TINY ? pr : TINY);
        for (let m = 0; m < dm; m++) {
          outRe[mo + m * B + j] = EV[2 * m] * nrm;
          outIm[mo + m * B + j] = EV[2 * m + 1] * nrm;
        }
        prob[ro + j] = pr;
      }
    }
  }

  function run(J: FusedJob): void {
    if (J.r1 <= J.r0 || J.b === 0) return;
    if (J.n === 1 && J.dm === 2) loopN1M1(J);
    else if (J.n === 1) loopN1(J);
    else loopGeneral(J);
  }

  return { run, keys, fillUniforms, sincos, trig };
}

const CORE = fusedCore();

/* ------------------------------------------------------------------------------------------------ */
/* Worker threads                                                                                    */
/* ------------------------------------------------------------------------------------------------ */

/** The job arrays, in the order they are laid out in the shared buffer. */
const ARRAY_NAMES = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'] as const;
type ArrayName = (typeof ARRAY_NAMES)[number];
const INPUT_NAMES: ArrayName[] = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced'];
const OUTPUT_NAMES: ArrayName[] = ['probs', 'oneHot', 'outRe', 'outIm', 'prob'];
/** Most chunks one job's worker range is cut into. */
const MAX_CHUNKS = 256;

/**
 * Worker body. A job names arrays in the shared buffer (copies of the rows handed to the workers);
 * workers, and the main thread once its own rows are done, claim chunks of those rows from a shared
 * counter (`jobCtrl[0]`) and mark each chunk done (`jobCtrl[2 + c]`: 1 by a worker, 2 by the main
 * thread), so a descheduled or slow thread never holds up the step. The worker then reports on
 * `ctrl[0]` (1 done, 2 failed) with Atomics.notify.
 */
function workerMain(
  core: FusedCore,
  ctrl: Int32Array,
  jobCtrl: Int32Array,
  port: { on(ev: 'message', f: (m: any) => void): void },
  names: readonly string[],
): void {
  let sab: SharedArrayBuffer | null = null;
  port.on('message', (m: any) => {
    let status = 1;
    try {
      if (m.sab) sab = m.sab;
      const job: any = { ...m.dims };
      for (let i = 0; i < names.length; i++) job[names[i]] = new Float32Array(sab as SharedArrayBuffer, m.offsets[i] * 4, m.lengths[i]);
      for (;;) {
        const c = Atomics.add(jobCtrl, 0, 1);
        if (c >= m.nChunks) break;
        job.r0 = c * m.chunkRows;
        job.r1 = Math.min(m.rows, job.r0 + m.chunkRows);
        core.run(job);
        Atomics.store(jobCtrl, 2 + c, 1);
      }
    } catch {
      status = 2;
    }
    Atomics.store(ctrl, 0, status);
    Atomics.notify(ctrl, 0);
  });
  Atomics.store(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}

function workerSource(): string {
  return [
    "'use strict';",
    "const { parentPort, workerData } = require('worker_threads');",
    `const core = (${fusedCore.toString()})();`,
    `(${workerMain.toString()})(core, new Int32Array(workerData.ctrl), new Int32Array(workerData.jobCtrl), parentPort, workerData.names);`,
  ].join('\n');
}

interface Slot {
  worker: Worker;
  /** [0]: job status (0 running, 1 done, 2 failed); [1]: ready. */
  ctrl: Int32Array;
  /** The shared buffer this worker was last sent. */
  sent: SharedArrayBuffer | null;
}

let slots: Slot[] = [];
let poolBroken = false;
let lastThreadError: string | null = null;
let lastThreadsUsed = 1;
/** Shared job buffer (grown on demand) and chunk control, common to all workers. */
let shared: { sab: SharedArrayBuffer; f32: Float32Array } | null = null;
const jobCtrl = new Int32Array(new SharedArrayBuffer(4 * (2 + MAX_CHUNKS)));
const READY_TIMEOUT_MS = 20000;
const STALL_MS = 10000;

/** Threads the kernel may use: SQSNN_THREADS (1 = no workers), else the number of cores (≤ 8). */
export function fusedThreadCount(): number {
  const env = process.env.SQSNN_THREADS;
  if (env !== undefined && env.trim() !== '') {
    const n = Math.floor(Number(env));
    if (Number.isFinite(n) && n >= 1) return Math.min(n, 16);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}

/**
 * Minimum work (rows × samples × (D² + 16)) before the kernel hands rows to workers:
 * SQSNN_THREAD_MIN_WORK, default 2^19 (≈ 16k samples of the paper neuron, some 0.5 ms of work, against
 * a hand-off of about 0.05 ms plus the copies).
 */
export function fusedThreadMinWork(): number {
  const env = process.env.SQSNN_THREAD_MIN_WORK;
  if (env !== undefined && env.trim() !== '' && Number(env) >= 0) return Number(env);
  return 1 << 19;
}

function markBroken(reason: string): void {
  lastThreadError = reason;
  poolBroken = true;
  for (const s of slots) void s.worker.terminate();
  slots = [];
}

/** Worker slots (created lazily, once, then reused), or [] when threads are unavailable. */
function getSlots(wanted: number): Slot[] {
  if (poolBroken) return [];
  while (slots.length < wanted) {
    const ctrl = new Int32Array(new SharedArrayBuffer(8));
    let worker: Worker;
    try {
      worker = new Worker(workerSource(), { eval: true, workerData: { ctrl: ctrl.buffer, jobCtrl: jobCtrl.buffer, names: ARRAY_NAMES } });
    } catch (e) {
      markBroken(`worker could not start: ${(e as Error).message}`);
      return [];
    }
    worker.unref();
    worker.on('error', (e) => {
      lastThreadError = `worker error: ${(e as Error).message}`;
    });
    // Wait until the worker has compiled the core (or give up on threads for this process).
    const t0 = Date.now();
    while (Atomics.load(ctrl, 1) === 0 && Date.now() - t0 < READY_TIMEOUT_MS) Atomics.wait(ctrl, 1, 0, 50);
    if (Atomics.load(ctrl, 1) !== 1) {
      void worker.terminate();
      markBroken(lastThreadError ?? 'worker did not start in time');
      return [];
    }
    slots.push({ worker, ctrl, sent: null });
  }
  return slots.slice(0, wanted);
}

/** Terminate the worker threads (they are unref'd and never keep the process alive anyway). */
export async function shutdownFusedThreads(): Promise<void> {
  const old = slots;
  slots = [];
  await Promise.all(old.map((s) => s.worker.terminate()));
}

export interface FusedThreadInfo {
  /** Threads the kernel would use for a large step. */
  threads: number;
  workersAlive: number;
  /** Threads used by the last kernel call. */
  lastThreadsUsed: number;
  minWork: number;
  /** Share of rows the main thread takes before claiming chunks of the workers' rows. */
  mainShare: number;
  broken: boolean;
  lastError: string | null;
}

export function fusedThreadInfo(): FusedThreadInfo {
  return {
    threads: poolBroken ? 1 : fusedThreadCount(),
    workersAlive: slots.length,
    lastThreadsUsed,
    minWork: fusedThreadMinWork(),
    mainShare,
    broken: poolBroken,
    lastError: lastThreadError,
  };
}

/** Per-row element counts of each job array. */
function rowSizes(n: number, dm: number, b: number, mode: number): Record<ArrayName, number> {
  const k = 1 << n;
  const d = k * dm;
  return {
    uRe: d * d,
    uIm: d * d,
    memRe: dm * b,
    memIm: dm * b,
    phi: n * b,
    uni: mode === 0 ? b : 0,
    forced: mode === 2 ? k * b : 0,
    probs: k * b,
    oneHot: mode === 2 ? 0 : k * b,
    outRe: dm * b,
    outIm: dm * b,
    prob: b,
  };
}

/**
 * Share of the rows the main thread computes directly from the backend's arrays, before it joins the
 * workers on the rest. It also copies the workers' rows in and out, so it should take less than an
 * equal share; adapted so that it claims about one chunk of the workers' rows per step.
 * (Rows are independent: the split never changes a result.)
 */
let mainShare = 0.4;

/** Run the job on all rows, splitting them across threads when worth it. */
function runJob(job: FusedJob, rows: number): void {
  const d = (1 << job.n) * job.dm;
  const work = rows * job.b * (d * d + 16);
  const threads = Math.min(fusedThreadCount(), rows);
  const pool = threads > 1 && work >= fusedThreadMinWork() ? getSlots(threads - 1) : [];
  if (pool.length === 0) {
    lastThreadsUsed = 1;
    CORE.run({ ...job, r0: 0, r1: rows });
    return;
  }
  const nw = pool.length;
  const mainRows = Math.max(0, Math.min(rows - 1, Math.round(rows * Math.min(mainShare, 1 / (nw + 1)))));
  const wRows = rows - mainRows;
  const chunkRows = Math.max(1, Math.ceil(wRows / Math.min(MAX_CHUNKS, 12 * (nw + 1))));
  const nChunks = Math.ceil(wRows / chunkRows);
  const per = rowSizes(job.n, job.dm, job.b, job.mode);

  // Lay out copies of the workers' rows in the shared buffer.
  const offsets: number[] = [];
  const lengths: number[] = [];
  let total = 0;
  for (const name of ARRAY_NAMES) {
    const len = per[name] * wRows;
    offsets.push(total);
    lengths.push(len);
    total += len + ((16 - (len % 16)) % 16); // 64-byte aligned views
  }
  if (!shared || shared.f32.length < total) {
    const sab = new SharedArrayBuffer(Math.ceil(total * 1.25 + 1024) * 4);
    shared = { sab, f32: new Float32Array(sab) };
  }
  const f32 = shared.f32;
  ARRAY_NAMES.forEach((name, i) => {
    if (INPUT_NAMES.includes(name) && lengths[i] > 0) f32.set(job[name].subarray(mainRows * per[name], rows * per[name]), offsets[i]);
  });
  jobCtrl.fill(0, 0, 2 + nChunks);
  const dims = { n: job.n, dm: job.dm, b: job.b, rowBase: job.rowBase + mainRows, mode: job.mode, k1: job.k1, k2: job.k2 };
  for (const slot of pool) {
    Atomics.store(slot.ctrl, 0, 0);
    const sab = slot.sent === shared.sab ? null : shared.sab;
    slot.worker.postMessage({ sab, dims, offsets, lengths, rows: wRows, chunkRows, nChunks });
    slot.sent = shared.sab;
  }

  // Own rows, then chunks of the workers' rows that no worker has claimed yet.
  const t0 = performance.now();
  CORE.run({ ...job, r0: 0, r1: mainRows });
  const msPerRow = mainRows > 0 ? (performance.now() - t0) / mainRows : 0;
  let stolen = 0;
  for (;;) {
    const c = Atomics.add(jobCtrl, 0, 1);
    if (c >= nChunks) break;
    CORE.run({ ...job, r0: mainRows + c * chunkRows, r1: mainRows + Math.min(wRows, (c + 1) * chunkRows) });
    Atomics.store(jobCtrl, 2 + c, 2);
    stolen++;
  }

  // Wait for the workers. A worker that makes no progress for much longer than a chunk takes (it
  // died, or hangs) is given up on: its unfinished chunks are redone below and threads are switched
  // off for this process (the main thread cannot receive a worker's 'exit' event while it waits).
  const stallMs = Math.max(STALL_MS, 50 * msPerRow * chunkRows);
  let broken: string | null = null;
  for (const slot of pool) {
    let status = Atomics.load(slot.ctrl, 0);
    let done = -1;
    let lastProgress = Date.now();
    while (status === 0) {
      Atomics.wait(slot.ctrl, 0, 0, 20);
      status = Atomics.load(slot.ctrl, 0);
      if (status !== 0) break;
      let d = 0;
      for (let c = 0; c < nChunks; c++) if (Atomics.load(jobCtrl, 2 + c) !== 0) d++;
      const now = Date.now();
      if (d !== done) {
        done = d;
        lastProgress = now;
      } else if (now - lastProgress > stallMs) break;
    }
    if (status !== 1) broken = status === 0 ? 'a worker stopped making progress' : 'a worker failed on a job';
  }
  if (broken) markBroken(broken);
  // Copy back what the workers did; redo here any chunk a failed worker left unfinished.
  for (let c = 0; c < nChunks; c++) {
    const lr0 = c * chunkRows;
    const lr1 = Math.min(wRows, lr0 + chunkRows);
    const owner = Atomics.load(jobCtrl, 2 + c);
    if (owner === 1) {
      ARRAY_NAMES.forEach((name, i) => {
        if (!OUTPUT_NAMES.includes(name) || lengths[i] === 0) return;
        const p = per[name];
        job[name].set(f32.subarray(offsets[i] + lr0 * p, offsets[i] + lr1 * p), (mainRows + lr0) * p);
      });
    } else if (owner !== 2) CORE.run({ ...job, r0: mainRows + lr0, r1: mainRows + lr1 });
  }
  lastThreadsUsed = nw + 1;
  if (nw === 1 && !broken) {
    // Aim at claiming about one chunk: more means the main share was too small, none too large.
    if (stolen > 1) mainShare = Math.min(0.5, mainShare + (0.5 * (stolen - 1) * chunkRows) / rows);
    else if (stolen === 0) mainShare = Math.max(0.1, mainShare - 0.01);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* The tfjs kernel                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fail(msg: string): never {
  throw new Error(`${FUSED_KERNEL_NAME}: ${msg}`);
}

function makeKernel(backendName: 'cpu' | 'wasm') {
  return (args: { inputs: Record<string, Info>; attrs?: Record<string, unknown>; backend: unknown }): Info[] => {
    const { inputs, attrs } = args;
    const backend = args.backend as any;
    const mode = Number(attrs?.mode ?? 0);
    const seed = Number(attrs?.seed ?? 0);
    const { uRe, uIm, memRe, memIm, phi } = inputs;
    const [rows, dm, b] = memRe.shape;
    const n = phi.shape[1];
    const k = 2 ** n;
    const d = k * dm;
    if (memRe.shape.length !== 3 || phi.shape.length !== 3 || phi.shape[0] !== rows || phi.shape[2] !== b)
      fail(`mem [R, 2^M, B] ${JSON.stringify(memRe.shape)} and phi [R, N, B] ${JSON.stringify(phi.shape)} do not agree`);
    if (size(memIm.shape) !== size(memRe.shape)) fail('mem re and im differ in shape');
    if (uRe.shape.length !== 3 || uRe.shape[0] !== rows || uRe.shape[1] !== d || uRe.shape[2] !== d || size(uIm.shape) !== size(uRe.shape))
      fail(`unitary ${JSON.stringify(uRe.shape)} is not [R, D, D] with R = ${rows}, D = 2^N·2^M = ${d}`);
    if (d > FUSED_MAX_DIM) fail(`D = ${d} is above ${FUSED_MAX_DIM}`);
    const extra = mode === 0 ? inputs.uniforms : mode === 2 ? inputs.forced : undefined;
    if (mode === 0 && (!extra || size(extra.shape) !== rows * b)) fail('uniforms must have R·B elements');
    if (mode === 2 && (!extra || size(extra.shape) !== rows * k * b)) fail('forced must be [R, 2^N, B]');
    for (const t of [uRe, uIm, memRe, memIm, phi, ...(extra ? [extra] : [])]) if (t.dtype !== 'float32') fail(`inputs must be float32, got ${t.dtype}`);

    const outShapes: number[][] = [[rows, k, b], ...(mode === 2 ? [] : [[rows, k, b]]), [rows, dm, b], [rows, dm, b], [rows, b]];
    let outInfos: Info[];
    let outArrays: Float32Array[];
    let read: (t: Info) => Float32Array;
    if (backendName === 'wasm') {
      // Allocate first: malloc may grow the heap, which detaches earlier views.
      outInfos = outShapes.map((s) => backend.makeOutput(s, 'float32'));
      outArrays = outInfos.map((t) => backend.typedArrayFromHeap(t));
      read = (t) => backend.typedArrayFromHeap(t);
    } else {
      outArrays = outShapes.map((s) => new Float32Array(size(s)));
      outInfos = outShapes.map((s, i) => backend.makeTensorInfo(s, 'float32', outArrays[i]));
      read = (t) => backend.readSync(t.dataId) as Float32Array;
    }
    const empty = new Float32Array(0);
    const [k1, k2] = mode === 1 ? CORE.keys(seed) : [0, 0];
    const o = mode === 2 ? [outArrays[0], empty, outArrays[1], outArrays[2], outArrays[3]] : outArrays;
    const job: FusedJob = {
      n, dm, b, r0: 0, r1: rows, rowBase: 0, mode, k1, k2,
      uRe: read(uRe), uIm: read(uIm), memRe: read(memRe), memIm: read(memIm), phi: read(phi),
      uni: mode === 0 ? read(extra as Info) : empty,
      forced: mode === 2 ? read(extra as Info) : empty,
      probs: o[0], oneHot: o[1], outRe: o[2], outIm: o[3], prob: o[4],
    };
    runJob(job, rows);
    return outInfos;
  };
}

let registered = false;
function ensureRegistered(): void {
  if (registered) return;
  for (const name of FUSED_BACKENDS)
    if (!tf.getKernel(FUSED_KERNEL_NAME, name))
      tf.registerKernel({ kernelName: FUSED_KERNEL_NAME, backendName: name, kernelFunc: makeKernel(name) as unknown as tf.KernelFunc });
  registered = true;
}
ensureRegistered();

/* ------------------------------------------------------------------------------------------------ */
/* The op                                                                                            */
/* ------------------------------------------------------------------------------------------------ */

/** Whether the fused kernel runs a register of dimension D (or this circuit) on this backend. */
export function fusedSupported(circuitOrDim: Circuit | number, backendName: string = tf.getBackend()): boolean {
  const d = typeof circuitOrDim === 'number' ? circuitOrDim : circuitOrDim.dim;
  return Number.isInteger(d) && d >= 2 && d <= FUSED_MAX_DIM && (FUSED_BACKENDS as readonly string[]).includes(backendName);
}

/** The uniforms [R, B] the kernel draws for `seed`: hand these to `sqsStep` to get the same outcomes. */
export function seededUniforms(seed: number, rows: number, batch: number): Tensor {
  const [k1, k2] = CORE.keys(seed);
  const out = new Float32Array(rows * batch);
  CORE.fillUniforms(out, k1, k2, 0, rows * batch);
  return tf.tensor2d(out, [rows, batch]);
}

function checkChoice(x: FusedStepInput): void {
  const given = [x.uniforms !== undefined, x.seed !== undefined, x.forced !== undefined].filter(Boolean).length;
  if (given !== 1) throw new Error('fusedSqsStep needs exactly one of uniforms, seed, forced');
  if (x.seed !== undefined && !Number.isInteger(x.seed)) throw new Error(`seed must be an integer, got ${x.seed}`);
}

function shapeCircuit(x: FusedStepInput): Circuit {
  if (x.circuit) return x.circuit;
  const n = x.phi.shape[1] as number;
  const m = Math.round(Math.log2(x.mem.re.shape[1] as number));
  return compileCircuit({ ioQubits: n, memoryQubits: m, layers: [] });
}

/** The composed ops (any backend, any D): `sqsStep` with the same inputs, psi dropped. */
export function composedStep(x: FusedStepInput): FusedStepOutput {
  checkChoice(x);
  return tf.tidy(() => {
    const [rows, , batch] = x.mem.re.shape as number[];
    const uniforms = x.seed !== undefined ? seededUniforms(x.seed, rows, batch) : x.uniforms;
    const out = sqsStep({ circuit: shapeCircuit(x), unitary: x.unitary, mem: x.mem, phi: x.phi, uniforms, forced: x.forced });
    return { probs: out.probs, oneHot: out.oneHot, mem: out.mem, prob: out.prob } as any;
  }) as unknown as FusedStepOutput;
}

/** Whether tfjs is recording a gradient tape here (inside tf.grad / variableGrads / customGrad forward). */
function recordingGradients(): boolean {
  const e = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof e.isTapeOn === 'function' ? e.isTapeOn() : false;
}

/**
 * One SQS step: the fused kernel on cpu/wasm for D ≤ 64, the composed `sqsStep` elsewhere. Outputs
 * as `sqsStep` (without psi). The kernel has no gradient, so while tfjs records a gradient tape
 * (inside `tf.grad`, `variableGrads`, …) the composed ops run instead, and gradients flow as usual.
 */
export function fusedSqsStep(x: FusedStepInput): FusedStepOutput {
  checkChoice(x);
  const d = x.unitary.re.shape[1] as number;
  if (!fusedSupported(d) || recordingGradients()) return composedStep(x);
  ensureRegistered();
  const casts: Tensor[] = [];
  const f32 = (t: Tensor): Tensor => {
    if (t.dtype === 'float32') return t;
    const c = tf.cast(t, 'float32');
    casts.push(c);
    return c;
  };
  const inputs: Record<string, Tensor> = {
    uRe: f32(x.unitary.re),
    uIm: f32(x.unitary.im),
    memRe: f32(x.mem.re),
    memIm: f32(x.mem.im),
    phi: f32(x.phi),
  };
  let mode = 0;
  if (x.forced !== undefined) {
    mode = 2;
    inputs.forced = f32(x.forced);
  } else if (x.seed !== undefined) mode = 1;
  else inputs.uniforms = f32(x.uniforms as Tensor);
  const outs = tf.engine().runKernel(FUSED_KERNEL_NAME, inputs as any, { mode, seed: x.seed ?? 0 }) as unknown as Tensor[];
  for (const c of casts) c.dispose();
  if (mode === 2) return { probs: outs[0], oneHot: x.forced as Tensor, mem: { re: outs[1], im: outs[2] }, prob: outs[3] };
  return { probs: outs[0], oneHot: outs[1], mem: { re: outs[2], im: outs[3] }, prob: outs[4] };
}
