/**
 * The backward compute loops of one SQS step with N = 1 IO qubit and D = 2·2^M: from the saved
 * inputs, the outcome one-hot and the cotangents of (probs, mem', prob), the cotangents of U (re, im),
 * the memory (re, im) and φ. ψ is recomputed per sample. Pure: no tfjs, no environment, no threads.
 * The derivation is in ./README.md.
 */
import { TINY, sincos, trig } from './forward';

/** Arrays of one backward step: saved inputs, outcome, output cotangents, and the input cotangents written. */
export interface BackwardJob {
  dm: number;
  b: number;
  uRe: Float32Array;
  uIm: Float32Array;
  memRe: Float32Array;
  memIm: Float32Array;
  phi: Float32Array;
  /** Outcome one-hot [R, 2, B]. */
  outcome: Float32Array;
  dProbs: Float32Array;
  dMemRe: Float32Array;
  dMemIm: Float32Array;
  dProb: Float32Array;
  gURe: Float32Array;
  gUIm: Float32Array;
  gMemRe: Float32Array;
  gMemIm: Float32Array;
  gPhi: Float32Array;
  /** Take the unrolled D = 4 loop where it applies (false: the general loop only). */
  specialise: boolean;
}

// Scratch, grown on demand (never inside the sample loop).
let WR = new Float64Array(0); // W[i·dm + m], re
let WI = new Float64Array(0);
let VR = new Float64Array(0); // W' = ∂W/∂φ, re
let VI = new Float64Array(0);
let GR = new Float64Array(0); // Ū accumulators of one row, [i·D + j]
let GI = new Float64Array(0);
let PR = new Float64Array(0); // ψ, then ψ̄
let PI = new Float64Array(0);
let QR = new Float64Array(0); // ψ̄
let QI = new Float64Array(0);
let ER = new Float64Array(0); // memory amplitudes of one sample
let EI = new Float64Array(0);
let BR = new Float64Array(0); // ḃ
let BI = new Float64Array(0);

function ensureScratch(D: number, dm: number): void {
  if (WR.length < D * dm) {
    WR = new Float64Array(D * dm);
    WI = new Float64Array(D * dm);
    VR = new Float64Array(D * dm);
    VI = new Float64Array(D * dm);
  }
  if (GR.length < D * D) {
    GR = new Float64Array(D * D);
    GI = new Float64Array(D * D);
  }
  if (PR.length < D) {
    PR = new Float64Array(D);
    PI = new Float64Array(D);
    QR = new Float64Array(D);
    QI = new Float64Array(D);
  }
  if (ER.length < dm) {
    ER = new Float64Array(dm);
    EI = new Float64Array(dm);
    BR = new Float64Array(dm);
    BI = new Float64Array(dm);
  }
}


