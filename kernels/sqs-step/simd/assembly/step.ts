/**
 * AssemblyScript source of the SIMD forward step of the paper neuron (N = 1, M = 1, D = 4): the same
 * computation as `loopN1M1` in ../../forward.ts, four samples per f32x4 lane group, in float32; and
 * its backward (`backwardN1M1`, `gradRowsM1` of ../../backward.ts).
 * Compiled by `npm run build:simd` (scripts/build-simd.js) into ../module.generated.ts; the runtime
 * needs no compiler. Not part of the TypeScript build (tsconfig excludes this folder).
 *
 * The memory is imported: the wasm backend's heap (tensors used in place) or a memory of the caller's
 * (arrays copied in). Every argument named *Ptr is the byte address of element 0 of a float32 array
 * laid out as in ForwardJob: U [R, 4, 4], mem/probs/oneHot/forced/out [R, 2, B], phi/uni/prob [R, B].
 */

// @ts-nocheck  (AssemblyScript types: f32, i32, v128, …)

const TWO_OVER_PI: f32 = 0.6366197723675814;
// π/2 = PIO2_1 + PIO2_2 + PIO2_3 (8, 12 and 24 significant bits; Cephes' split of π/4, doubled).
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.837512969970703125e-4;
const PIO2_3: f32 = 7.54978995489188216e-8;
/** |φ/2| at or above this (or NaN) leaves the row to the scalar loop: beyond it the float32 reduction loses bits. */
const REDUCE_LIMIT: f32 = 4096;
const TINY: f32 = 1e-30;
const TWO_M24: f32 = 5.960464477539063e-8;

// sin(r), cos(r) on |r| ≤ π/4 in float32 (Cephes sinf/cosf coefficients, ≈ 1 ulp).
const S1: f32 = -1.6666654611e-1;
const S2: f32 = 8.3321608736e-3;
const S3: f32 = -1.9515295891e-4;
const C1: f32 = 4.166664568298827e-2;
const C2: f32 = -1.388731625493765e-3;
const C3: f32 = 2.443315711809948e-5;

/** cos and sin of φ/2 for four angles, left in COS and SIN (the kernels inline this). */
let COS: v128 = f32x4.splat(0);
let SIN: v128 = f32x4.splat(0);

/**
 * COS, SIN = cos(φ/2), sin(φ/2) lane by lane; false (nothing set) when some |φ/2| ≥ REDUCE_LIMIT or
 * is NaN: the caller leaves that row to the scalar loop.
 */
// @ts-ignore: decorator
@inline
function halfAngleSinCos(ph: v128): bool {
  const a = f32x4.mul(ph, f32x4.splat(0.5));
  // NaN fails the comparison too.
  if (!i32x4.all_true(f32x4.lt(f32x4.abs(a), f32x4.splat(REDUCE_LIMIT)))) return false;
  // t = a − k·π/2 in float32, π/2 in three parts (Cody–Waite): k·PIO2_1 and k·PIO2_2 are exact for
  // |k| < 2^12, so t is as accurate as float32 allows while |a| < REDUCE_LIMIT.
  const kf = f32x4.nearest(f32x4.mul(a, f32x4.splat(TWO_OVER_PI)));
  const t = f32x4.sub(f32x4.sub(f32x4.sub(a, f32x4.mul(kf, f32x4.splat(PIO2_1))), f32x4.mul(kf, f32x4.splat(PIO2_2))), f32x4.mul(kf, f32x4.splat(PIO2_3)));
  const ki = i32x4.trunc_sat_f32x4_s(kf);
  const z = f32x4.mul(t, t);
  const sn = f32x4.add(t, f32x4.mul(f32x4.mul(t, z), f32x4.add(f32x4.splat(S1), f32x4.mul(z, f32x4.add(f32x4.splat(S2), f32x4.mul(z, f32x4.splat(S3)))))));
  const cs = f32x4.add(
    f32x4.sub(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), z)),
    f32x4.mul(f32x4.mul(z, z), f32x4.add(f32x4.splat(C1), f32x4.mul(z, f32x4.add(f32x4.splat(C2), f32x4.mul(z, f32x4.splat(C3)))))),
  );
  // Odd quadrant: swap; sign bits from bit 1 of k + 1 (cos) and of k (sin).
  const odd = i32x4.eq(v128.and(ki, i32x4.splat(1)), i32x4.splat(1));
  COS = v128.xor(v128.bitselect(sn, cs, odd), i32x4.shl(v128.and(i32x4.add(ki, i32x4.splat(1)), i32x4.splat(2)), 30));
  SIN = v128.xor(v128.bitselect(cs, sn, odd), i32x4.shl(v128.and(ki, i32x4.splat(2)), 30));
  return true;
}

/** The seeded counter hash of forward.ts' `uniformAt`, on four consecutive counters; u in [0, 1). */
// @ts-ignore: decorator
@inline
function mix(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x7feb352d));
  h = v128.xor(h, i32x4.shr_u(h, 15));
  h = i32x4.mul(h, i32x4.splat(0x846ca68b));
  h = v128.xor(h, i32x4.shr_u(h, 16));
  return h;
}

// @ts-ignore: decorator
@inline
function uniforms(k1: i32, k2: i32, idx: i32): v128 {
  let h = v128.xor(i32x4.add(i32x4.splat(idx), i32x4(0, 1, 2, 3)), i32x4.splat(k1));
  h = mix(h);
  h = mix(i32x4.add(h, i32x4.splat(k2)));
  return f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(h, 8)), f32x4.splat(TWO_M24));
}

/**
 * Rows r0..r1. Returns r1 when every row is done, else the first row holding an angle the reduction
 * does not take (|φ/2| ≥ 4096, or NaN): the caller computes that row otherwise and calls again from
 * the next. Needs B ≥ 4; a last partial group of four is recomputed overlapping the one before.
 */
