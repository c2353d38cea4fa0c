/**
 * Density-matrix mode (kernels/density.ts) vs the independent float64 reference: noisy steps
 * (amplitude damping, dephasing, depolarising after every gate layer), physical validity of the
 * states (trace 1, Hermitian, PSD), T1 relaxation, and noiseless outcome-averaging = statevector
 * mode averaged over all outcome histories.
 */
import { setupBackend } from './helpers';
import { tf } from '../kernels/tf';
import { NoiseError, NoiseSpec, densityFromPure, densityStep } from '../kernels/density';
import { compileCircuit, occurrenceAngles, paperCircuit } from '../kernels/circuit';
import { Spec, pickLikely, randUniform, randomCurrents, randomSpec, randomThetas, refCircuit, rng } from './reference/bridge';
import {
  DensityRecord,
  densityDiff,
  engineDensityTrajectory,
  engineTrajectory,
  matrixAt,
  maxDiff,
  referenceDensityTrajectory,
  referenceTrajectory,
  thetaTensor,
} from './reference/drive';
import { CVec, RefNoise, averagedPureTrajectory, cvec, hermitianDefect, hermitianEigenvalues, outer, sampleIndex, trace } from './reference/sim64';

const TOL = 1e-5;

function refNoise(n: NoiseSpec | undefined): RefNoise {
  return {
    t1: n?.t1 ?? Infinity,
    t2: n?.t2 ?? Infinity,
    gateTime: n?.gateTime ?? 1,
    depolarizing: n?.depolarizing ?? 0,
  };
}

function randomPure(r: () => number, dim: number): CVec {
  const v = cvec(dim);
  let s = 0;
  for (let i = 0; i < dim; i++) {
    v.re[i] = randUniform(r, -1, 1);
    v.im[i] = randUniform(r, -1, 1);
    s += v.re[i] ** 2 + v.im[i] ** 2;
  }
  for (let i = 0; i < dim; i++) {
    v.re[i] /= Math.sqrt(s);
    v.im[i] /= Math.sqrt(s);
  }
  return v;
}

/** Trace, Hermiticity defect and smallest eigenvalue over every (row, column) of a record's ρ_mem and register ρ. */
function validity(rec: DensityRecord, rows: number, dm: number, d: number, batch: number, normalised: boolean) {
  let traceErr = 0;
  let herm = 0;
  let minEig = Infinity;
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < batch; b++) {
      for (const m of [matrixAt(rec.rhoRe, rec.rhoIm, dm, batch, r, b), matrixAt(rec.fullRe, rec.fullIm, d, batch, r, b)]) {
        const tr = trace(m);
        if (normalised) traceErr = Math.max(traceErr, Math.abs(tr.re - 1), Math.abs(tr.im));
        herm = Math.max(herm, hermitianDefect(m));
        minEig = Math.min(minEig, hermitianEigenvalues(m)[0]);
      }
    }
  return { traceErr, herm, minEig };
}

const NOISES: NoiseSpec[] = [
  { t1: 12, t2: 9, gateTime: 1, depolarizing: 0.03 },
  { t1: 5, gateTime: 0.7 },
  { t2: 4, gateTime: 1 },
  { depolarizing: 0.1, gateTime: 1 },
  { t1: 8, t2: 16, depolarizing: 0.01 }, // T2 = 2·T1 (no pure dephasing), default gate time 1
];

beforeAll(async () => {
  await setupBackend();
});

test('densityFromPure(m) = |m⟩⟨m|', () => {
  const r = rng(11);
  const rows = 2;
  const dm = 4;
  const batch = 3;
  const mems = Array.from({ length: rows }, () => Array.from({ length: batch }, () => randomPure(r, dm)));
  const re = new Float32Array(rows * dm * batch);
  const im = new Float32Array(rows * dm * batch);
  mems.forEach((row, i) => row.forEach((v, b) => v.re.forEach((_, m) => ((re[(i * dm + m) * batch + b] = v.re[m]), (im[(i * dm + m) * batch + b] = v.im[m])))));
  const out = tf.tidy(() => {
    const rho = densityFromPure({ re: tf.tensor3d(re, [rows, dm, batch]), im: tf.tensor3d(im, [rows, dm, batch]) });
    return [rho.re, rho.im];
  });
  expect(out[0].shape).toEqual([rows, dm, dm, batch]);
  const [gre, gim] = out.map((t) => t.dataSync());
  tf.dispose(out);
  for (let i = 0; i < rows; i++)
    for (let b = 0; b < batch; b++) {
      const want = outer(mems[i][b]);
      const got = matrixAt(gre, gim, dm, batch, i, b);
      expect(maxDiff(got.re, want.re)).toBeLessThan(1e-6);
      expect(maxDiff(got.im, want.im)).toBeLessThan(1e-6);
    }
});

