/**
 * AssemblyScript source of the SIMD forward step of the paper neuron (N = 1, M = 1, D = 4): the same
 * computation as `loopN1M1` in ../../forward.ts, four samples per f32x4 lane group, in float32.
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
        const a = f32x4.mul(ph, f32x4.splat(0.5));
        // NaN fails the comparison too.
        if (!i32x4.all_true(f32x4.lt(f32x4.abs(a), f32x4.splat(REDUCE_LIMIT)))) return r;
        // t = a − k·π/2 in float32, π/2 in three parts (Cody–Waite): k·PIO2_1 and k·PIO2_2 are exact for
        // |k| < 2^12, so t is as accurate as float32 allows while |a| < REDUCE_LIMIT.
        const kf = f32x4.nearest(f32x4.mul(a, f32x4.splat(TWO_OVER_PI)));
        const t = f32x4.sub(f32x4.sub(f32x4.sub(a, f32x4.mul(kf, f32x4.splat(PIO2_1))), f32x4.mul(kf, f32x4.splat(PIO2_2))), f32x4.mul(kf, f32x4.splat(PIO2_3)));
        const ki = i32x4.trunc_sat_f32x4_s(kf);
        const z = f32x4.mul(t, t);
        const sn = f32x4.add(t, f32x4.mul(f32x4.mul(t, z), f32x4.add(f32x4.splat(S1), f32x4.mul(z, f32x4.add(f32x4.splat(S2), f32x4.mul(z, f32x4.splat(S3)))))));
        const cs = f32x4.add(
          f32x4.sub(one, f32x4.mul(f32x4.splat(0.5), z)),
          f32x4.mul(f32x4.mul(z, z), f32x4.add(f32x4.splat(C1), f32x4.mul(z, f32x4.add(f32x4.splat(C2), f32x4.mul(z, f32x4.splat(C3)))))),
        );
        // Odd quadrant: swap; sign bits from bit 1 of k + 1 (cos) and of k (sin).
        const odd = i32x4.eq(v128.and(ki, i32x4.splat(1)), i32x4.splat(1));
        const c = v128.xor(v128.bitselect(sn, cs, odd), i32x4.shl(v128.and(i32x4.add(ki, i32x4.splat(1)), i32x4.splat(2)), 30));
        const s = v128.xor(v128.bitselect(cs, sn, odd), i32x4.shl(v128.and(ki, i32x4.splat(2)), 30));
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