export function stepN1M1(
  uRePtr: usize, uImPtr: usize, memRePtr: usize, memImPtr: usize, phiPtr: usize, uniPtr: usize, forcedPtr: usize,
  probsPtr: usize, oneHotPtr: usize, outRePtr: usize, outImPtr: usize, probPtr: usize,
  r0: i32, r1: i32, B: i32, rowBase: i32, mode: i32, k1: i32, k2: i32,
): i32 {
  const one = f32x4.splat(1);
  const tiny = f32x4.splat(TINY);
  for (let r = r0; r < r1; r++) {
    const uo = <usize>(r * 16) << 2;
    const ure = uRePtr + uo;
    const uim = uImPtr + uo;
    const m0 = <usize>(2 * r * B) << 2; // byte offset of plane 0 of this row; plane 1 at + 4B
    const pl = <usize>B << 2;
    const ro = <usize>(r * B) << 2;
    const gbase = (rowBase + r) * B;
    // U[i][k] in every lane, once per row: ar(4i + k) re, ai(4i + k) im.
    const ar0 = v128.load32_splat(ure, 0), ai0 = v128.load32_splat(uim, 0);
    const ar1 = v128.load32_splat(ure, 4), ai1 = v128.load32_splat(uim, 4);
    const ar2 = v128.load32_splat(ure, 8), ai2 = v128.load32_splat(uim, 8);
    const ar3 = v128.load32_splat(ure, 12), ai3 = v128.load32_splat(uim, 12);
    const ar4 = v128.load32_splat(ure, 16), ai4 = v128.load32_splat(uim, 16);
    const ar5 = v128.load32_splat(ure, 20), ai5 = v128.load32_splat(uim, 20);
    const ar6 = v128.load32_splat(ure, 24), ai6 = v128.load32_splat(uim, 24);
    const ar7 = v128.load32_splat(ure, 28), ai7 = v128.load32_splat(uim, 28);
    const ar8 = v128.load32_splat(ure, 32), ai8 = v128.load32_splat(uim, 32);
    const ar9 = v128.load32_splat(ure, 36), ai9 = v128.load32_splat(uim, 36);
    const ar10 = v128.load32_splat(ure, 40), ai10 = v128.load32_splat(uim, 40);
    const ar11 = v128.load32_splat(ure, 44), ai11 = v128.load32_splat(uim, 44);
    const ar12 = v128.load32_splat(ure, 48), ai12 = v128.load32_splat(uim, 48);
    const ar13 = v128.load32_splat(ure, 52), ai13 = v128.load32_splat(uim, 52);
    const ar14 = v128.load32_splat(ure, 56), ai14 = v128.load32_splat(uim, 56);
    const ar15 = v128.load32_splat(ure, 60), ai15 = v128.load32_splat(uim, 60);
    let last = i32x4.splat(0);
    let fresh = true;
    let w00r = f32x4.splat(0), w00i = w00r, w01r = w00r, w01i = w00r, w10r = w00r, w10i = w00r, w11r = w00r, w11i = w00r;
    let w20r = w00r, w20i = w00r, w21r = w00r, w21i = w00r, w30r = w00r, w30i = w00r, w31r = w00r, w31i = w00r;
    let j = 0;
    while (j < B) {
      if (j > B - 4) j = B - 4;
      const jo = <usize>j << 2;
      const ph = v128.load(phiPtr + ro + jo);
      if (fresh || v128.any_true(v128.xor(ph, last))) {
        fresh = false;
        last = ph;
        if (!halfAngleSinCos(ph)) return r;
        const c = COS, s = SIN;
        // W[i][m] = c·U[i][2m] − i·s·U[i][2m+1]: (c·ar + s·bi) + i·(c·ai − s·br)
        w00r = f32x4.add(f32x4.mul(c, ar0), f32x4.mul(s, ai1));
        w00i = f32x4.sub(f32x4.mul(c, ai0), f32x4.mul(s, ar1));
        w01r = f32x4.add(f32x4.mul(c, ar2), f32x4.mul(s, ai3));
        w01i = f32x4.sub(f32x4.mul(c, ai2), f32x4.mul(s, ar3));
        w10r = f32x4.add(f32x4.mul(c, ar4), f32x4.mul(s, ai5));
        w10i = f32x4.sub(f32x4.mul(c, ai4), f32x4.mul(s, ar5));
        w11r = f32x4.add(f32x4.mul(c, ar6), f32x4.mul(s, ai7));
        w11i = f32x4.sub(f32x4.mul(c, ai6), f32x4.mul(s, ar7));
        w20r = f32x4.add(f32x4.mul(c, ar8), f32x4.mul(s, ai9));
        w20i = f32x4.sub(f32x4.mul(c, ai8), f32x4.mul(s, ar9));
        w21r = f32x4.add(f32x4.mul(c, ar10), f32x4.mul(s, ai11));
        w21i = f32x4.sub(f32x4.mul(c, ai10), f32x4.mul(s, ar11));
        w30r = f32x4.add(f32x4.mul(c, ar12), f32x4.mul(s, ai13));
        w30i = f32x4.sub(f32x4.mul(c, ai12), f32x4.mul(s, ar13));
        w31r = f32x4.add(f32x4.mul(c, ar14), f32x4.mul(s, ai15));
        w31i = f32x4.sub(f32x4.mul(c, ai14), f32x4.mul(s, ar15));
      }
      const e0r = v128.load(memRePtr + m0 + jo), e0i = v128.load(memImPtr + m0 + jo);
      const e1r = v128.load(memRePtr + m0 + pl + jo), e1i = v128.load(memImPtr + m0 + pl + jo);
      // ψ[i] = W[i][0]·e0 + W[i][1]·e1, i = y + 2m
      const p0r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w00r, e0r), f32x4.mul(w00i, e0i)), f32x4.mul(w01r, e1r)), f32x4.mul(w01i, e1i));
      const p0i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w00r, e0i), f32x4.mul(w00i, e0r)), f32x4.mul(w01r, e1i)), f32x4.mul(w01i, e1r));
      const p1r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w10r, e0r), f32x4.mul(w10i, e0i)), f32x4.mul(w11r, e1r)), f32x4.mul(w11i, e1i));
      const p1i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w10r, e0i), f32x4.mul(w10i, e0r)), f32x4.mul(w11r, e1i)), f32x4.mul(w11i, e1r));
      const p2r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w20r, e0r), f32x4.mul(w20i, e0i)), f32x4.mul(w21r, e1r)), f32x4.mul(w21i, e1i));
      const p2i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w20r, e0i), f32x4.mul(w20i, e0r)), f32x4.mul(w21r, e1i)), f32x4.mul(w21i, e1r));
      const p3r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w30r, e0r), f32x4.mul(w30i, e0i)), f32x4.mul(w31r, e1r)), f32x4.mul(w31i, e1i));
      const p3i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w30r, e0i), f32x4.mul(w30i, e0r)), f32x4.mul(w31r, e1i)), f32x4.mul(w31i, e1r));
      const q0 = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(p0r, p0r), f32x4.mul(p0i, p0i)), f32x4.mul(p2r, p2r)), f32x4.mul(p2i, p2i));
      const q1 = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(p1r, p1r), f32x4.mul(p1i, p1i)), f32x4.mul(p3r, p3r)), f32x4.mul(p3i, p3i));
      v128.store(probsPtr + m0 + jo, q0);
      v128.store(probsPtr + m0 + pl + jo, q1);
      let g0r: v128, g0i: v128, g1r: v128, g1i: v128, pr: v128;
      if (mode == 2) {
        // Forced: branch[m] = Σ_y f_y ψ[y + 2m] with the given weights, as the JS loop.
        const f0 = v128.load(forcedPtr + m0 + jo), f1 = v128.load(forcedPtr + m0 + pl + jo);
        g0r = f32x4.add(f32x4.mul(f0, p0r), f32x4.mul(f1, p1r));
        g0i = f32x4.add(f32x4.mul(f0, p0i), f32x4.mul(f1, p1i));
        g1r = f32x4.add(f32x4.mul(f0, p2r), f32x4.mul(f1, p3r));
        g1i = f32x4.add(f32x4.mul(f0, p2i), f32x4.mul(f1, p3i));
        pr = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(g0r, g0r), f32x4.mul(g0i, g0i)), f32x4.mul(g1r, g1r)), f32x4.mul(g1i, g1i));
      } else {
        const u = mode == 1 ? uniforms(k1, k2, gbase + j) : v128.load(uniPtr + ro + jo);
        // Outcome 1 where q0 ≤ u·(q0 + q1).
        const y1 = f32x4.le(q0, f32x4.mul(u, f32x4.add(q0, q1)));
        v128.store(oneHotPtr + m0 + jo, v128.andnot(one, y1));
        v128.store(oneHotPtr + m0 + pl + jo, v128.and(one, y1));
        g0r = v128.bitselect(p1r, p0r, y1);
        g0i = v128.bitselect(p1i, p0i, y1);
        g1r = v128.bitselect(p3r, p2r, y1);
        g1i = v128.bitselect(p3i, p2i, y1);
        pr = v128.bitselect(q1, q0, y1);
      }
      // 1/√max(P, 1e-30), NaN → 1e-30 as the JS loop's `pr > TINY ? pr : TINY`.
      const nrm = f32x4.div(one, f32x4.sqrt(v128.bitselect(pr, tiny, f32x4.gt(pr, tiny))));
      v128.store(outRePtr + m0 + jo, f32x4.mul(g0r, nrm));
      v128.store(outImPtr + m0 + jo, f32x4.mul(g0i, nrm));
      v128.store(outRePtr + m0 + pl + jo, f32x4.mul(g1r, nrm));
      v128.store(outImPtr + m0 + pl + jo, f32x4.mul(g1i, nrm));
      v128.store(probPtr + ro + jo, pr);
      j += 4;
    }
  }
  return r1;
}