test('noisy forced density trajectories equal the reference; every ρ is a valid state', () => {
  const r = rng(21);
  const configs: [number, number][] = [
    [1, 0],
    [1, 1],
    [2, 0],
    [2, 1],
    [1, 2],
    [2, 2],
    [3, 1],
    [1, 3],
  ];
  const worst = { probs: 0, rho: 0, prob: 0, full: 0, minEig: Infinity, herm: 0, trace: 0 };
  configs.forEach(([n, nm], ci) => {
    const noise = NOISES[ci % NOISES.length];
    const spec = randomSpec(r, n, nm, 3);
    const rows = 2;
    const batch = 3;
    const T = 3;
    const thetas = randomThetas(r, spec, rows);
    const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
    const ref = referenceDensityTrajectory({ spec, thetas, currents, noise: refNoise(noise), choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
    const eng = engineDensityTrajectory({ spec, thetas, currents, noise, forced: ref.ys });
    const d = densityDiff(eng, ref.records);
    const ok = d.probs < TOL && d.rho < TOL && d.prob < TOL && d.full < TOL;
    expect({ n, nm, noise, d: ok ? 'ok' : d }).toEqual({ n, nm, noise, d: 'ok' });
    for (const rec of eng) {
      const v = validity(rec, rows, 2 ** nm, 2 ** (n + nm), batch, true);
      worst.minEig = Math.min(worst.minEig, v.minEig);
      worst.herm = Math.max(worst.herm, v.herm);
      worst.trace = Math.max(worst.trace, v.traceErr);
    }
    worst.probs = Math.max(worst.probs, d.probs);
    worst.rho = Math.max(worst.rho, d.rho);
    worst.full = Math.max(worst.full, d.full);
  });
  expect(worst.trace).toBeLessThan(1e-5);
  expect(worst.herm).toBeLessThan(1e-6);
  expect(worst.minEig).toBeGreaterThan(-1e-6);
  // eslint-disable-next-line no-console
  console.log(`density trajectories: ${JSON.stringify(worst)}`);
});

test('sampled density steps take y = #{k < K−1 : cdf_k ≤ u·Σp}; averaged noisy steps keep trace 1 and validity', () => {
  const r = rng(31);
  const n = 2;
  const nm = 1;
  const spec = randomSpec(r, n, nm, 3);
  const rows = 2;
  const batch = 4;
  const T = 3;
  const thetas = randomThetas(r, spec, rows);
  const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
  const uniforms = Array.from({ length: T }, () => Array.from({ length: rows }, () => Array.from({ length: batch }, () => r())));
  const noise = NOISES[0];
  const ref = referenceDensityTrajectory({ spec, thetas, currents, noise: refNoise(noise), choose: (t, i, b, p) => sampleIndex(p, uniforms[t][i][b]) });
  const eng = engineDensityTrajectory({ spec, thetas, currents, noise, uniforms });
  const d = densityDiff(eng, ref.records);
  expect(d.probs).toBeLessThan(TOL);
  expect(d.rho).toBeLessThan(TOL);
  eng.forEach((rec, t) => expect(maxDiff(rec.oneHot as Float64Array, ref.records[t].oneHot as Float64Array)).toBe(0));

  const refAvg = referenceDensityTrajectory({ spec, thetas, currents, noise: refNoise(noise), choose: () => 'average' });
  const engAvg = engineDensityTrajectory({ spec, thetas, currents, noise, average: true });
  const da = densityDiff(engAvg, refAvg.records);
  expect(da.probs).toBeLessThan(TOL);
  expect(da.rho).toBeLessThan(TOL);
  for (const rec of engAvg) {
    const v = validity(rec, rows, 2 ** nm, 2 ** (n + nm), batch, true);
    expect(v.traceErr).toBeLessThan(1e-5);
    expect(v.minEig).toBeGreaterThan(-1e-6);
    expect(Array.from(rec.prob).every((p) => p === 1)).toBe(true);
  }
});

test('T1 only, identity circuit (paper circuit at θ = 0), zero input: excited population decays as (1−γ)^(2t)', () => {
  // Two gate layers per step; the IO qubit stays |0⟩ (no input, CRX(0) = I), so measuring it
  // always gives 0 and the memory qubit relaxes: P1(t) = P1(0)·e^{−2t·Δt/T1}, |ρ01| ∝ e^{−t·Δt/T1}.
  const spec = { ioQubits: 1, memoryQubits: 1, layers: paperCircuit().layers } as Spec;
  const thetas = [{ ent: 0, in: 0, mem: 0 }];
  const r = rng(41);
  const init = [[randomPure(r, 2), randomPure(r, 2)]];
  const T = 8;
  const noise: NoiseSpec = { t1: 3, gateTime: 0.5 };
  const currents = Array.from({ length: T }, () => [[[0, -0.5]]]);
  const eng = engineDensityTrajectory({ spec, thetas, currents, noise, forced: currents.map(() => [[0, 0]]), initialMemory: init });
  const g = Math.exp(-0.5 / 3);
  eng.forEach((rec, t) => {
    for (let b = 0; b < 2; b++) {
      const p1 = init[0][b].re[1] ** 2 + init[0][b].im[1] ** 2;
      const c0 = { re: init[0][b].re[1] * init[0][b].re[0] + init[0][b].im[1] * init[0][b].im[0], im: init[0][b].im[1] * init[0][b].re[0] - init[0][b].re[1] * init[0][b].im[0] };
      const rho = matrixAt(rec.rhoRe, rec.rhoIm, 2, 2, 0, b);
      expect(rec.probs[0 * 2 + b]).toBeCloseTo(1, 6); // p(y = 0)
      expect(Math.abs(rho.re[3] - p1 * g ** (2 * (t + 1)))).toBeLessThan(TOL);
      // ρ[1,0] = m1 m0* decays with √(1−γ) per layer.
      expect(Math.abs(rho.re[2] - c0.re * g ** (t + 1))).toBeLessThan(TOL);
      expect(Math.abs(rho.im[2] - c0.im * g ** (t + 1))).toBeLessThan(TOL);
    }
  });
});

test('T1 with a rotating circuit and zero input: the register relaxes towards |0…0⟩ (averaged over outcomes)', () => {
  // Small rotations, strong damping: the stationary state is close to |0…0⟩; from a random start
  // the |0…0⟩ population grows towards it, and the engine tracks the reference all the way.
  const n = 1;
  const nm = 2;
  const r = rng(51);
  const spec = randomSpec(r, n, nm, 2);
  const thetas = [Object.fromEntries(Object.entries(randomThetas(r, spec, 1)[0]).map(([k, v]) => [k, v * 0.02]))];
  // Rotation-free gates (H, X, CNOT, CZ) would move population away: drop them for this test.
  const rotOnly: Spec = { ...spec, layers: spec.layers.map((l) => l.filter((g) => g.param)).filter((l) => l.length > 0) };
  const init = [[randomPure(r, 4), randomPure(r, 4)]];
  const T = 12;
  const noise: NoiseSpec = { t1: 1, gateTime: 1 };
  const currents = Array.from({ length: T }, () => [[[0, 0]]]);
  const eng = engineDensityTrajectory({ spec: rotOnly, thetas, currents, noise, average: true, initialMemory: init });
  const ref = referenceDensityTrajectory({ spec: rotOnly, thetas, currents, noise: refNoise(noise), choose: () => 'average', initialMemory: init });
  const d = densityDiff(eng, ref.records);
  expect(d.rho).toBeLessThan(TOL);
  const p00 = eng.map((rec) => rec.rhoRe[0 * 2 + 0]);
  expect(p00[T - 1]).toBeGreaterThan(0.99);
  expect(p00[T - 1]).toBeGreaterThan(p00[0]);
});

test('noiseless density with average: true equals the statevector mode averaged over all outcome histories', () => {
  const r = rng(61);
  for (const [n, nm] of [
    [1, 1],
    [2, 1],
    [1, 2],
    [2, 2],
  ] as [number, number][]) {
    const spec = randomSpec(r, n, nm, 3);
    const rows = 2;
    const batch = 2;
    const T = 3;
    const thetas = randomThetas(r, spec, rows);
    const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
    const eng = engineDensityTrajectory({ spec, thetas, currents, average: true });
    const k = 2 ** n;
    const dm = 2 ** nm;
    let diff = 0;
    for (let i = 0; i < rows; i++)
      for (let b = 0; b < batch; b++) {
        const avg = averagedPureTrajectory(
          refCircuit(spec, thetas[i]),
          currents.map((z) => z[i].map((zq) => zq[b])),
        );
        for (let t = 0; t < T; t++) {
          for (let y = 0; y < k; y++) diff = Math.max(diff, Math.abs(eng[t].probs[(i * k + y) * batch + b] - avg.probs[t][y]));
          const got = matrixAt(eng[t].rhoRe, eng[t].rhoIm, dm, batch, i, b);
          diff = Math.max(diff, maxDiff(got.re, avg.rhoMem[t].re), maxDiff(got.im, avg.rhoMem[t].im));
        }
      }
    expect({ n, nm, diff: diff < TOL ? 'ok' : diff }).toEqual({ n, nm, diff: 'ok' });
    // Rank-deficient (pure-ish) states: float32 rounding must not push eigenvalues below −1e-6.
    for (const rec of eng) {
      const v = validity(rec, rows, dm, k * dm, batch, true);
      expect(v.traceErr).toBeLessThan(1e-5);
      expect(v.herm).toBeLessThan(1e-6);
      expect(v.minEig).toBeGreaterThan(-1e-6);
    }
  }
});

test('noiseless forced density steps equal |m⟩⟨m| of the statevector steps', () => {
  const r = rng(71);
  const n = 2;
  const nm = 2;
  const spec = randomSpec(r, n, nm, 3);
  const rows = 2;
  const batch = 3;
  const T = 3;
  const thetas = randomThetas(r, spec, rows);
  const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
  const ref = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
  const sv = engineTrajectory({ spec, thetas, currents, forced: ref.ys, path: 'gates' });
  const dens = engineDensityTrajectory({ spec, thetas, currents, forced: ref.ys });
  const dm = 2 ** nm;
  for (let t = 0; t < T; t++) {
    expect(maxDiff(sv[t].probs, dens[t].probs)).toBeLessThan(TOL);
    expect(maxDiff(sv[t].prob, dens[t].prob)).toBeLessThan(TOL);
    for (let i = 0; i < rows; i++)
      for (let b = 0; b < batch; b++) {
        const m = cvec(dm);
        for (let j = 0; j < dm; j++) {
          m.re[j] = sv[t].memRe[(i * dm + j) * batch + b];
          m.im[j] = sv[t].memIm[(i * dm + j) * batch + b];
        }
        const want = outer(m);
        const got = matrixAt(dens[t].rhoRe, dens[t].rhoIm, dm, batch, i, b);
        expect(maxDiff(got.re, want.re)).toBeLessThan(TOL);
        expect(maxDiff(got.im, want.im)).toBeLessThan(TOL);
      }
  }
});

test('noise validation: T2 > 2·T1 and out-of-range values are refused', () => {
  const circuit = compileCircuit({ ioQubits: 1, memoryQubits: 1, layers: [[{ gate: 'RX', qubits: [0], param: 'a' }]] });
  const run = (noise: NoiseSpec) =>
    tf.tidy(() => {
      const angles = occurrenceAngles(circuit, thetaTensor(circuit, [{ a: 0.3 }]));
      const rhoMem = densityFromPure({ re: tf.tensor3d([1, 0], [1, 2, 1]), im: tf.zeros([1, 2, 1]) });
      densityStep({ circuit, angles, rhoMem, phi: tf.zeros([1, 1, 1]), noise, average: true });
    });
  expect(() => run({ t1: 1, t2: 3 })).toThrow(NoiseError);
  expect(() => run({ t1: -1 })).toThrow(NoiseError);
  expect(() => run({ depolarizing: 1.5 })).toThrow(NoiseError);
  expect(() => run({ t1: 1, t2: 2 })).not.toThrow();
});
