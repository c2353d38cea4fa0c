/**
 * Independent float64 reference simulator for the SQS neuron (docs/model.md §1), for tests only.
 *
 * It shares NO code with the engine (`kernels/`, `src/`): no tfjs, no engine gate tables. Everything
 * is done the slow, obvious way on small dense matrices: every gate is expanded to a full D×D matrix
 * by looking at the bits of the row and column indices, states are evolved by plain matrix products,
 * density matrices by U ρ U† and Σ K ρ K†.
 *
 * Conventions (from the issue):
 *  - qubits 0..N−1 are IO qubits, N..N+N_M−1 memory; basis index i = Σ_q b_q 2^q, so
 *    i = y + 2^N·m with y the IO outcome and m the memory index;
 *  - RX(a) = [[c, −is], [−is, c]], RY(a) = [[c, −s], [s, c]], RZ(a) = diag(e^{−ia/2}, e^{ia/2}),
 *    c = cos(a/2), s = sin(a/2); H, X; CNOT = controlled X, CZ = controlled Z; CRX/CRY/CRZ apply the
 *    rotation to the target when the control is |1⟩; two-qubit gates list [control, target];
 *  - step: IO in |0⟩, RX(π·max(z_n, 0)) on IO qubit n, register = IO ⊗ memory, circuit, measure IO:
 *    p(y) = ‖(⟨y|⊗I)ψ‖², memory ← (⟨y|⊗I)ψ/√p(y);
 *  - density noise after each gate layer, on every qubit: amplitude damping γ = 1 − e^{−Δt/T1}, then
 *    phase flip with 1 − 2p = e^{−Δt/Tφ}, 1/Tφ = 1/T2 − 1/(2T1), then depolarising with probability p
 *    (Kraus √(1−3p/4) I, √(p/4) X, Y, Z).
 */

// ---------------------------------------------------------------------------------------------
// Complex dense matrices and vectors
// ---------------------------------------------------------------------------------------------

/** A complex number. */
export interface C64 {
  re: number;
  im: number;
}

/** Dense complex vector. */
export interface CVec {
  re: Float64Array;
  im: Float64Array;
}

/** Dense complex square matrix, row-major: entry (i, j) at i·n + j. */
export interface CMat {
  n: number;
  re: Float64Array;
  im: Float64Array;
}

export function cvec(n: number): CVec {
  return { re: new Float64Array(n), im: new Float64Array(n) };
}

export function cmat(n: number): CMat {
  return { n, re: new Float64Array(n * n), im: new Float64Array(n * n) };
}

export function identity(n: number): CMat {
  const m = cmat(n);
  for (let i = 0; i < n; i++) m.re[i * n + i] = 1;
  return m;
}

export function matmul(a: CMat, b: CMat): CMat {
  const n = a.n;
  if (b.n !== n) throw new Error('matmul: size mismatch');
  const out = cmat(n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const ar = a.re[i * n + k];
      const ai = a.im[i * n + k];
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < n; j++) {
        const br = b.re[k * n + j];
        const bi = b.im[k * n + j];
        out.re[i * n + j] += ar * br - ai * bi;
        out.im[i * n + j] += ar * bi + ai * br;
      }
    }
  return out;
}

/** Conjugate transpose. */
export function dagger(a: CMat): CMat {
  const n = a.n;
  const out = cmat(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      out.re[j * n + i] = a.re[i * n + j];
      out.im[j * n + i] = -a.im[i * n + j];
    }
  return out;
}

export function matvec(a: CMat, v: CVec): CVec {
  const n = a.n;
  const out = cvec(n);
  for (let i = 0; i < n; i++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const ar = a.re[i * n + j];
      const ai = a.im[i * n + j];
      sr += ar * v.re[j] - ai * v.im[j];
      si += ar * v.im[j] + ai * v.re[j];
    }
    out.re[i] = sr;
    out.im[i] = si;
  }
  return out;
}

export function addInto(acc: CMat, a: CMat, scale = 1): void {
  for (let i = 0; i < acc.re.length; i++) {
    acc.re[i] += scale * a.re[i];
    acc.im[i] += scale * a.im[i];
  }
}

