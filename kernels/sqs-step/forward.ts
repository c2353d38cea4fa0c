/**
 * The forward compute loops of one SQS step (encode, evolve with the per-row unitary, outcome
 * probabilities, sample or force, collapse, renormalise) on typed arrays, with no allocation inside
 * the sample loop. Pure: no tfjs, no environment, no threads — the main thread and the worker
 * threads (./worker.ts) run this same module.
 *
 * Uniforms come from a tensor, or from an integer seed through a counter-based hash of
 * (seed, r·B + b): the draws do not depend on how rows are split across threads.
 *
 * The paper neuron (N = 1, M = 1) runs the WebAssembly SIMD kernel of ./simd when `simd` is on and the
 * runtime has WebAssembly SIMD; `loopN1M1` below is its fallback and its reference.
 */
import { uniformAt } from '../counter-hash';
import { runSimdN1M1, WasmMemory } from './simd';

export { fillUniforms, streamKeys } from '../counter-hash';

/** Arrays and dimensions of one step; rows r0..r1 of the arrays are computed. */
export interface ForwardJob {
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
  /** Take the unrolled N = 1 loops where they apply (false: the general loop only). */
  specialise: boolean;
  /** With `specialise`, run N = 1, M = 1 through the WebAssembly SIMD kernel where available. */
  simd: boolean;
  /** The WebAssembly memory the arrays live in (the wasm backend's heap): the SIMD kernel uses them in place. */
  heap?: WasmMemory | null;
}

const PIO2_HI = 1.5707963267341256;
const PIO2_LO = 6.077100506506192e-11;
const TWO_OVER_PI = 0.6366197723675814;
/** Floor of a branch probability before renormalising (as the composed ops' tf.maximum). */
export const TINY = 1e-30;
// cos/sin of φ/2 for the general loops (the N=1 loops inline the same code).
export const trig = new Float64Array(2);

/** trig[0] = cos(a), trig[1] = sin(a): minimax polynomials after a two-part reduction by π/2 (error ≈ 1e−16 for
 * |a| < 1e6, far below float32 resolution up to 1e8); `Math.cos/sin` beyond. About 3× faster than the two calls. */
export function sincos(a: number): void {
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
function loopN1M1(J: ForwardJob): void {
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

/** Rows r0..r1 with the scalar loop (the rows the SIMD kernel leaves to it). */
function scalarRowsN1M1(J: ForwardJob, r0: number, r1: number): void {
  loopN1M1({ ...J, r0, r1 });
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
function loopN1(J: ForwardJob): void {
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
function loopGeneral(J: ForwardJob): void {
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

/** Computes rows J.r0..J.r1 of one step. */
export function runForward(J: ForwardJob): void {
  if (J.r1 <= J.r0 || J.b === 0) return;
  if (J.specialise && J.n === 1 && J.dm === 2) {
    if (!(J.simd && runSimdN1M1(J, scalarRowsN1M1))) loopN1M1(J);
  } else if (J.specialise && J.n === 1) loopN1(J);
  else loopGeneral(J);
}