/**
 * The backward of the paper-neuron step (N = 1, M = 1, D = 4), `gradRowsM1` of ../../backward.ts in
 * float32, four samples per f32x4 group: from the saved inputs, the outcome one-hot and the output
 * cotangents (probs, mem', prob), the cotangents of U (summed over samples), the memory and φ.
 * Pointers as in BackwardJob: U and Ū [R, 4, 4]; mem, outcome, dProbs, dMem, m̄ [R, 2, B]; φ, dProb, φ̄ [R, B].
 * Returns r1 when every row is done, else the first row with an angle the reduction does not take
 * (the caller computes it otherwise and calls again from the next). Needs B ≥ 4: a last partial
 * group is recomputed overlapping the one before, its repeated lanes masked out of the sums.
 */
export function backwardN1M1(
  uRePtr: usize, uImPtr: usize, memRePtr: usize, memImPtr: usize, phiPtr: usize, outcomePtr: usize,
  dProbsPtr: usize, dMemRePtr: usize, dMemImPtr: usize, dProbPtr: usize,
  gURePtr: usize, gUImPtr: usize, gMemRePtr: usize, gMemImPtr: usize, gPhiPtr: usize,
  r0: i32, r1: i32, B: i32,
): i32 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const two = f32x4.splat(2);
  const tiny = f32x4.splat(TINY);
  const sq = f32x4.splat(1e15); // 1/√TINY
  const lane = i32x4(0, 1, 2, 3);
  for (let r = r0; r < r1; r++) {
    const uo = <usize>(r * 16) << 2;
    const ure = uRePtr + uo;
    const uim = uImPtr + uo;
    const m0 = <usize>(2 * r * B) << 2;
    const pl = <usize>B << 2;
    const ro = <usize>(r * B) << 2;
    const a00 = v128.load32_splat(ure, 0), b00 = v128.load32_splat(uim, 0);
    const a01 = v128.load32_splat(ure, 4), b01 = v128.load32_splat(uim, 4);
    const a02 = v128.load32_splat(ure, 8), b02 = v128.load32_splat(uim, 8);
    const a03 = v128.load32_splat(ure, 12), b03 = v128.load32_splat(uim, 12);
    const a10 = v128.load32_splat(ure, 16), b10 = v128.load32_splat(uim, 16);
    const a11 = v128.load32_splat(ure, 20), b11 = v128.load32_splat(uim, 20);
    const a12 = v128.load32_splat(ure, 24), b12 = v128.load32_splat(uim, 24);
    const a13 = v128.load32_splat(ure, 28), b13 = v128.load32_splat(uim, 28);
    const a20 = v128.load32_splat(ure, 32), b20 = v128.load32_splat(uim, 32);
    const a21 = v128.load32_splat(ure, 36), b21 = v128.load32_splat(uim, 36);
    const a22 = v128.load32_splat(ure, 40), b22 = v128.load32_splat(uim, 40);
    const a23 = v128.load32_splat(ure, 44), b23 = v128.load32_splat(uim, 44);
    const a30 = v128.load32_splat(ure, 48), b30 = v128.load32_splat(uim, 48);
    const a31 = v128.load32_splat(ure, 52), b31 = v128.load32_splat(uim, 52);
    const a32 = v128.load32_splat(ure, 56), b32 = v128.load32_splat(uim, 56);
    const a33 = v128.load32_splat(ure, 60), b33 = v128.load32_splat(uim, 60);
    // Ū accumulators per (i, m): A = Σ c·ψ̄_i·conj(e_m) → Ū[i][2m]; S = Σ s·ψ̄_i·conj(e_m) → Ū[i][2m+1] = i·S.
    let A00r = zero, A00i = zero, A01r = zero, A01i = zero, A10r = zero, A10i = zero, A11r = zero, A11i = zero;
    let A20r = zero, A20i = zero, A21r = zero, A21i = zero, A30r = zero, A30i = zero, A31r = zero, A31i = zero;
    let S00r = zero, S00i = zero, S01r = zero, S01i = zero, S10r = zero, S10i = zero, S11r = zero, S11i = zero;
    let S20r = zero, S20i = zero, S21r = zero, S21i = zero, S30r = zero, S30i = zero, S31r = zero, S31i = zero;
    let last = i32x4.splat(0);
    let fresh = true;
    let c = zero, s = zero;
    let w00r = zero, w00i = zero, w01r = zero, w01i = zero, w10r = zero, w10i = zero, w11r = zero, w11i = zero;
    let w20r = zero, w20i = zero, w21r = zero, w21i = zero, w30r = zero, w30i = zero, w31r = zero, w31i = zero;
    let v00r = zero, v00i = zero, v01r = zero, v01i = zero, v10r = zero, v10i = zero, v11r = zero, v11i = zero;
    let v20r = zero, v20i = zero, v21r = zero, v21i = zero, v30r = zero, v30i = zero, v31r = zero, v31i = zero;
    let j = 0;
    let done = 0; // samples already summed into Ū
    while (j < B) {
      if (j > B - 4) j = B - 4;
      const jo = <usize>j << 2;
      const ph = v128.load(phiPtr + ro + jo);
      if (fresh || v128.any_true(v128.xor(ph, last))) {
        fresh = false;
        last = ph;
        if (!halfAngleSinCos(ph)) return r;
        c = COS;
        s = SIN;
        const hc = f32x4.mul(c, f32x4.splat(0.5)), hs = f32x4.mul(s, f32x4.splat(0.5));
        // W = c·U[:, 2m] − i s·U[:, 2m+1]; V = ∂W/∂φ = −(s/2)·U[:, 2m] − i (c/2)·U[:, 2m+1]
        w00r = f32x4.add(f32x4.mul(c, a00), f32x4.mul(s, b01)); w00i = f32x4.sub(f32x4.mul(c, b00), f32x4.mul(s, a01));
        w01r = f32x4.add(f32x4.mul(c, a02), f32x4.mul(s, b03)); w01i = f32x4.sub(f32x4.mul(c, b02), f32x4.mul(s, a03));
        w10r = f32x4.add(f32x4.mul(c, a10), f32x4.mul(s, b11)); w10i = f32x4.sub(f32x4.mul(c, b10), f32x4.mul(s, a11));
        w11r = f32x4.add(f32x4.mul(c, a12), f32x4.mul(s, b13)); w11i = f32x4.sub(f32x4.mul(c, b12), f32x4.mul(s, a13));
        w20r = f32x4.add(f32x4.mul(c, a20), f32x4.mul(s, b21)); w20i = f32x4.sub(f32x4.mul(c, b20), f32x4.mul(s, a21));
        w21r = f32x4.add(f32x4.mul(c, a22), f32x4.mul(s, b23)); w21i = f32x4.sub(f32x4.mul(c, b22), f32x4.mul(s, a23));
        w30r = f32x4.add(f32x4.mul(c, a30), f32x4.mul(s, b31)); w30i = f32x4.sub(f32x4.mul(c, b30), f32x4.mul(s, a31));
        w31r = f32x4.add(f32x4.mul(c, a32), f32x4.mul(s, b33)); w31i = f32x4.sub(f32x4.mul(c, b32), f32x4.mul(s, a33));
        v00r = f32x4.sub(f32x4.mul(hc, b01), f32x4.mul(hs, a00)); v00i = f32x4.neg(f32x4.add(f32x4.mul(hs, b00), f32x4.mul(hc, a01)));
        v01r = f32x4.sub(f32x4.mul(hc, b03), f32x4.mul(hs, a02)); v01i = f32x4.neg(f32x4.add(f32x4.mul(hs, b02), f32x4.mul(hc, a03)));
        v10r = f32x4.sub(f32x4.mul(hc, b11), f32x4.mul(hs, a10)); v10i = f32x4.neg(f32x4.add(f32x4.mul(hs, b10), f32x4.mul(hc, a11)));
        v11r = f32x4.sub(f32x4.mul(hc, b13), f32x4.mul(hs, a12)); v11i = f32x4.neg(f32x4.add(f32x4.mul(hs, b12), f32x4.mul(hc, a13)));
        v20r = f32x4.sub(f32x4.mul(hc, b21), f32x4.mul(hs, a20)); v20i = f32x4.neg(f32x4.add(f32x4.mul(hs, b20), f32x4.mul(hc, a21)));
        v21r = f32x4.sub(f32x4.mul(hc, b23), f32x4.mul(hs, a22)); v21i = f32x4.neg(f32x4.add(f32x4.mul(hs, b22), f32x4.mul(hc, a23)));
        v30r = f32x4.sub(f32x4.mul(hc, b31), f32x4.mul(hs, a30)); v30i = f32x4.neg(f32x4.add(f32x4.mul(hs, b30), f32x4.mul(hc, a31)));
        v31r = f32x4.sub(f32x4.mul(hc, b33), f32x4.mul(hs, a32)); v31i = f32x4.neg(f32x4.add(f32x4.mul(hs, b32), f32x4.mul(hc, a33)));
      }
      const e0r = v128.load(memRePtr + m0 + jo), e0i = v128.load(memImPtr + m0 + jo);
      const e1r = v128.load(memRePtr + m0 + pl + jo), e1i = v128.load(memImPtr + m0 + pl + jo);
      // ψ = W·e, i = y + 2m
      const p0r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w00r, e0r), f32x4.mul(w00i, e0i)), f32x4.mul(w01r, e1r)), f32x4.mul(w01i, e1i));
      const p0i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w00r, e0i), f32x4.mul(w00i, e0r)), f32x4.mul(w01r, e1i)), f32x4.mul(w01i, e1r));
      const p1r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w10r, e0r), f32x4.mul(w10i, e0i)), f32x4.mul(w11r, e1r)), f32x4.mul(w11i, e1i));
      const p1i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w10r, e0i), f32x4.mul(w10i, e0r)), f32x4.mul(w11r, e1i)), f32x4.mul(w11i, e1r));
      const p2r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w20r, e0r), f32x4.mul(w20i, e0i)), f32x4.mul(w21r, e1r)), f32x4.mul(w21i, e1i));
      const p2i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w20r, e0i), f32x4.mul(w20i, e0r)), f32x4.mul(w21r, e1i)), f32x4.mul(w21i, e1r));
      const p3r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(w30r, e0r), f32x4.mul(w30i, e0i)), f32x4.mul(w31r, e1r)), f32x4.mul(w31i, e1i));
      const p3i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w30r, e0i), f32x4.mul(w30i, e0r)), f32x4.mul(w31r, e1i)), f32x4.mul(w31i, e1r));
      const f0 = v128.load(outcomePtr + m0 + jo), f1 = v128.load(outcomePtr + m0 + pl + jo);
      const g0r = f32x4.add(f32x4.mul(f0, p0r), f32x4.mul(f1, p1r)), g0i = f32x4.add(f32x4.mul(f0, p0i), f32x4.mul(f1, p1i));
      const g1r = f32x4.add(f32x4.mul(f0, p2r), f32x4.mul(f1, p3r)), g1i = f32x4.add(f32x4.mul(f0, p2i), f32x4.mul(f1, p3i));
      const P = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(g0r, g0r), f32x4.mul(g0i, g0i)), f32x4.mul(g1r, g1r)), f32x4.mul(g1i, g1i));
      const d0r = v128.load(dMemRePtr + m0 + jo), d0i = v128.load(dMemImPtr + m0 + jo);
      const d1r = v128.load(dMemRePtr + m0 + pl + jo), d1i = v128.load(dMemImPtr + m0 + pl + jo);
      // P ≥ TINY: nrm = 1/√P, k = Re⟨ḡ, b⟩/P^{3/2}; else nrm = 1/√TINY, k = 0 (tf.maximum's gradient).
      const big = f32x4.ge(P, tiny);
      const nrm = v128.bitselect(f32x4.div(one, f32x4.sqrt(P)), sq, big);
      const dot = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(d0r, g0r), f32x4.mul(d0i, g0i)), f32x4.mul(d1r, g1r)), f32x4.mul(d1i, g1i));
      const k = v128.and(f32x4.mul(f32x4.mul(dot, nrm), f32x4.mul(nrm, nrm)), big);
      const kk = f32x4.sub(f32x4.mul(two, v128.load(dProbPtr + ro + jo)), k);
      // ḃ
      const h0r = f32x4.add(f32x4.mul(d0r, nrm), f32x4.mul(g0r, kk)), h0i = f32x4.add(f32x4.mul(d0i, nrm), f32x4.mul(g0i, kk));
      const h1r = f32x4.add(f32x4.mul(d1r, nrm), f32x4.mul(g1r, kk)), h1i = f32x4.add(f32x4.mul(d1i, nrm), f32x4.mul(g1i, kk));
      // ψ̄
      const q0 = f32x4.mul(two, v128.load(dProbsPtr + m0 + jo)), q1 = f32x4.mul(two, v128.load(dProbsPtr + m0 + pl + jo));
      const s0r = f32x4.add(f32x4.mul(p0r, q0), f32x4.mul(f0, h0r)), s0i = f32x4.add(f32x4.mul(p0i, q0), f32x4.mul(f0, h0i));
      const s1r = f32x4.add(f32x4.mul(p1r, q1), f32x4.mul(f1, h0r)), s1i = f32x4.add(f32x4.mul(p1i, q1), f32x4.mul(f1, h0i));
      const s2r = f32x4.add(f32x4.mul(p2r, q0), f32x4.mul(f0, h1r)), s2i = f32x4.add(f32x4.mul(p2i, q0), f32x4.mul(f0, h1i));
      const s3r = f32x4.add(f32x4.mul(p3r, q1), f32x4.mul(f1, h1r)), s3i = f32x4.add(f32x4.mul(p3i, q1), f32x4.mul(f1, h1i));
      // ē = W^†ψ̄
      v128.store(gMemRePtr + m0 + jo, f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w00r, s0r), f32x4.mul(w00i, s0i)), f32x4.add(f32x4.mul(w10r, s1r), f32x4.mul(w10i, s1i))), f32x4.add(f32x4.mul(w20r, s2r), f32x4.mul(w20i, s2i))), f32x4.add(f32x4.mul(w30r, s3r), f32x4.mul(w30i, s3i))));
      v128.store(gMemImPtr + m0 + jo, f32x4.add(f32x4.add(f32x4.add(f32x4.sub(f32x4.mul(w00r, s0i), f32x4.mul(w00i, s0r)), f32x4.sub(f32x4.mul(w10r, s1i), f32x4.mul(w10i, s1r))), f32x4.sub(f32x4.mul(w20r, s2i), f32x4.mul(w20i, s2r))), f32x4.sub(f32x4.mul(w30r, s3i), f32x4.mul(w30i, s3r))));
      v128.store(gMemRePtr + m0 + pl + jo, f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w01r, s0r), f32x4.mul(w01i, s0i)), f32x4.add(f32x4.mul(w11r, s1r), f32x4.mul(w11i, s1i))), f32x4.add(f32x4.mul(w21r, s2r), f32x4.mul(w21i, s2i))), f32x4.add(f32x4.mul(w31r, s3r), f32x4.mul(w31i, s3i))));
      v128.store(gMemImPtr + m0 + pl + jo, f32x4.add(f32x4.add(f32x4.add(f32x4.sub(f32x4.mul(w01r, s0i), f32x4.mul(w01i, s0r)), f32x4.sub(f32x4.mul(w11r, s1i), f32x4.mul(w11i, s1r))), f32x4.sub(f32x4.mul(w21r, s2i), f32x4.mul(w21i, s2r))), f32x4.sub(f32x4.mul(w31r, s3i), f32x4.mul(w31i, s3r))));
      // φ̄ = Re⟨ψ̄, V·e⟩
      const t0r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(v00r, e0r), f32x4.mul(v00i, e0i)), f32x4.mul(v01r, e1r)), f32x4.mul(v01i, e1i));
      const t0i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(v00r, e0i), f32x4.mul(v00i, e0r)), f32x4.mul(v01r, e1i)), f32x4.mul(v01i, e1r));
      const t1r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(v10r, e0r), f32x4.mul(v10i, e0i)), f32x4.mul(v11r, e1r)), f32x4.mul(v11i, e1i));
      const t1i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(v10r, e0i), f32x4.mul(v10i, e0r)), f32x4.mul(v11r, e1i)), f32x4.mul(v11i, e1r));
      const t2r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(v20r, e0r), f32x4.mul(v20i, e0i)), f32x4.mul(v21r, e1r)), f32x4.mul(v21i, e1i));
      const t2i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(v20r, e0i), f32x4.mul(v20i, e0r)), f32x4.mul(v21r, e1i)), f32x4.mul(v21i, e1r));
      const t3r = f32x4.sub(f32x4.add(f32x4.sub(f32x4.mul(v30r, e0r), f32x4.mul(v30i, e0i)), f32x4.mul(v31r, e1r)), f32x4.mul(v31i, e1i));
      const t3i = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(v30r, e0i), f32x4.mul(v30i, e0r)), f32x4.mul(v31r, e1i)), f32x4.mul(v31i, e1r));
      v128.store(gPhiPtr + ro + jo, f32x4.add(
        f32x4.add(f32x4.add(f32x4.mul(s0r, t0r), f32x4.mul(s0i, t0i)), f32x4.add(f32x4.mul(s1r, t1r), f32x4.mul(s1i, t1i))),
        f32x4.add(f32x4.add(f32x4.mul(s2r, t2r), f32x4.mul(s2i, t2i)), f32x4.add(f32x4.mul(s3r, t3r), f32x4.mul(s3i, t3i)))));
      // Ū: lanes of a recomputed tail already summed are masked out.
      const fresh4 = f32x4.convert_i32x4_s(v128.and(i32x4.ge_s(i32x4.add(lane, i32x4.splat(j)), i32x4.splat(done)), i32x4.splat(1)));
      const cm = f32x4.mul(c, fresh4), sm = f32x4.mul(s, fresh4);
      const c0r = f32x4.mul(cm, e0r), c0i = f32x4.mul(cm, e0i), c1r = f32x4.mul(cm, e1r), c1i = f32x4.mul(cm, e1i);
      const z0r = f32x4.mul(sm, e0r), z0i = f32x4.mul(sm, e0i), z1r = f32x4.mul(sm, e1r), z1i = f32x4.mul(sm, e1i);
      A00r = f32x4.add(A00r, f32x4.add(f32x4.mul(s0r, c0r), f32x4.mul(s0i, c0i))); A00i = f32x4.add(A00i, f32x4.sub(f32x4.mul(s0i, c0r), f32x4.mul(s0r, c0i)));
      A01r = f32x4.add(A01r, f32x4.add(f32x4.mul(s0r, c1r), f32x4.mul(s0i, c1i))); A01i = f32x4.add(A01i, f32x4.sub(f32x4.mul(s0i, c1r), f32x4.mul(s0r, c1i)));
      A10r = f32x4.add(A10r, f32x4.add(f32x4.mul(s1r, c0r), f32x4.mul(s1i, c0i))); A10i = f32x4.add(A10i, f32x4.sub(f32x4.mul(s1i, c0r), f32x4.mul(s1r, c0i)));
      A11r = f32x4.add(A11r, f32x4.add(f32x4.mul(s1r, c1r), f32x4.mul(s1i, c1i))); A11i = f32x4.add(A11i, f32x4.sub(f32x4.mul(s1i, c1r), f32x4.mul(s1r, c1i)));
      A20r = f32x4.add(A20r, f32x4.add(f32x4.mul(s2r, c0r), f32x4.mul(s2i, c0i))); A20i = f32x4.add(A20i, f32x4.sub(f32x4.mul(s2i, c0r), f32x4.mul(s2r, c0i)));
      A21r = f32x4.add(A21r, f32x4.add(f32x4.mul(s2r, c1r), f32x4.mul(s2i, c1i))); A21i = f32x4.add(A21i, f32x4.sub(f32x4.mul(s2i, c1r), f32x4.mul(s2r, c1i)));
      A30r = f32x4.add(A30r, f32x4.add(f32x4.mul(s3r, c0r), f32x4.mul(s3i, c0i))); A30i = f32x4.add(A30i, f32x4.sub(f32x4.mul(s3i, c0r), f32x4.mul(s3r, c0i)));
      A31r = f32x4.add(A31r, f32x4.add(f32x4.mul(s3r, c1r), f32x4.mul(s3i, c1i))); A31i = f32x4.add(A31i, f32x4.sub(f32x4.mul(s3i, c1r), f32x4.mul(s3r, c1i)));
      S00r = f32x4.add(S00r, f32x4.add(f32x4.mul(s0r, z0r), f32x4.mul(s0i, z0i))); S00i = f32x4.add(S00i, f32x4.sub(f32x4.mul(s0i, z0r), f32x4.mul(s0r, z0i)));
      S01r = f32x4.add(S01r, f32x4.add(f32x4.mul(s0r, z1r), f32x4.mul(s0i, z1i))); S01i = f32x4.add(S01i, f32x4.sub(f32x4.mul(s0i, z1r), f32x4.mul(s0r, z1i)));
      S10r = f32x4.add(S10r, f32x4.add(f32x4.mul(s1r, z0r), f32x4.mul(s1i, z0i))); S10i = f32x4.add(S10i, f32x4.sub(f32x4.mul(s1i, z0r), f32x4.mul(s1r, z0i)));
      S11r = f32x4.add(S11r, f32x4.add(f32x4.mul(s1r, z1r), f32x4.mul(s1i, z1i))); S11i = f32x4.add(S11i, f32x4.sub(f32x4.mul(s1i, z1r), f32x4.mul(s1r, z1i)));
      S20r = f32x4.add(S20r, f32x4.add(f32x4.mul(s2r, z0r), f32x4.mul(s2i, z0i))); S20i = f32x4.add(S20i, f32x4.sub(f32x4.mul(s2i, z0r), f32x4.mul(s2r, z0i)));
      S21r = f32x4.add(S21r, f32x4.add(f32x4.mul(s2r, z1r), f32x4.mul(s2i, z1i))); S21i = f32x4.add(S21i, f32x4.sub(f32x4.mul(s2i, z1r), f32x4.mul(s2r, z1i)));
      S30r = f32x4.add(S30r, f32x4.add(f32x4.mul(s3r, z0r), f32x4.mul(s3i, z0i))); S30i = f32x4.add(S30i, f32x4.sub(f32x4.mul(s3i, z0r), f32x4.mul(s3r, z0i)));
      S31r = f32x4.add(S31r, f32x4.add(f32x4.mul(s3r, z1r), f32x4.mul(s3i, z1i))); S31i = f32x4.add(S31i, f32x4.sub(f32x4.mul(s3i, z1r), f32x4.mul(s3r, z1i)));
      done = j + 4;
      j += 4;
    }
    // Ū[i][2m] = A_im, Ū[i][2m+1] = i·S_im = (−S.im, S.re)
    const gre = gURePtr + uo, gim = gUImPtr + uo;
    store<f32>(gre, hsum(A00r), 0); store<f32>(gim, hsum(A00i), 0); store<f32>(gre, -hsum(S00i), 4); store<f32>(gim, hsum(S00r), 4);
    store<f32>(gre, hsum(A01r), 8); store<f32>(gim, hsum(A01i), 8); store<f32>(gre, -hsum(S01i), 12); store<f32>(gim, hsum(S01r), 12);
    store<f32>(gre, hsum(A10r), 16); store<f32>(gim, hsum(A10i), 16); store<f32>(gre, -hsum(S10i), 20); store<f32>(gim, hsum(S10r), 20);
    store<f32>(gre, hsum(A11r), 24); store<f32>(gim, hsum(A11i), 24); store<f32>(gre, -hsum(S11i), 28); store<f32>(gim, hsum(S11r), 28);
    store<f32>(gre, hsum(A20r), 32); store<f32>(gim, hsum(A20i), 32); store<f32>(gre, -hsum(S20i), 36); store<f32>(gim, hsum(S20r), 36);
    store<f32>(gre, hsum(A21r), 40); store<f32>(gim, hsum(A21i), 40); store<f32>(gre, -hsum(S21i), 44); store<f32>(gim, hsum(S21r), 44);
    store<f32>(gre, hsum(A30r), 48); store<f32>(gim, hsum(A30i), 48); store<f32>(gre, -hsum(S30i), 52); store<f32>(gim, hsum(S30r), 52);
    store<f32>(gre, hsum(A31r), 56); store<f32>(gim, hsum(A31i), 56); store<f32>(gre, -hsum(S31i), 60); store<f32>(gim, hsum(S31r), 60);
  }
  return r1;
}