export function scaleMat(a: CMat, s: number): CMat {
  const out = cmat(a.n);
  for (let i = 0; i < a.re.length; i++) {
    out.re[i] = a.re[i] * s;
    out.im[i] = a.im[i] * s;
  }
  return out;
}

/** |v⟩⟨v|. */
export function outer(v: CVec): CMat {
  const n = v.re.length;
  const out = cmat(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      // v_i · conj(v_j)
      out.re[i * n + j] = v.re[i] * v.re[j] + v.im[i] * v.im[j];
      out.im[i * n + j] = v.im[i] * v.re[j] - v.re[i] * v.im[j];
    }
  return out;
}

export function trace(a: CMat): C64 {
  let re = 0;
  let im = 0;
  for (let i = 0; i < a.n; i++) {
    re += a.re[i * a.n + i];
    im += a.im[i * a.n + i];
  }
  return { re, im };
}

/** max |a_ij − conj(a_ji)|. */
export function hermitianDefect(a: CMat): number {
  let m = 0;
  const n = a.n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const dr = a.re[i * n + j] - a.re[j * n + i];
      const di = a.im[i * n + j] + a.im[j * n + i];
      m = Math.max(m, Math.hypot(dr, di));
    }
  return m;
}

/**
 * Eigenvalues of a Hermitian matrix A + iB, via cyclic Jacobi on the real symmetric embedding
 * [[A, −B], [B, A]] (each eigenvalue appears twice there). Returned sorted ascending, deduplicated
 * by taking every other value of the 2n sorted values.
 */