/** The paper neuron (N = 1, M = 1, D = 4): `gradRows` with everything in locals. */
function gradRowsM1(J: BackwardJob, r0: number, r1: number): void {
  const B = J.b;
  const uRe = J.uRe, uIm = J.uIm, memRe = J.memRe, memIm = J.memIm, phi = J.phi, outcome = J.outcome;
  const dProbs = J.dProbs, dMemRe = J.dMemRe, dMemIm = J.dMemIm, dProb = J.dProb;
  const gURe = J.gURe, gUIm = J.gUIm, gMemRe = J.gMemRe, gMemIm = J.gMemIm, gPhi = J.gPhi;
  const SQ = 1 / Math.sqrt(TINY);
  for (let r = r0; r < r1; r++) {
    const uo = r * 16;
    const a00 = uRe[uo], b00 = uIm[uo], a01 = uRe[uo + 1], b01 = uIm[uo + 1], a02 = uRe[uo + 2], b02 = uIm[uo + 2], a03 = uRe[uo + 3], b03 = uIm[uo + 3];
    const a10 = uRe[uo + 4], b10 = uIm[uo + 4], a11 = uRe[uo + 5], b11 = uIm[uo + 5], a12 = uRe[uo + 6], b12 = uIm[uo + 6], a13 = uRe[uo + 7], b13 = uIm[uo + 7];
    const a20 = uRe[uo + 8], b20 = uIm[uo + 8], a21 = uRe[uo + 9], b21 = uIm[uo + 9], a22 = uRe[uo + 10], b22 = uIm[uo + 10], a23 = uRe[uo + 11], b23 = uIm[uo + 11];
    const a30 = uRe[uo + 12], b30 = uIm[uo + 12], a31 = uRe[uo + 13], b31 = uIm[uo + 13], a32 = uRe[uo + 14], b32 = uIm[uo + 14], a33 = uRe[uo + 15], b33 = uIm[uo + 15];
    const m0 = 2 * r * B; // plane 0 (m = 0, or y = 0) of this row; plane 1 at m0 + B
    const m1 = m0 + B;
    const ro = r * B;
    // Ū accumulators, per (i, m): A = Σ c·ψ̄_i conj(e_m) → Ū[i][2m]; S = Σ s·ψ̄_i conj(e_m) → Ū[i][2m+1] = i·S.
    let A00r = 0, A00i = 0, A01r = 0, A01i = 0, A10r = 0, A10i = 0, A11r = 0, A11i = 0;
    let A20r = 0, A20i = 0, A21r = 0, A21i = 0, A30r = 0, A30i = 0, A31r = 0, A31i = 0;
    let S00r = 0, S00i = 0, S01r = 0, S01i = 0, S10r = 0, S10i = 0, S11r = 0, S11i = 0;
    let S20r = 0, S20i = 0, S21r = 0, S21i = 0, S30r = 0, S30i = 0, S31r = 0, S31i = 0;
    let last = NaN;
    let c = 1, s = 0;
    let w00r = 0, w00i = 0, w01r = 0, w01i = 0, w10r = 0, w10i = 0, w11r = 0, w11i = 0;
    let w20r = 0, w20i = 0, w21r = 0, w21i = 0, w30r = 0, w30i = 0, w31r = 0, w31i = 0;
    let v00r = 0, v00i = 0, v01r = 0, v01i = 0, v10r = 0, v10i = 0, v11r = 0, v11i = 0;
    let v20r = 0, v20i = 0, v21r = 0, v21i = 0, v30r = 0, v30i = 0, v31r = 0, v31i = 0;
    for (let j = 0; j < B; j++) {
      const ph = phi[ro + j];
      if (ph !== last) {
        last = ph;
        sincos(0.5 * ph);
        c = trig[0];
        s = trig[1];
        const hc = 0.5 * c, hs = 0.5 * s;
        // W = c·U[:, 2m] − i s·U[:, 2m+1]; V = ∂W/∂φ = −(s/2)·U[:, 2m] − i (c/2)·U[:, 2m+1]
        w00r = c * a00 + s * b01; w00i = c * b00 - s * a01; w01r = c * a02 + s * b03; w01i = c * b02 - s * a03;
        w10r = c * a10 + s * b11; w10i = c * b10 - s * a11; w11r = c * a12 + s * b13; w11i = c * b12 - s * a13;
        w20r = c * a20 + s * b21; w20i = c * b20 - s * a21; w21r = c * a22 + s * b23; w21i = c * b22 - s * a23;
        w30r = c * a30 + s * b31; w30i = c * b30 - s * a31; w31r = c * a32 + s * b33; w31i = c * b32 - s * a33;
        v00r = -hs * a00 + hc * b01; v00i = -hs * b00 - hc * a01; v01r = -hs * a02 + hc * b03; v01i = -hs * b02 - hc * a03;
        v10r = -hs * a10 + hc * b11; v10i = -hs * b10 - hc * a11; v11r = -hs * a12 + hc * b13; v11i = -hs * b12 - hc * a13;
        v20r = -hs * a20 + hc * b21; v20i = -hs * b20 - hc * a21; v21r = -hs * a22 + hc * b23; v21i = -hs * b22 - hc * a23;
        v30r = -hs * a30 + hc * b31; v30i = -hs * b30 - hc * a31; v31r = -hs * a32 + hc * b33; v31i = -hs * b32 - hc * a33;
      }
      const e0r = memRe[m0 + j], e0i = memIm[m0 + j], e1r = memRe[m1 + j], e1i = memIm[m1 + j];
      // ψ = W·e, i = y + 2m
      const p0r = w00r * e0r - w00i * e0i + w01r * e1r - w01i * e1i, p0i = w00r * e0i + w00i * e0r + w01r * e1i + w01i * e1r;
      const p1r = w10r * e0r - w10i * e0i + w11r * e1r - w11i * e1i, p1i = w10r * e0i + w10i * e0r + w11r * e1i + w11i * e1r;
      const p2r = w20r * e0r - w20i * e0i + w21r * e1r - w21i * e1i, p2i = w20r * e0i + w20i * e0r + w21r * e1i + w21i * e1r;
      const p3r = w30r * e0r - w30i * e0i + w31r * e1r - w31i * e1i, p3i = w30r * e0i + w30i * e0r + w31r * e1i + w31i * e1r;
      const f0 = outcome[m0 + j], f1 = outcome[m1 + j];
      const g0r = f0 * p0r + f1 * p1r, g0i = f0 * p0i + f1 * p1i, g1r = f0 * p2r + f1 * p3r, g1i = f0 * p2i + f1 * p3i;
      const P = g0r * g0r + g0i * g0i + g1r * g1r + g1i * g1i;
      const d0r = dMemRe[m0 + j], d0i = dMemIm[m0 + j], d1r = dMemRe[m1 + j], d1i = dMemIm[m1 + j];
      let nrm = SQ, k = 0;
      if (P >= TINY) {
        nrm = 1 / Math.sqrt(P);
        k = (d0r * g0r + d0i * g0i + d1r * g1r + d1i * g1i) * nrm * nrm * nrm;
      }
      const kk = 2 * dProb[ro + j] - k;
      // ḃ
      const h0r = d0r * nrm + g0r * kk, h0i = d0i * nrm + g0i * kk, h1r = d1r * nrm + g1r * kk, h1i = d1i * nrm + g1i * kk;
      // ψ̄
      const q0 = 2 * dProbs[m0 + j], q1 = 2 * dProbs[m1 + j];
      const s0r = p0r * q0 + f0 * h0r, s0i = p0i * q0 + f0 * h0i;
      const s1r = p1r * q1 + f1 * h0r, s1i = p1i * q1 + f1 * h0i;
      const s2r = p2r * q0 + f0 * h1r, s2i = p2i * q0 + f0 * h1i;
      const s3r = p3r * q1 + f1 * h1r, s3i = p3i * q1 + f1 * h1i;
      // ē = W^†ψ̄
      gMemRe[m0 + j] = w00r * s0r + w00i * s0i + w10r * s1r + w10i * s1i + w20r * s2r + w20i * s2i + w30r * s3r + w30i * s3i;
      gMemIm[m0 + j] = w00r * s0i - w00i * s0r + w10r * s1i - w10i * s1r + w20r * s2i - w20i * s2r + w30r * s3i - w30i * s3r;
      gMemRe[m1 + j] = w01r * s0r + w01i * s0i + w11r * s1r + w11i * s1i + w21r * s2r + w21i * s2i + w31r * s3r + w31i * s3i;
      gMemIm[m1 + j] = w01r * s0i - w01i * s0r + w11r * s1i - w11i * s1r + w21r * s2i - w21i * s2r + w31r * s3i - w31i * s3r;
      // φ̄ = Re⟨ψ̄, V·e⟩
      const t0r = v00r * e0r - v00i * e0i + v01r * e1r - v01i * e1i, t0i = v00r * e0i + v00i * e0r + v01r * e1i + v01i * e1r;
      const t1r = v10r * e0r - v10i * e0i + v11r * e1r - v11i * e1i, t1i = v10r * e0i + v10i * e0r + v11r * e1i + v11i * e1r;
      const t2r = v20r * e0r - v20i * e0i + v21r * e1r - v21i * e1i, t2i = v20r * e0i + v20i * e0r + v21r * e1i + v21i * e1r;
      const t3r = v30r * e0r - v30i * e0i + v31r * e1r - v31i * e1i, t3i = v30r * e0i + v30i * e0r + v31r * e1i + v31i * e1r;
      gPhi[ro + j] = s0r * t0r + s0i * t0i + s1r * t1r + s1i * t1i + s2r * t2r + s2i * t2i + s3r * t3r + s3i * t3i;
      // Ū: ψ̄_i conj(e_m) = (sr·er + si·ei) + i (si·er − sr·ei), scaled by c (→ A) and s (→ S)
      const c0r = c * e0r, c0i = c * e0i, c1r = c * e1r, c1i = c * e1i;
      const z0r = s * e0r, z0i = s * e0i, z1r = s * e1r, z1i = s * e1i;
      A00r += s0r * c0r + s0i * c0i; A00i += s0i * c0r - s0r * c0i; A01r += s0r * c1r + s0i * c1i; A01i += s0i * c1r - s0r * c1i;
      A10r += s1r * c0r + s1i * c0i; A10i += s1i * c0r - s1r * c0i; A11r += s1r * c1r + s1i * c1i; A11i += s1i * c1r - s1r * c1i;
      A20r += s2r * c0r + s2i * c0i; A20i += s2i * c0r - s2r * c0i; A21r += s2r * c1r + s2i * c1i; A21i += s2i * c1r - s2r * c1i;
      A30r += s3r * c0r + s3i * c0i; A30i += s3i * c0r - s3r * c0i; A31r += s3r * c1r + s3i * c1i; A31i += s3i * c1r - s3r * c1i;
      S00r += s0r * z0r + s0i * z0i; S00i += s0i * z0r - s0r * z0i; S01r += s0r * z1r + s0i * z1i; S01i += s0i * z1r - s0r * z1i;
      S10r += s1r * z0r + s1i * z0i; S10i += s1i * z0r - s1r * z0i; S11r += s1r * z1r + s1i * z1i; S11i += s1i * z1r - s1r * z1i;
      S20r += s2r * z0r + s2i * z0i; S20i += s2i * z0r - s2r * z0i; S21r += s2r * z1r + s2i * z1i; S21i += s2i * z1r - s2r * z1i;
      S30r += s3r * z0r + s3i * z0i; S30i += s3i * z0r - s3r * z0i; S31r += s3r * z1r + s3i * z1i; S31i += s3i * z1r - s3r * z1i;
    }
    // Ū[i][2m] = A_im, Ū[i][2m+1] = i·S_im = (−S.im, S.re)
    gURe[uo] = A00r; gUIm[uo] = A00i; gURe[uo + 1] = -S00i; gUIm[uo + 1] = S00r;
    gURe[uo + 2] = A01r; gUIm[uo + 2] = A01i; gURe[uo + 3] = -S01i; gUIm[uo + 3] = S01r;
    gURe[uo + 4] = A10r; gUIm[uo + 4] = A10i; gURe[uo + 5] = -S10i; gUIm[uo + 5] = S10r;
    gURe[uo + 6] = A11r; gUIm[uo + 6] = A11i; gURe[uo + 7] = -S11i; gUIm[uo + 7] = S11r;
    gURe[uo + 8] = A20r; gUIm[uo + 8] = A20i; gURe[uo + 9] = -S20i; gUIm[uo + 9] = S20r;
    gURe[uo + 10] = A21r; gUIm[uo + 10] = A21i; gURe[uo + 11] = -S21i; gUIm[uo + 11] = S21r;
    gURe[uo + 12] = A30r; gUIm[uo + 12] = A30i; gURe[uo + 13] = -S30i; gUIm[uo + 13] = S30r;
    gURe[uo + 14] = A31r; gUIm[uo + 14] = A31i; gURe[uo + 15] = -S31i; gUIm[uo + 15] = S31r;
  }
}