// @ts-ignore: decorator
@inline
function hsum(x: v128): f32 {
  return f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1) + f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3);
}

/**
 * Input synapse with sparse inputs, transposed layouts: zT[b, :] = Σ_p x[p, b]·wT[p, :] for x [P, B]
 * (data, mostly zeros: rate-coded spikes), wT [P, H], zT [B, H]. Only the nonzero x are visited, four
 * at a time, each adding a row of wT with f32x4 over H; a dense matmul visits all P.
 */
export function sparseInputT(wtPtr: usize, xPtr: usize, ztPtr: usize, P: i32, H: i32, B: i32, b0: i32, b1: i32): void {
  const h4 = H & ~3;
  for (let b = b0; b < b1; b++) {
    const z = ztPtr + (<usize>(b * H) << 2);
    for (let h = 0; h < H; h++) store<f32>(z + (<usize>h << 2), 0);
    let n = 0;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    let v0: f32 = 0, v1: f32 = 0, v2: f32 = 0, v3: f32 = 0;
    for (let p = 0; p <= P; p++) {
      // Gather four nonzero inputs, then add their rows at once (one load and store of z per four rows).
      if (p < P) {
        const v = load<f32>(xPtr + (<usize>(p * B + b) << 2));
        if (v == 0) continue;
        if (n == 0) { p0 = p; v0 = v; } else if (n == 1) { p1 = p; v1 = v; } else if (n == 2) { p2 = p; v2 = v; } else { p3 = p; v3 = v; }
        n++;
        if (n < 4) continue;
      } else if (n == 0) break;
      if (n < 4) { v3 = 0; p3 = p0; }
      if (n < 3) { v2 = 0; p2 = p0; }
      if (n < 2) { v1 = 0; p1 = p0; }
      const w0 = wtPtr + (<usize>(p0 * H) << 2), w1 = wtPtr + (<usize>(p1 * H) << 2);
      const w2 = wtPtr + (<usize>(p2 * H) << 2), w3 = wtPtr + (<usize>(p3 * H) << 2);
      const s0 = f32x4.splat(v0), s1 = f32x4.splat(v1), s2 = f32x4.splat(v2), s3 = f32x4.splat(v3);
      for (let h = 0; h < h4; h += 4) {
        const o = <usize>h << 2;
        const acc = f32x4.add(f32x4.add(f32x4.mul(s0, v128.load(w0 + o)), f32x4.mul(s1, v128.load(w1 + o))), f32x4.add(f32x4.mul(s2, v128.load(w2 + o)), f32x4.mul(s3, v128.load(w3 + o))));
        v128.store(z + o, f32x4.add(v128.load(z + o), acc));
      }
      for (let h = h4; h < H; h++) {
        const o = <usize>h << 2;
        store<f32>(z + o, load<f32>(z + o) + ((v0 * load<f32>(w0 + o) + v1 * load<f32>(w1 + o)) + (v2 * load<f32>(w2 + o) + v3 * load<f32>(w3 + o))));
      }
      n = 0;
    }
  }
}