export function hermitianEigenvalues(h: CMat): number[] {
  const n = h.n;
  const m = 2 * n;
  const a = new Float64Array(m * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      // Symmetrise first so a slightly non-Hermitian input still gives a symmetric embedding.
      const re = 0.5 * (h.re[i * n + j] + h.re[j * n + i]);
      const im = 0.5 * (h.im[i * n + j] - h.im[j * n + i]);
      a[i * m + j] = re;
      a[(i + n) * m + (j + n)] = re;
      a[(i + n) * m + j] = im;
      a[i * m + (j + n)] = -im;
    }
  const symmetricJacobi = (s: Float64Array, size: number): number[] => {
    for (let sweep = 0; sweep < 100; sweep++) {
      let off = 0;
      for (let p = 0; p < size; p++) for (let q = p + 1; q < size; q++) off += s[p * size + q] ** 2;
      if (off < 1e-26) break;
      for (let p = 0; p < size; p++)
        for (let q = p + 1; q < size; q++) {
          const apq = s[p * size + q];
          if (Math.abs(apq) < 1e-300) continue;
          const app = s[p * size + p];
          const aqq = s[q * size + q];
          const theta = (aqq - app) / (2 * apq);
          const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          const c = 1 / Math.sqrt(t * t + 1);
          const sn = t * c;
          for (let k = 0; k < size; k++) {
            const akp = s[k * size + p];
            const akq = s[k * size + q];
            s[k * size + p] = c * akp - sn * akq;
            s[k * size + q] = sn * akp + c * akq;
          }
          for (let k = 0; k < size; k++) {
            const apk = s[p * size + k];
            const aqk = s[q * size + k];
            s[p * size + k] = c * apk - sn * aqk;
            s[q * size + k] = sn * apk + c * aqk;
          }
        }
    }
    const ev: number[] = [];
    for (let i = 0; i < size; i++) ev.push(s[i * size + i]);
    return ev.sort((x, y) => x - y);
  };
  const all = symmetricJacobi(a, m);
  const out: number[] = [];
  for (let i = 0; i < m; i += 2) out.push(0.5 * (all[i] + all[i + 1]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gates
// ---------------------------------------------------------------------------------------------

/** 2×2 matrix as [m00, m01, m10, m11]. */
export type M2 = [C64, C64, C64, C64];

const cx = (re: number, im = 0): C64 => ({ re, im });

export type RefGateName = 'RX' | 'RY' | 'RZ' | 'CRX' | 'CRY' | 'CRZ' | 'H' | 'X' | 'CNOT' | 'CZ';

export const REF_GATE_NAMES: RefGateName[] = ['RX', 'RY', 'RZ', 'CRX', 'CRY', 'CRZ', 'H', 'X', 'CNOT', 'CZ'];

export function rx(a: number): M2 {
  const c = Math.cos(a / 2);
  const s = Math.sin(a / 2);
  return [cx(c), cx(0, -s), cx(0, -s), cx(c)];
}
export function ry(a: number): M2 {
  const c = Math.cos(a / 2);
  const s = Math.sin(a / 2);
  return [cx(c), cx(-s), cx(s), cx(c)];
}
export function rz(a: number): M2 {
  return [cx(Math.cos(a / 2), -Math.sin(a / 2)), cx(0), cx(0), cx(Math.cos(a / 2), Math.sin(a / 2))];
}
export const HAD: M2 = [cx(Math.SQRT1_2), cx(Math.SQRT1_2), cx(Math.SQRT1_2), cx(-Math.SQRT1_2)];
export const PAULI_I: M2 = [cx(1), cx(0), cx(0), cx(1)];
export const PAULI_X: M2 = [cx(0), cx(1), cx(1), cx(0)];
export const PAULI_Y: M2 = [cx(0), cx(0, -1), cx(0, 1), cx(0)];
export const PAULI_Z: M2 = [cx(1), cx(0), cx(0), cx(-1)];

export function isTwoQubit(g: RefGateName): boolean {
  return g === 'CRX' || g === 'CRY' || g === 'CRZ' || g === 'CNOT' || g === 'CZ';
}
export function isParametric(g: RefGateName): boolean {
  return g === 'RX' || g === 'RY' || g === 'RZ' || g === 'CRX' || g === 'CRY' || g === 'CRZ';
}

/** The single-qubit matrix a gate applies to its target (when its control, if any, is |1⟩). */
export function targetMatrix(g: RefGateName, angle = 0): M2 {
  switch (g) {
    case 'RX':
    case 'CRX':
      return rx(angle);
    case 'RY':
    case 'CRY':
      return ry(angle);
    case 'RZ':
    case 'CRZ':
      return rz(angle);
    case 'H':
      return HAD;
    case 'X':
    case 'CNOT':
      return PAULI_X;
    case 'CZ':
      return PAULI_Z;
  }
}

/**
 * Full D×D matrix of a 2×2 operator `m` on qubit `target` of `nq` qubits, optionally only where
 * qubit `control` is 1: ⟨i|G|j⟩ = m[b_t(i), b_t(j)] if all other bits of i and j agree (and, when
 * controlled, b_c(j) = 1), δ_ij when controlled and b_c(j) = 0.
 */
export function expand(nq: number, m: M2, target: number, control?: number): CMat {
  const d = 2 ** nq;
  const out = cmat(d);
  const tbit = 1 << target;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      if ((i & ~tbit) !== (j & ~tbit)) continue;
      if (control !== undefined && ((j >> control) & 1) === 0) {
        if (i === j) out.re[i * d + j] = 1;
        continue;
      }
      const e = m[(((i >> target) & 1) << 1) | ((j >> target) & 1)];
      out.re[i * d + j] = e.re;
      out.im[i * d + j] = e.im;
    }
  return out;
}

/** A gate with a concrete angle. */
export interface RefGate {
  gate: RefGateName;
  /** [target] or [control, target]. */
  qubits: number[];
  angle?: number;
}

export function gateMatrix(nq: number, g: RefGate): CMat {
  const m = targetMatrix(g.gate, g.angle ?? 0);
  return isTwoQubit(g.gate) ? expand(nq, m, g.qubits[1], g.qubits[0]) : expand(nq, m, g.qubits[0]);
}

/** A neuron circuit with concrete angles: N IO qubits, N_M memory qubits, layers of gates. */
export interface RefCircuit {
  n: number;
  nm: number;
  layers: RefGate[][];
}

export function totalQubits(c: RefCircuit): number {
  return c.n + c.nm;
}

/** V = G_last ⋯ G_first. */
export function layerUnitary(nq: number, layer: RefGate[]): CMat {
  let u = identity(2 ** nq);
  for (const g of layer) u = matmul(gateMatrix(nq, g), u);
  return u;
}

export function circuitUnitary64(c: RefCircuit): CMat {
  const nq = totalQubits(c);
  let u = identity(2 ** nq);
  for (const layer of c.layers) u = matmul(layerUnitary(nq, layer), u);
  return u;
}

// ---------------------------------------------------------------------------------------------
// Statevector SQS step
// ---------------------------------------------------------------------------------------------

/** Encoding angle π·max(z, 0). */
export function encodingAngle(z: number): number {
  return Math.PI * Math.max(z, 0);
}

/** Encoding unitary ⊗_n RX(φ_n) on the IO qubits (identity on memory). */
export function encodingUnitary(c: RefCircuit, phi: number[]): CMat {
  const nq = totalQubits(c);
  let u = identity(2 ** nq);
  for (let q = 0; q < c.n; q++) u = matmul(expand(nq, rx(phi[q]), q), u);
  return u;
}

/** |0…0⟩_IO ⊗ mem: amplitude at y + 2^N m is δ_{y0}·mem[m]. */
export function embedMemory(c: RefCircuit, mem: CVec): CVec {
  const psi = cvec(2 ** totalQubits(c));
  for (let m = 0; m < 2 ** c.nm; m++) {
    psi.re[m << c.n] = mem.re[m];
    psi.im[m << c.n] = mem.im[m];
  }
  return psi;
}

export function zeroMemory(nm: number): CVec {
  const v = cvec(2 ** nm);
  v.re[0] = 1;
  return v;
}

/** ψ = V · (⊗RX(φ)) · (|0⟩ ⊗ mem). */
export function evolvePure(c: RefCircuit, mem: CVec, phi: number[], u?: CMat): CVec {
  const v = u ?? circuitUnitary64(c);
  return matvec(v, matvec(encodingUnitary(c, phi), embedMemory(c, mem)));
}

export function outcomeProbs64(c: RefCircuit, psi: CVec): number[] {
  const k = 2 ** c.n;
  const p = new Array(k).fill(0);
  for (let i = 0; i < psi.re.length; i++) p[i % k] += psi.re[i] ** 2 + psi.im[i] ** 2;
  return p;
}

/** (⟨y|⊗I)ψ/√p(y) and p(y). */
export function collapse64(c: RefCircuit, psi: CVec, y: number): { mem: CVec; prob: number } {
  const dm = 2 ** c.nm;
  const mem = cvec(dm);
  let prob = 0;
  for (let m = 0; m < dm; m++) {
    const i = y + (m << c.n);
    mem.re[m] = psi.re[i];
    mem.im[m] = psi.im[i];
    prob += psi.re[i] ** 2 + psi.im[i] ** 2;
  }
  const s = prob > 0 ? 1 / Math.sqrt(prob) : 0;
  for (let m = 0; m < dm; m++) {
    mem.re[m] *= s;
    mem.im[m] *= s;
  }
  return { mem, prob };
}

export interface PureStep {
  probs: number[];
  mem: CVec;
  prob: number;
}

/** One statevector SQS step with the outcome y given (teacher forcing). */
export function pureStep(c: RefCircuit, mem: CVec, currents: number[], y: number, u?: CMat): PureStep {
  const psi = evolvePure(c, mem, currents.map(encodingAngle), u);
  const probs = outcomeProbs64(c, psi);
  const col = collapse64(c, psi, y);
  return { probs, mem: col.mem, prob: col.prob };
}

/**
 * Inverse-CDF sampling with the engine's documented rule: y = #{k < K−1 : cdf_k ≤ u·Σp}.
 */
export function sampleIndex(probs: number[], u: number): number {
  const tot = probs.reduce((a, b) => a + b, 0);
  let cdf = 0;
  let y = 0;
  for (let k = 0; k < probs.length - 1; k++) {
    cdf += probs[k];
    if (cdf <= u * tot) y++;
  }
  return y;
}

/**
 * All outcome histories of T statevector steps with currents[t][n], each with its probability and
 * final memory (histories of probability 0 are dropped).
 */
export function enumerateHistories(
  c: RefCircuit,
  currents: number[][],
): { ys: number[]; prob: number; mem: CVec }[] {
  const u = circuitUnitary64(c);
  let frontier = [{ ys: [] as number[], prob: 1, mem: zeroMemory(c.nm) }];
  for (const z of currents) {
    const next: typeof frontier = [];
    for (const h of frontier) {
      const psi = evolvePure(c, h.mem, z.map(encodingAngle), u);
      for (let y = 0; y < 2 ** c.n; y++) {
        const col = collapse64(c, psi, y);
        if (col.prob <= 1e-300) continue;
        next.push({ ys: [...h.ys, y], prob: h.prob * col.prob, mem: col.mem });
      }
    }
    frontier = next;
  }
  return frontier;
}

/**
 * Outcome-averaged statevector trajectory: per step, the unconditional outcome distribution
 * Σ_hist P(hist) p(y_t | hist), and after the last step the mixture Σ_hist P(hist) |m⟩⟨m|.
 */
export function averagedPureTrajectory(c: RefCircuit, currents: number[][]): { probs: number[][]; rhoMem: CMat[] } {
  const probs: number[][] = [];
  const rhoMem: CMat[] = [];
  for (let t = 1; t <= currents.length; t++) {
    const hs = enumerateHistories(c, currents.slice(0, t));
    const p = new Array(2 ** c.n).fill(0);
    const rho = cmat(2 ** c.nm);
    for (const h of hs) {
      p[h.ys[t - 1]] += h.prob;
      addInto(rho, outer(h.mem), h.prob);
    }
    probs.push(p);
    rhoMem.push(rho);
  }
  return { probs, rhoMem };
}

// ---------------------------------------------------------------------------------------------
// Density mode
// ---------------------------------------------------------------------------------------------

export interface RefNoise {
  /** T1; Infinity for none. */
  t1: number;
  /** T2; Infinity for none (then no extra dephasing beyond what T1 gives). */
  t2: number;
  /** Δt per gate layer. */
  gateTime: number;
  /** Depolarising probability per qubit per layer. */
  depolarizing: number;
}

export const NO_NOISE: RefNoise = { t1: Infinity, t2: Infinity, gateTime: 0, depolarizing: 0 };

/** U ρ U†. */
export function conjugate(u: CMat, rho: CMat): CMat {
  return matmul(matmul(u, rho), dagger(u));
}

/** Σ_k K_k ρ K_k† with each 2×2 Kraus operator on qubit q. */
export function krausOnQubit(nq: number, rho: CMat, kraus: M2[], q: number): CMat {
  const out = cmat(rho.n);
  for (const k of kraus) addInto(out, conjugate(expand(nq, k, q), rho));
  return out;
}

const scaleM2 = (m: M2, s: number): M2 => m.map((e) => ({ re: e.re * s, im: e.im * s })) as M2;

export function amplitudeDampingKraus(gamma: number): M2[] {
  return [
    [cx(1), cx(0), cx(0), cx(Math.sqrt(1 - gamma))],
    [cx(0), cx(Math.sqrt(gamma)), cx(0), cx(0)],
  ];
}

export function phaseFlipKraus(p: number): M2[] {
  return [scaleM2(PAULI_I, Math.sqrt(1 - p)), scaleM2(PAULI_Z, Math.sqrt(p))];
}

export function depolarizingKraus(p: number): M2[] {
  return [
    scaleM2(PAULI_I, Math.sqrt(1 - (3 * p) / 4)),
    scaleM2(PAULI_X, Math.sqrt(p / 4)),
    scaleM2(PAULI_Y, Math.sqrt(p / 4)),
    scaleM2(PAULI_Z, Math.sqrt(p / 4)),
  ];
}

/** Channel parameters for one layer: γ, phase-flip p, depolarising p. */
export function noiseParameters(noise: RefNoise): { gamma: number; pPhase: number; pDepol: number } {
  const dt = noise.gateTime;
  const invT1 = Number.isFinite(noise.t1) ? 1 / noise.t1 : 0;
  const invT2 = Number.isFinite(noise.t2) ? 1 / noise.t2 : invT1 / 2;
  const invTphi = invT2 - invT1 / 2;
  if (invTphi < -1e-12) throw new Error('T2 > 2·T1 is unphysical');
  const gamma = 1 - Math.exp(-dt * invT1);
  const pPhase = (1 - Math.exp(-dt * Math.max(invTphi, 0))) / 2;
  return { gamma, pPhase, pDepol: noise.depolarizing };
}

/** The noise applied after one gate layer: on every qubit AD, then phase flip, then depolarising. */
export function applyLayerNoise(nq: number, rho: CMat, noise: RefNoise): CMat {
  const { gamma, pPhase, pDepol } = noiseParameters(noise);
  let r = rho;
  for (let q = 0; q < nq; q++) {
    if (gamma > 0) r = krausOnQubit(nq, r, amplitudeDampingKraus(gamma), q);
    if (pPhase > 0) r = krausOnQubit(nq, r, phaseFlipKraus(pPhase), q);
    if (pDepol > 0) r = krausOnQubit(nq, r, depolarizingKraus(pDepol), q);
  }
  return r;
}

/** |0…0⟩⟨0…0|_IO ⊗ σ: entry (y + 2^N m, y' + 2^N m') = δ_y0 δ_y'0 σ[m, m']. */
export function embedDensity(c: RefCircuit, sigma: CMat): CMat {
  const d = 2 ** totalQubits(c);
  const dm = 2 ** c.nm;
  const rho = cmat(d);
  for (let m = 0; m < dm; m++)
    for (let mp = 0; mp < dm; mp++) {
      rho.re[(m << c.n) * d + (mp << c.n)] = sigma.re[m * dm + mp];
      rho.im[(m << c.n) * d + (mp << c.n)] = sigma.im[m * dm + mp];
    }
  return rho;
}

/** Register density after encoding and the noisy circuit (noise after each gate layer). */
export function evolveDensity(c: RefCircuit, sigma: CMat, phi: number[], noise: RefNoise = NO_NOISE): CMat {
  const nq = totalQubits(c);
  let rho = conjugate(encodingUnitary(c, phi), embedDensity(c, sigma));
  for (const layer of c.layers) {
    rho = conjugate(layerUnitary(nq, layer), rho);
    rho = applyLayerNoise(nq, rho, noise);
  }
  return rho;
}

/** p(y) = Σ_m ρ[(y,m),(y,m)]. */
export function densityOutcomeProbs(c: RefCircuit, rho: CMat): number[] {
  const k = 2 ** c.n;
  const p = new Array(k).fill(0);
  for (let i = 0; i < rho.n; i++) p[i % k] += rho.re[i * rho.n + i];
  return p;
}

/** Block (y, y) of ρ over the memory index (unnormalised). */
export function memoryBlock(c: RefCircuit, rho: CMat, y: number): CMat {
  const dm = 2 ** c.nm;
  const out = cmat(dm);
  for (let m = 0; m < dm; m++)
    for (let mp = 0; mp < dm; mp++) {
      out.re[m * dm + mp] = rho.re[(y + (m << c.n)) * rho.n + (y + (mp << c.n))];
      out.im[m * dm + mp] = rho.im[(y + (m << c.n)) * rho.n + (y + (mp << c.n))];
    }
  return out;
}

export interface DensityStep {
  probs: number[];
  /** Memory density after the step: block(y,y)/p(y), or Σ_y block(y,y) when averaged. */
  rhoMem: CMat;
  /** p(y) of the outcome taken (1 when averaged). */
  prob: number;
}

/** One density-mode step: y = outcome taken, or 'average' for the outcome-averaged memory. */
export function densityStep64(
  c: RefCircuit,
  sigma: CMat,
  currents: number[],
  y: number | 'average',
  noise: RefNoise = NO_NOISE,
): DensityStep {
  return measureDensity(c, evolveDensity(c, sigma, currents.map(encodingAngle), noise), y);
}

/** Measure the IO qubits of a register density ρ: outcome y taken, or averaged over outcomes. */
export function measureDensity(c: RefCircuit, rho: CMat, y: number | 'average'): DensityStep {
  const probs = densityOutcomeProbs(c, rho);
  if (y === 'average') {
    const acc = cmat(2 ** c.nm);
    for (let k = 0; k < 2 ** c.n; k++) addInto(acc, memoryBlock(c, rho, k));
    return { probs, rhoMem: acc, prob: 1 };
  }
  const prob = probs[y];
  return { probs, rhoMem: scaleMat(memoryBlock(c, rho, y), prob > 0 ? 1 / prob : 0), prob };
}

export function zeroDensity(nm: number): CMat {
  const r = cmat(2 ** nm);
  r.re[0] = 1;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG for tests
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG returning uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