/** Cotangents of one step for rows r0..r1 (N = 1, any dm, D = 2·dm). */
function gradRows(J: BackwardJob, r0: number, r1: number): void {
  const dm = J.dm, B = J.b, D = 2 * dm;
  ensureScratch(D, dm);
  const uRe = J.uRe, uIm = J.uIm, memRe = J.memRe, memIm = J.memIm, phi = J.phi, outcome = J.outcome;
  const dProbs = J.dProbs, dMemRe = J.dMemRe, dMemIm = J.dMemIm, dProb = J.dProb;
  const gURe = J.gURe, gUIm = J.gUIm, gMemRe = J.gMemRe, gMemIm = J.gMemIm, gPhi = J.gPhi;
  for (let r = r0; r < r1; r++) {
    const uo = r * D * D;
    const mo = r * dm * B;
    const ko = r * 2 * B;
    const ro = r * B;
    GR.fill(0, 0, D * D);
    GI.fill(0, 0, D * D);
    let last = NaN;
    let c = 1, s = 0;
    for (let j = 0; j < B; j++) {
      const ph = phi[ro + j];
      if (ph !== last) {
        last = ph;
        sincos(0.5 * ph);
        c = trig[0];
        s = trig[1];
        const hc = 0.5 * c, hs = 0.5 * s;
        for (let i = 0; i < D; i++)
          for (let m = 0; m < dm; m++) {
            const e = uo + i * D + 2 * m;
            const ar = uRe[e], ai = uIm[e], br = uRe[e + 1], bi = uIm[e + 1];
            // c·a − i s·b and its φ-derivative −(s/2)·a − i (c/2)·b
            WR[i * dm + m] = c * ar + s * bi;
            WI[i * dm + m] = c * ai - s * br;
            VR[i * dm + m] = -hs * ar + hc * bi;
            VI[i * dm + m] = -hs * ai - hc * br;
          }
      }
      for (let m = 0; m < dm; m++) {
        ER[m] = memRe[mo + m * B + j];
        EI[m] = memIm[mo + m * B + j];
      }
      // ψ = W·e
      for (let i = 0; i < D; i++) {
        let sr = 0, si = 0;
        const w = i * dm;
        for (let m = 0; m < dm; m++) {
          const wr = WR[w + m], wi = WI[w + m], er = ER[m], ei = EI[m];
          sr += wr * er - wi * ei;
          si += wr * ei + wi * er;
        }
        PR[i] = sr;
        PI[i] = si;
      }
      const f0 = outcome[ko + j], f1 = outcome[ko + B + j];
      // Branch b, P, ⟨ḡ, b⟩.
      let P = 0, gb = 0;
      for (let m = 0; m < dm; m++) {
        const br = f0 * PR[2 * m] + f1 * PR[2 * m + 1];
        const bi = f0 * PI[2 * m] + f1 * PI[2 * m + 1];
        BR[m] = br;
        BI[m] = bi;
        P += br * br + bi * bi;
        gb += dMemRe[mo + m * B + j] * br + dMemIm[mo + m * B + j] * bi;
      }
      const pb = 2 * dProb[ro + j];
      let nrm: number, k: number;
      if (P >= TINY) {
        nrm = 1 / Math.sqrt(P);
        k = gb * nrm * nrm * nrm;
      } else {
        nrm = 1 / Math.sqrt(TINY);
        k = 0;
      }
      // ḃ (overwrites b)
      for (let m = 0; m < dm; m++) {
        const br = BR[m], bi = BI[m];
        BR[m] = dMemRe[mo + m * B + j] * nrm - br * k + br * pb;
        BI[m] = dMemIm[mo + m * B + j] * nrm - bi * k + bi * pb;
      }
      // ψ̄
      const p0 = 2 * dProbs[ko + j], p1 = 2 * dProbs[ko + B + j];
      for (let m = 0; m < dm; m++) {
        const i0 = 2 * m, i1 = i0 + 1;
        QR[i0] = PR[i0] * p0 + f0 * BR[m];
        QI[i0] = PI[i0] * p0 + f0 * BI[m];
        QR[i1] = PR[i1] * p1 + f1 * BR[m];
        QI[i1] = PI[i1] * p1 + f1 * BI[m];
      }
      // ē = W^†ψ̄, φ̄ = Re⟨ψ̄, W'e⟩, Ū += ψ̄ ⊗ conj(in)
      let gph = 0;
      for (let m = 0; m < dm; m++) {
        let sr = 0, si = 0;
        for (let i = 0; i < D; i++) {
          const wr = WR[i * dm + m], wi = WI[i * dm + m], qr = QR[i], qi = QI[i];
          // conj(w)·q
          sr += wr * qr + wi * qi;
          si += wr * qi - wi * qr;
        }
        gMemRe[mo + m * B + j] = sr;
        gMemIm[mo + m * B + j] = si;
      }
      for (let i = 0; i < D; i++) {
        let vr = 0, vi = 0;
        const w = i * dm;
        for (let m = 0; m < dm; m++) {
          const ar = VR[w + m], ai = VI[w + m], er = ER[m], ei = EI[m];
          vr += ar * er - ai * ei;
          vi += ar * ei + ai * er;
        }
        const qr = QR[i], qi = QI[i];
        gph += qr * vr + qi * vi;
        const go = i * D;
        for (let m = 0; m < dm; m++) {
          // A = ψ̄_i·conj(e_m); Ū[i][2m] += c·A; Ū[i][2m+1] += i s·A
          const er = ER[m], ei = EI[m];
          const Ar = qr * er + qi * ei, Ai = qi * er - qr * ei;
          GR[go + 2 * m] += c * Ar;
          GI[go + 2 * m] += c * Ai;
          GR[go + 2 * m + 1] -= s * Ai;
          GI[go + 2 * m + 1] += s * Ar;
        }
      }
      gPhi[ro + j] = gph;
    }
    for (let e = 0; e < D * D; e++) {
      gURe[uo + e] = GR[e];
      gUIm[uo + e] = GI[e];
    }
  }
}

/** Cotangents of rows r0..r1: the unrolled loop for D = 4 when `specialise`, else the general one. */
export function runBackward(J: BackwardJob, r0: number, r1: number, specialise: boolean): void {
  if (specialise && J.dm === 2) gradRowsM1(J, r0, r1);
  else gradRows(J, r0, r1);
}