/**
 * Products with data laid out sample-major, x [B, P] (spikes: mostly zeros), each row of x scanned
 * in order, four entries per test (a zero group is skipped at once):
 *   outer = 0: out [B, H],  out[b, :] = Σ_p x[b, p]·a[p, :]   (currents W·x, a = Wᵀ [P, H])
 *   outer = 1: out [P, H],  out[p, :] = Σ_b x[b, p]·a[b, :]   (a weight update, a = eᵀ [B, H])
 * Contiguous reads of x, where sparseInputT reads a column of x [P, B] at a stride of B.
 */
export function rowSparse(xPtr: usize, aPtr: usize, outPtr: usize, B: i32, P: i32, H: i32, outer: i32): void {
  const h4 = H & ~3;
  const outLen = (outer ? P : B) * H;
  for (let i = 0; i < outLen; i++) store<f32>(outPtr + (<usize>i << 2), 0);
  for (let b = 0; b < B; b++) {
    const row = xPtr + (<usize>(b * P) << 2);
    for (let p0 = 0; p0 < P; p0 += 4) {
      const n = P - p0 < 4 ? P - p0 : 4;
      if (n == 4 && !v128.any_true(v128.load(row + (<usize>p0 << 2)))) continue;
      for (let k = 0; k < n; k++) {
        const p = p0 + k;
        const v = load<f32>(row + (<usize>p << 2));
        if (v == 0) continue;
        const dst = outPtr + (<usize>((outer ? p : b) * H) << 2);
        const src = aPtr + (<usize>((outer ? b : p) * H) << 2);
        const s = f32x4.splat(v);
        for (let h = 0; h < h4; h += 4) {
          const o = <usize>h << 2;
          v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(s, v128.load(src + o))));
        }
        for (let h = h4; h < H; h++) {
          const o = <usize>h << 2;
          store<f32>(dst + o, load<f32>(dst + o) + v * load<f32>(src + o));
        }
      }
    }
  }
}

/**
 * The same products for a narrow H (a few neurons), dense and vectorised along P, x [B, P]:
 *   outer = 0: out [H, B],  out[h, b] = Σ_p a[h, p]·x[b, p]   (currents, a = W [H, P])
 *   outer = 1: out [H, P],  out[h, :] = Σ_b a[h, b]·x[b, :]   (a weight update, a = e [H, B])
 * With H below ~8 the sparse kernel's work per nonzero entry outweighs what the zeros save.
 */
export function rowDense(xPtr: usize, aPtr: usize, outPtr: usize, B: i32, P: i32, H: i32, outer: i32): void {
  const p4 = P & ~3;
  if (!outer) {
    for (let h = 0; h < H; h++) {
      const w = aPtr + (<usize>(h * P) << 2);
      for (let b = 0; b < B; b++) {
        const row = xPtr + (<usize>(b * P) << 2);
        let acc = f32x4.splat(0);
        for (let p = 0; p < p4; p += 4) {
          const o = <usize>p << 2;
          acc = f32x4.add(acc, f32x4.mul(v128.load(w + o), v128.load(row + o)));
        }
        let s: f32 = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
        for (let p = p4; p < P; p++) s += load<f32>(w + (<usize>p << 2)) * load<f32>(row + (<usize>p << 2));
        store<f32>(outPtr + (<usize>(h * B + b) << 2), s);
      }
    }
    return;
  }
  for (let i = 0; i < H * P; i++) store<f32>(outPtr + (<usize>i << 2), 0);
  for (let b = 0; b < B; b++) {
    const row = xPtr + (<usize>(b * P) << 2);
    for (let h = 0; h < H; h++) {
      const e = load<f32>(aPtr + (<usize>(h * B + b) << 2));
      if (e == 0) continue;
      const s = f32x4.splat(e);
      const dst = outPtr + (<usize>(h * P) << 2);
      for (let p = 0; p < p4; p += 4) {
        const o = <usize>p << 2;
        v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(s, v128.load(row + o))));
      }
      for (let p = p4; p < P; p++) store<f32>(dst + (<usize>p << 2), load<f32>(dst + (<usize>p << 2)) + e * load<f32>(row + (<usize>p << 2)));
    }
  }
}

/**
 * dst [N, C, R] = src [N, R, C] with the last two axes swapped (any 4-byte elements), in 4 × 4 blocks
 * transposed in registers, blocks visited in 16 × 16 tiles so that both sides stay in cache.
 */
export function transpose2d(srcPtr: usize, dstPtr: usize, N: i32, R: i32, C: i32): void {
  const r4 = R & ~3;
  const c4 = C & ~3;
  for (let n = 0; n < N; n++) {
    const src = srcPtr + (<usize>(n * R * C) << 2);
    const dst = dstPtr + (<usize>(n * R * C) << 2);
    for (let r0 = 0; r0 < r4; r0 += 16) {
      const r1 = r0 + 16 < r4 ? r0 + 16 : r4;
      for (let c0 = 0; c0 < c4; c0 += 16) {
        const c1 = c0 + 16 < c4 ? c0 + 16 : c4;
        for (let r = r0; r < r1; r += 4)
          for (let c = c0; c < c1; c += 4) {
            const s = src + (<usize>(r * C + c) << 2);
            const rowBytes = <usize>C << 2;
            const a0 = v128.load(s), a1 = v128.load(s + rowBytes), a2 = v128.load(s + 2 * rowBytes), a3 = v128.load(s + 3 * rowBytes);
            const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7);
            const t2 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7);
            const d = dst + (<usize>(c * R + r) << 2);
            const colBytes = <usize>R << 2;
            v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
            v128.store(d + colBytes, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
            v128.store(d + 2 * colBytes, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
            v128.store(d + 3 * colBytes, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
          }
      }
    }
    // The edges: rows past r4 (all columns), columns past c4 (the first r4 rows).
    for (let r = r4; r < R; r++) for (let c = 0; c < C; c++) store<i32>(dst + (<usize>(c * R + r) << 2), load<i32>(src + (<usize>(r * C + c) << 2)));
    for (let r = 0; r < r4; r++) for (let c = c4; c < C; c++) store<i32>(dst + (<usize>(c * R + r) << 2), load<i32>(src + (<usize>(r * C + c) << 2)));
  }
}

/**
 * One Adam step over n parameters (kernels/adam.ts): g' = c·g, m' = β₁m + (1−β₁)g',
 * v' = β₂v + (1−β₂)g'², p' = p − s·m'/(√v' + ε), in float32 as the composed ops, four at a time.
 */
export function adam(pPtr: usize, mPtr: usize, vPtr: usize, gPtr: usize, p2Ptr: usize, m2Ptr: usize, v2Ptr: usize, n: i32, c: f32, beta1: f32, beta2: f32, eps: f32, step: f32): void {
  const n4 = n & ~3;
  const C = f32x4.splat(c), B1 = f32x4.splat(beta1), A1 = f32x4.splat(1 - beta1), B2 = f32x4.splat(beta2), A2 = f32x4.splat(1 - beta2);
  const E = f32x4.splat(eps), S = f32x4.splat(step);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const g = f32x4.mul(v128.load(gPtr + o), C);
    const m = f32x4.add(f32x4.mul(v128.load(mPtr + o), B1), f32x4.mul(g, A1));
    const v = f32x4.add(f32x4.mul(v128.load(vPtr + o), B2), f32x4.mul(f32x4.mul(g, g), A2));
    v128.store(m2Ptr + o, m);
    v128.store(v2Ptr + o, v);
    v128.store(p2Ptr + o, f32x4.sub(v128.load(pPtr + o), f32x4.mul(f32x4.div(m, f32x4.add(f32x4.sqrt(v), E)), S)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gPtr + o) * c;
    const m = load<f32>(mPtr + o) * beta1 + g * (1 - beta1);
    const v = load<f32>(vPtr + o) * beta2 + g * g * (1 - beta2);
    store<f32>(m2Ptr + o, m);
    store<f32>(v2Ptr + o, v);
    store<f32>(p2Ptr + o, load<f32>(pPtr + o) - (m / (Mathf.sqrt(v) + eps)) * step);
  }
}

/**
 * Bernoulli draws (kernels/counter-hash.ts `seededBernoulli`): out[r·n + j] = 1 when the draw of
 * counter r·n + j is below prob[j], else 0, for r < repeats; four counters per hash.
 */
export function bernoulli(probPtr: usize, outPtr: usize, n: i32, repeats: i32, k1: i32, k2: i32): void {
  const n4 = n & ~3;
  const one = f32x4.splat(1);
  for (let r = 0; r < repeats; r++) {
    const base = r * n;
    const out = outPtr + (<usize>base << 2);
    for (let j = 0; j < n4; j += 4) {
      const u = uniforms(k1, k2, base + j);
      v128.store(out + (<usize>j << 2), v128.and(f32x4.lt(u, v128.load(probPtr + (<usize>j << 2))), one));
    }
    if (n4 < n) {
      const u = uniforms(k1, k2, base + n4);
      for (let j = n4; j < n; j++) {
        const lane = j - n4;
        const uj: f32 = lane == 0 ? f32x4.extract_lane(u, 0) : lane == 1 ? f32x4.extract_lane(u, 1) : f32x4.extract_lane(u, 2);
        store<f32>(out + (<usize>j << 2), uj < load<f32>(probPtr + (<usize>j << 2)) ? 1 : 0);
      }
    }
  }
}
