/**
 * Baseline neurons (QLIF, LIF, probabilistic), their registration, and parameter budgets.
 * Reference values come from plain-JS 2×2 complex density matrices and hand-computed traces.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { countParameters, parameterBreakdown, sizeHidden, matchBudget } from '../src/budget';
import type { Dataset } from '../src/data';
import { countLoss } from '../src/learn/bptt';
import { Network, NetworkConfig } from '../src/network';
import { StepContext } from '../src/neurons/layer';
import { LifLayer } from '../src/neurons/lif';
import { StatefulLayer } from '../src/neurons/stateful';
import { ProbLayer } from '../src/neurons/probabilistic';
import { QlifLayer, QlifState, qlifLeak, qlifRx, shotCounts, shotSpikeProbability } from '../src/neurons/qlif';
import { ConfigError, createLayer, neuronKinds } from '../src/neurons/registry';
import { Rng } from '../src/random';
import { TrainConfig, layeredNetwork, trainRun } from '../src/train';
import { maxAbsDiff, setupBackend, tf } from './helpers';
import { mulberry32 as prng } from './reference/sim64';

beforeAll(async () => {
  await setupBackend();
});

// ---------- plain-JS complex 2×2 matrices ----------
type C = [number, number];
type M2 = [[C, C], [C, C]];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const conj = (a: C): C => [a[0], -a[1]];
function mm(a: M2, b: M2): M2 {
  const r = (i: number, j: number) => cadd(cmul(a[i][0], b[0][j]), cmul(a[i][1], b[1][j]));
  return [[r(0, 0), r(0, 1)], [r(1, 0), r(1, 1)]];
}
const dag = (a: M2): M2 => [[conj(a[0][0]), conj(a[1][0])], [conj(a[0][1]), conj(a[1][1])]];
const madd = (a: M2, b: M2): M2 => [[cadd(a[0][0], b[0][0]), cadd(a[0][1], b[0][1])], [cadd(a[1][0], b[1][0]), cadd(a[1][1], b[1][1])]];
const rxMatrix = (phi: number): M2 => {
  const c = Math.cos(phi / 2);
  const s = Math.sin(phi / 2);
  return [[[c, 0], [0, -s]], [[0, -s], [c, 0]]];
};
const conjugate = (u: M2, rho: M2) => mm(mm(u, rho), dag(u));
function damp(rho: M2, g: number): M2 {
  const k0: M2 = [[[1, 0], [0, 0]], [[0, 0], [Math.sqrt(1 - g), 0]]];
  const k1: M2 = [[[0, 0], [Math.sqrt(g), 0]], [[0, 0], [0, 0]]];
  return madd(conjugate(k0, rho), conjugate(k1, rho));
}
const ground = (): M2 => [[[1, 0], [0, 0]], [[0, 0], [0, 0]]];

/** A random valid density matrix: a mixture of a random pure state and I/2. */
function randomRho(r: () => number): M2 {
  const th = Math.PI * r();
  const ph = 2 * Math.PI * r();
  const lam = r() * 0.5;
  const a: C = [Math.cos(th / 2), 0];
  const b: C = [Math.sin(th / 2) * Math.cos(ph), Math.sin(th / 2) * Math.sin(ph)];
  const pure: M2 = [[cmul(a, conj(a)), cmul(a, conj(b))], [cmul(b, conj(a)), cmul(b, conj(b))]];
  const mix = (z: C, d: number): C => [(1 - lam) * z[0] + lam * d, (1 - lam) * z[1]];
  return [[mix(pure[0][0], 0.5), mix(pure[0][1], 0)], [mix(pure[1][0], 0), mix(pure[1][1], 0.5)]];
}


/** [H, 1, B] tensors from per-(h, b) numbers, h-major. */
const hb = (v: number[], h: number, b: number) => tf.tensor3d(v, [h, 1, b]);
const stateFrom = (rhos: M2[], h: number, b: number): QlifState => ({
  a: hb(rhos.map((r) => r[0][0][0]), h, b),
  d: hb(rhos.map((r) => r[1][1][0]), h, b),
  x: hb(rhos.map((r) => r[0][1][0]), h, b),
  y: hb(rhos.map((r) => r[0][1][1]), h, b),
});
const flat = (s: QlifState) => ({ a: s.a.dataSync(), d: s.d.dataSync(), x: s.x.dataSync(), y: s.y.dataSync() });
function expectState(s: QlifState, rhos: M2[], tol: number): void {
  const f = flat(s);
  expect(maxAbsDiff(f.a, rhos.map((r) => r[0][0][0]))).toBeLessThan(tol);
  expect(maxAbsDiff(f.d, rhos.map((r) => r[1][1][0]))).toBeLessThan(tol);
  expect(maxAbsDiff(f.x, rhos.map((r) => r[0][1][0]))).toBeLessThan(tol);
  expect(maxAbsDiff(f.y, rhos.map((r) => r[0][1][1]))).toBeLessThan(tol);
}

const ctxOf = (seed: number, train = false): StepContext => ({ rng: new Rng(seed), train, surrogate: 'straight-through' });

describe('QLIF', () => {
  test('RX and amplitude-damping maps equal plain 2×2 complex density-matrix algebra', () => {
    const r = prng(11);
    const h = 3;
    const b = 5;
    const rhos = Array.from({ length: h * b }, () => randomRho(r));
    const phis = rhos.map(() => (r() - 0.3) * 2 * Math.PI);
    tf.tidy(() => {
      const s0 = stateFrom(rhos, h, b);
      // Hermitian input: ρ10 = ρ01* holds by construction of randomRho.
      expectState(qlifRx(s0, hb(phis, h, b)), rhos.map((rho, i) => conjugate(rxMatrix(phis[i]), rho)), 1e-6);
      for (const g of [0, 0.1, 0.5, 1]) expectState(qlifLeak(s0, g), rhos.map((rho) => damp(rho, g)), 1e-6);
      // A composed step (leak, then input), as the layer does it.
      const layer = new QlifLayer({ size: h, dt: 0.7, t1: 2, threshold: 2 });
      const z = phis.map((p) => p / Math.PI);
      const out = layer.evolve(s0, hb(z, h, b));
      const g = 1 - Math.exp(-0.7 / 2);
      expectState(out, rhos.map((rho, i) => conjugate(rxMatrix(Math.PI * Math.max(0, z[i])), damp(rho, g))), 1e-6);
    });
  });

  test('without input the excited population decays by exactly e^{−Δt/T1} per step', () => {
    const dt = 0.5;
    const t1 = 3;
    const layer = new QlifLayer({ size: 2, dt, t1, threshold: 1.5 });
    tf.tidy(() => {
      const ctx = ctxOf(1);
      let st = layer.initialState(3);
      const zs = [[0.5, 0.3, 1], [1, 0.8, 0.2]].flat();
      let r = layer.step({}, st, hb(zs, 2, 3), ctx);
      expect(r.spikes.sum().dataSync()[0]).toBe(0);
      let prev = Array.from(r.spikeProb.dataSync());
      expect(maxAbsDiff(prev, zs.map((z) => Math.sin((Math.PI * z) / 2) ** 2))).toBeLessThan(1e-6);
      st = r.state;
      const factor = Math.exp(-dt / t1);
      for (let t = 0; t < 6; t++) {
        r = layer.step({}, st, tf.zeros([2, 1, 3]), ctx);
        const p = Array.from(r.spikeProb.dataSync());
        expect(r.spikes.sum().dataSync()[0]).toBe(0);
        expect(maxAbsDiff(p, prev.map((q) => q * factor))).toBeLessThan(1e-6);
        // Trace is preserved.
        const f = flat(r.state);
        expect(maxAbsDiff(Array.from(f.a, (a, i) => a + f.d[i]), new Array(6).fill(1))).toBeLessThan(1e-6);
        prev = p;
        st = r.state;
      }
      // Negative input does nothing under the default (relu) encoding, apart from the leak.
      const r2 = layer.step({}, st, tf.fill([2, 1, 3], -0.7), ctx);
      expect(maxAbsDiff(r2.spikeProb.dataSync(), prev.map((q) => q * factor))).toBeLessThan(1e-6);
    });
  });

  test('fires when p crosses the threshold and resets to |0⟩; matches a 2×2 reference over a sequence', () => {
    const h = 3;
    const b = 4;
    const opts = { dt: 1, t1: 4, threshold: 0.6 };
    const layer = new QlifLayer({ size: h, ...opts });
    const r = prng(5);
    const steps = 12;
    const zs = Array.from({ length: steps }, () => Array.from({ length: h * b }, () => (r() - 0.2) * 0.8));
    const g = 1 - Math.exp(-opts.dt / opts.t1);
    let rhos = Array.from({ length: h * b }, ground);
    let spikesSeen = 0;
    let noSpikesSeen = 0;
    tf.tidy(() => {
      let st = layer.initialState(b);
      for (let t = 0; t < steps; t++) {
        const res = layer.step({}, st, hb(zs[t], h, b), ctxOf(t));
        const before = rhos.map((rho, i) => conjugate(rxMatrix(Math.PI * Math.max(0, zs[t][i])), damp(rho, g)));
        const p = before.map((rho) => rho[1][1][0]);
        const expected = p.map((q) => (q > opts.threshold ? 1 : 0));
        expect(maxAbsDiff(res.spikeProb.dataSync(), p)).toBeLessThan(1e-5);
        expect(Array.from(res.spikes.dataSync())).toEqual(expected);
        rhos = before.map((rho, i) => (expected[i] ? ground() : rho));
        expectState(res.state, rhos, 1e-5);
        spikesSeen += expected.filter((x) => x === 1).length;
        noSpikesSeen += expected.filter((x) => x === 0).length;
        st = res.state;
      }
    });
    expect(spikesSeen).toBeGreaterThan(3);
    expect(noSpikesSeen).toBeGreaterThan(3);
    // The threshold is strict: p = θ = 0 does not fire; p = 0.5 does (and resets).
    tf.tidy(() => {
      const l2 = new QlifLayer({ size: 1, threshold: 0, dt: 0 });
      const s = l2.step({}, l2.initialState(2), tf.tensor3d([0, 0.5], [1, 1, 2]), ctxOf(0));
      expect(Array.from(s.spikes.dataSync())).toEqual([0, 1]);
      const f = flat(s.state);
      expect(f.a[1]).toBe(1);
      expect([f.d[1], f.x[1], f.y[1]]).toEqual([0, 0, 0]);
      expect([f.a[0], f.d[0]]).toEqual([1, 0]);
    });
  });

  test('T2 dephasing on top of T1 equals the Kraus computation', () => {
    const r = prng(4);
    const rhos = Array.from({ length: 6 }, () => randomRho(r));
    const dt = 0.8;
    const t1 = 2;
    const t2 = 1.5;
    const layer = new QlifLayer({ size: 2, dt, t1, t2, threshold: 2 });
    const g = 1 - Math.exp(-dt / t1);
    const pz = (1 - Math.exp(-dt * (1 / t2 - 1 / (2 * t1)))) / 2;
    const zMat: M2 = [[[1, 0], [0, 0]], [[0, 0], [-1, 0]]];
    const dephase = (rho: M2): M2 => {
      const a = conjugate(zMat, rho);
      const f = (u: C, v: C): C => [(1 - pz) * u[0] + pz * v[0], (1 - pz) * u[1] + pz * v[1]];
      return [[f(rho[0][0], a[0][0]), f(rho[0][1], a[0][1])], [f(rho[1][0], a[1][0]), f(rho[1][1], a[1][1])]];
    };
    tf.tidy(() => expectState(layer.evolve(stateFrom(rhos, 2, 3), tf.zeros([2, 1, 3])), rhos.map((rho) => dephase(damp(rho, g))), 1e-6));
  });

  test('BPTT gradient: arctan surrogate times dp/dz', () => {
    const theta = 0.75;
    const zs = [0.2, 0.55, 0.7, 0.9];
    const layer = new QlifLayer({ size: 4, threshold: theta });
    tf.tidy(() => {
      const g = tf.grad((c: tf.Tensor) => tf.sum(layer.step({}, layer.initialState(1), c, ctxOf(0, true)).spikes))(tf.tensor3d(zs, [4, 1, 1]));
      const expected = zs.map((z) => {
        const p = Math.sin((Math.PI * z) / 2) ** 2;
        return (1 / (1 + (Math.PI * (p - theta)) ** 2)) * (Math.PI / 2) * Math.sin(Math.PI * z);
      });
      expect(maxAbsDiff(g.dataSync(), expected)).toBeLessThan(1e-5);
    });
  });

  test('shot estimates converge to the exact probability', () => {
    const ps = [0.05, 0.3, 0.5, 0.72, 0.95];
    const b = 400;
    tf.tidy(() => {
      const p = tf.tile(tf.tensor3d(ps, [ps.length, 1, 1]), [1, 1, b]);
      const rng = new Rng(3);
      for (const shots of [16, 256]) {
        const k = shotCounts(p, shots, rng);
        const kv = k.dataSync();
        const mean = tf.mean(tf.div(k, shots), [1, 2]).dataSync();
        ps.forEach((q, i) => {
          // Mean of b estimates k/S: sd √(q(1−q)/(S b)); allow 5 sd.
          expect(Math.abs(mean[i] - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / (shots * b)));
        });
        expect(Array.from(kv).every((v) => Number.isInteger(v) && v >= 0 && v <= shots)).toBe(true);
      }
      // A single estimate tightens as S grows (5 sd of one estimate).
      const big = shotCounts(tf.tensor3d(ps, [ps.length, 1, 1]), 20000, rng).dataSync();
      ps.forEach((q, i) => expect(Math.abs(big[i] / 20000 - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / 20000)));
      // Chunked draws (more than one chunk) still count every shot.
      const ones = shotCounts(tf.ones([64, 1, 1000]), 70, rng);
      expect(ones.min().dataSync()[0]).toBe(70);
    });
  });

  test('shot-mode spikes occur with the binomial-tail probability', () => {
    const shots = 20;
    const threshold = 0.5;
    const z = 0.48; // p = sin²(π z/2) ≈ 0.469: exact mode never fires, shot mode sometimes does
    const b = 3000;
    const layer = new QlifLayer({ size: 1, threshold, shots, dt: 0 });
    const exact = new QlifLayer({ size: 1, threshold, dt: 0 });
    tf.tidy(() => {
      const cur = tf.fill([1, 1, b], z);
      const r = layer.step({}, layer.initialState(b), cur, ctxOf(9));
      const freq = r.spikes.mean().dataSync()[0];
      const pTrue = Math.sin((Math.PI * z) / 2) ** 2;
      let tail = 0;
      const lc = (n: number, k: number) => { let s = 0; for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i); return s; };
      for (let k = Math.floor(threshold * shots) + 1; k <= shots; k++) tail += Math.exp(lc(shots, k) + k * Math.log(pTrue) + (shots - k) * Math.log(1 - pTrue));
      expect(Math.abs(freq - tail)).toBeLessThan(5 * Math.sqrt((tail * (1 - tail)) / b));
      expect(shotSpikeProbability(tf.scalar(pTrue), shots, threshold).dataSync()[0]).toBeCloseTo(tail, 5);
      expect(exact.step({}, exact.initialState(b), cur, ctxOf(9)).spikes.sum().dataSync()[0]).toBe(0);
      // Forced likelihoods: exact mode is deterministic; shot mode uses the binomial tail.
      const ones = tf.ones([1, 1, 2]);
      const f = layer.stepForced({}, layer.initialState(2), tf.fill([1, 1, 2], z), ones);
      expect(f.logProb.dataSync()[0]).toBeCloseTo(Math.log(tail), 4);
      const fe = exact.stepForced({}, exact.initialState(2), tf.tensor3d([z, 0.9], [1, 1, 2]), ones);
      expect(fe.logProb.dataSync()[0]).toBeLessThan(-60);
      expect(fe.logProb.dataSync()[1]).toBe(0);
      expect(flat(fe.state).a[0]).toBe(1);
    });
  });
});

describe('LIF', () => {
  test('matches a hand-computed trace (subtractive reset, strict threshold)', () => {
    const layer = new LifLayer({ size: 1, beta: 0.5, threshold: 1 });
    const currents = [0.6, 0.6, 0.9, 0, 1.5, 1.0];
    // U1 = 0.6; U2 = 0.3 + 0.6 = 0.9; U3 = 0.45 + 0.9 = 1.35 → spike; U4 = 0.675 + 0 − 1 = −0.325;
    // U5 = −0.1625 + 1.5 = 1.3375 → spike; U6 = 0.66875 + 1 − 1 = 0.66875.
    const u = [0.6, 0.9, 1.35, -0.325, 1.3375, 0.66875];
    const s = [0, 0, 1, 0, 1, 0];
    tf.tidy(() => {
      let st = layer.initialState(1);
      currents.forEach((c, t) => {
        const r = layer.step({ beta: 0.5 }, st, tf.tensor3d([c], [1, 1, 1]), ctxOf(0));
        expect(r.state.u.dataSync()[0]).toBeCloseTo(u[t], 5);
        expect(r.spikes.dataSync()[0]).toBe(s[t]);
        st = r.state;
      });
      // U exactly at ϑ does not fire.
      const r = layer.step(layer.prepare(), layer.initialState(1), tf.tensor3d([1], [1, 1, 1]), ctxOf(0));
      expect(r.spikes.dataSync()[0]).toBe(0);
    });
  });

  test('surrogate derivatives: fast sigmoid and arctan', () => {
    for (const [surrogate, expected] of [
      ['fast-sigmoid', (x: number) => 1 / (1 + 25 * Math.abs(x)) ** 2],
      ['arctan', (x: number) => 1 / (1 + (Math.PI * x) ** 2)],
    ] as const) {
      const layer = new LifLayer({ size: 3, beta: 0.9, threshold: 1, surrogate });
      tf.tidy(() => {
        const z = tf.tensor3d([0.2, 1.1, 0.97], [3, 1, 1]);
        const g = tf.grad((c: tf.Tensor) => tf.sum(layer.step(layer.prepare(), layer.initialState(1), c, ctxOf(0, true)).spikes))(z);
        expect(maxAbsDiff(g.dataSync(), [0.2, 1.1, 0.97].map((v) => expected(v - 1)))).toBeLessThan(1e-5);
      });
    }
  });

  test('learnable β is a per-neuron variable and receives gradient', () => {
    const layer = new LifLayer({ size: 2, beta: 0.8, learnBeta: true, surrogate: 'arctan' });
    expect(layer.variables.beta.shape).toEqual([2, 1]);
    const { grads } = tf.variableGrads(() => {
      const prep = layer.prepare();
      let st = layer.initialState(1);
      let tot = tf.scalar(0);
      for (let t = 0; t < 3; t++) {
        const r = layer.step(prep, st, tf.tensor3d([0.6, 0.4], [2, 1, 1]), ctxOf(0, true));
        tot = tf.add(tot, tf.sum(r.spikes));
        st = r.state;
      }
      return tot as tf.Scalar;
    }, [layer.variables.beta]);
    const g = grads[layer.variables.beta.name].dataSync();
    expect(Array.from(g).every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    layer.dispose();
  });
});

describe('probabilistic neuron', () => {
  test('spike frequencies match sigmoid(u) along a leaky membrane', () => {
    const cur = [-2, -0.5, 0, 0.4, 1.5];
    const h = cur.length;
    const b = 4000;
    const beta = 0.6;
    const layer = new ProbLayer({ size: h, beta });
    tf.tidy(() => {
      const z = tf.tile(tf.tensor3d(cur, [h, 1, 1]), [1, 1, b]);
      const ctx = ctxOf(21);
      let st = layer.initialState(b);
      for (let t = 1; t <= 3; t++) {
        const r = layer.step(layer.prepare(), st, z, ctx);
        const geo = (1 - beta ** t) / (1 - beta);
        const freq = tf.mean(r.spikes, [1, 2]).dataSync();
        cur.forEach((c, i) => {
          const p = 1 / (1 + Math.exp(-c * geo));
          expect(Math.abs(freq[i] - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / b) + 1e-9);
        });
        st = r.state;
      }
    });
  });

  test.each(['none', 'subtract', 'zero'] as const)('eligibility = autodiff ∂ log p(y)/∂ current (reset %s)', (reset) => {
    const h = 4;
    const b = 6;
    const layer = new ProbLayer({ size: h, beta: 0.7, reset, resetValue: 0.8, learnBeta: true });
    const r = prng(8);
    tf.tidy(() => {
      const state = {
        u: tf.tensor3d(Array.from({ length: h * b }, () => 3 * (r() - 0.5)), [h, 1, b]),
        s: tf.tensor3d(Array.from({ length: h * b }, () => (r() < 0.4 ? 1 : 0)), [h, 1, b]),
      };
      const z = tf.tensor3d(Array.from({ length: h * b }, () => 2 * (r() - 0.5)), [h, 1, b]);
      const y = tf.tensor3d(Array.from({ length: h * b }, () => (r() < 0.5 ? 1 : 0)), [h, 1, b]);
      const ctx = ctxOf(1);
      const e = layer.eligibility(layer.prepare(), state, z, y, ctx, { shots: 0 });
      const auto = tf.grad((c: tf.Tensor) => tf.sum(layer.stepForced(layer.prepare(), state, c, y).logProb))(z);
      expect(maxAbsDiff(e.dLogPdCurrent.dataSync(), auto.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(e.logProb.dataSync(), layer.stepForced(layer.prepare(), state, z, y).logProb.dataSync())).toBeLessThan(1e-6);
      expect(e.logProb.shape).toEqual([h, b]);
      // β: per-sample eligibilities summed over the batch = autodiff gradient of the summed log p.
      const { grads } = tf.variableGrads(() => tf.sum(layer.stepForced(layer.prepare(), state, z, y).logProb) as tf.Scalar, [layer.variables.beta]);
      expect(e.dLogPdParams.beta.shape).toEqual([h, 1, b]);
      expect(maxAbsDiff(tf.sum(e.dLogPdParams.beta, 2).dataSync(), grads[layer.variables.beta.name].dataSync())).toBeLessThan(1e-5);
      // probAt: p(y) at other currents, state held fixed (used by SPSA).
      const z2 = tf.add(z, 0.3);
      expect(maxAbsDiff((e.probAt as (c: tf.Tensor) => tf.Tensor)(z2).dataSync(), tf.exp(layer.stepForced(layer.prepare(), state, z2, y).logProb).dataSync())).toBeLessThan(1e-6);
      // Sampled outcomes (spikes = null): bits, and log p consistent with them.
      const s = layer.eligibility(layer.prepare(), state, z, null, ctx, { shots: 0 });
      expect(Array.from(s.spikes.dataSync()).every((v) => v === 0 || v === 1)).toBe(true);
      expect(maxAbsDiff(s.dLogPdCurrent.dataSync(), tf.sub(s.spikes, s.spikeProb).dataSync())).toBeLessThan(1e-6);
    });
    layer.dispose();
  });

  test('BPTT surrogates: straight-through and p(1−p)', () => {
    const layer = new ProbLayer({ size: 3, beta: 0.5 });
    tf.tidy(() => {
      const z = tf.tensor3d([-1, 0.2, 2], [3, 1, 1]);
      for (const surrogate of ['straight-through', 'pq'] as const) {
        const ctx: StepContext = { rng: new Rng(0), train: true, surrogate };
        const g = tf.grad((c: tf.Tensor) => tf.sum(layer.step(layer.prepare(), layer.initialState(1), c, ctx).spikes))(z).dataSync();
        [-1, 0.2, 2].forEach((u, i) => {
          const p = 1 / (1 + Math.exp(-u));
          const dp = p * (1 - p);
          expect(g[i]).toBeCloseTo(surrogate === 'pq' ? dp * dp : dp, 5);
        });
      }
    });
  });
});

describe('registry', () => {
  test('qlif, lif and prob are registered and validate their options', () => {
    expect(neuronKinds()).toEqual(expect.arrayContaining(['sqs', 'qlif', 'lif', 'prob']));
    for (const neuron of ['qlif', 'lif', 'prob']) {
      const l = createLayer({ neuron, size: 3 }, 0);
      expect(l.kind).toBe(neuron);
      expect(l.channels).toBe(1);
      expect(createLayer(l.describe() as never, 0).describe()).toEqual(l.describe());
      l.dispose();
      expect(() => createLayer({ neuron, size: 3, memoryQubits: 2 }, 0)).toThrow(ConfigError);
    }
    // Construction + dispose leaves no tensors behind (trainable β included).
    const n0 = tf.memory().numTensors;
    for (const neuron of ['qlif', 'lif', 'prob']) createLayer({ neuron, size: 3, ...(neuron === 'qlif' ? {} : { learnBeta: true }) }, 0).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => createLayer({ neuron: 'lif', size: 2, beta: 1.5 }, 0)).toThrow(ConfigError);
    expect(() => createLayer({ neuron: 'qlif', size: 2, t1: 1, t2: 3 }, 0)).toThrow(ConfigError);
    expect(() => createLayer({ neuron: 'qlif', size: 2, shots: 2.5 }, 0)).toThrow(ConfigError);
  });

  test.each([['qlif', { shots: 8 }], ['lif', {}], ['prob', { reset: 'zero' }]] as const)('a stateful %s layer keeps the tensor count flat', (neuron, extra) => {
    const layer = createLayer({ neuron, size: 3, ...extra }, 0);
    const h = new StatefulLayer(layer, 1);
    h.reset(2);
    const z = tf.fill([3, 1, 2], 0.4);
    const y = tf.ones([3, 1, 2]);
    const run = () => {
      const a = h.step(z);
      const b = h.stepForced(z, y);
      // A forced step returns the caller's spikes tensor itself (as SQS does): not ours to dispose.
      for (const r of [a, b]) for (const t of Object.values(r)) if (t !== y) (t as tf.Tensor).dispose();
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    expect(y.isDisposed).toBe(false);
    h.dispose();
    layer.dispose();
    z.dispose();
    y.dispose();
  });
});

describe('parameter budgets', () => {
  const configs: Record<string, NetworkConfig> = {
    sqs: layeredNetwork(12, [5, 4], 3, { neuron: 'sqs' }),
    sqsHe: { inputs: 7, layers: [{ neuron: 'sqs', size: 3, ioQubits: 2, memoryQubits: 1, ansatz: { type: 'hardware-efficient', layers: 2 } }, { neuron: 'sqs', size: 2, ioQubits: 2, memoryQubits: 2, ansatz: { type: 'hardware-efficient', layers: 1 } }] },
    qlif: layeredNetwork(12, [5, 4], 3, { neuron: 'qlif', threshold: 0.6 }, { skip: [[-1, 1], [0, 2]] }),
    lif: layeredNetwork(12, [6], 3, { neuron: 'lif' }),
    lifBeta: layeredNetwork(12, [6], 3, { neuron: 'lif', learnBeta: true }, { bias: false }),
    prob: layeredNetwork(12, [6], 3, { neuron: 'prob' }),
    probBeta: layeredNetwork(12, [6, 2], 3, { neuron: 'prob', learnBeta: true }, { skip: [[-1, 2]] }),
    mixed: { inputs: 9, layers: [{ neuron: 'lif', size: 4, learnBeta: true }, { neuron: 'sqs', size: 3 }, { neuron: 'qlif', size: 2 }] },
  };

  test.each(Object.keys(configs))('count without building = Network.parameterCount() (%s)', (name) => {
    const cfg = configs[name];
    const net = new Network(cfg, 1);
    expect(countParameters(cfg)).toBe(net.parameterCount());
    const bd = parameterBreakdown(cfg);
    expect(bd.synapses + bd.biases + bd.intrinsic).toBe(bd.total);
    net.dispose();
  });

  test('the formula by hand', () => {
    // 12→5→4→3 SQS (paper ansatz, 3 angles): weights 60 + 20 + 12, biases 12, angles 3·12.
    expect(parameterBreakdown(configs.sqs)).toEqual({ synapses: 92, biases: 12, intrinsic: 36, total: 140 });
    // Same shape in LIF: no intrinsic parameters.
    expect(countParameters(layeredNetwork(12, [5, 4], 3, { neuron: 'lif' }))).toBe(104);
  });

  test('sizeHidden matches budgets within 1 % and gives LIF more neurons than SQS', () => {
    const sqs = layeredNetwork(784, [64], 10, { neuron: 'sqs' });
    const budget = countParameters(sqs);
    for (const neuron of ['lif', 'qlif', 'prob']) {
      const res = sizeHidden(layeredNetwork(784, [1], 10, { neuron }), budget);
      expect(res.relativeError).toBeLessThanOrEqual(0.01);
      expect(Math.abs(res.parameters - budget) / budget).toBe(res.relativeError);
      expect(countParameters(res.config)).toBe(res.parameters);
      expect(res.sizes[0]).toBeGreaterThanOrEqual(64);
      expect(res.config.layers[1].size).toBe(10);
    }
    // Small network: the budget is met by the closest size.
    const small = sizeHidden(layeredNetwork(16, [2], 2, { neuron: 'lif' }), countParameters(layeredNetwork(16, [40], 2, { neuron: "sqs" })));
    expect(small.sizes[0]).toBe(47); // SQS: 40·(16+1+3) + 2·(40+1+3) = 888; LIF: 19h + 2 → h = 47 gives 895 (0.8 %)
    const net = new Network(small.config);
    expect(net.parameterCount()).toBe(small.parameters);
    net.dispose();
    // Several hidden layers keep their proportions.
    const two = matchBudget(layeredNetwork(100, [80, 40], 10, { neuron: 'sqs' }), layeredNetwork(100, [2, 1], 10, { neuron: 'lif' }), [0, 1]);
    expect(two.relativeError).toBeLessThanOrEqual(0.01);
    expect(Math.abs(two.sizes[0] / two.sizes[1] - 2)).toBeLessThan(0.1);
    // Unreachable within tolerance.
    expect(() => sizeHidden(layeredNetwork(784, [1], 10, { neuron: 'lif' }), 100)).toThrow(ConfigError);
    expect(() => sizeHidden(layeredNetwork(784, [1], 10, { neuron: 'lif' }), 5000, 1)).toThrow(ConfigError);
  });
});

describe('networks of baseline neurons', () => {
  const kinds: [string, Record<string, unknown>][] = [
    ['qlif', {}],
    ['qlif', { shots: 32 }],
    ['lif', { learnBeta: true }],
    ['lif', { surrogate: 'arctan' }],
    ['prob', { learnBeta: true, reset: 'subtract' }],
  ];

  test.each(kinds)('gradients flow through a 2-layer %s network %j', (neuron, extra) => {
    const net = new Network(layeredNetwork(6, [5], 3, { neuron, ...extra }, { weightScale: 2 }), 4);
    const named = net.namedVariables();
    tf.tidy(() => {
      const rng = new Rng(2);
      const x = tf.cast(tf.less(rng.uniform([6, 6, 8]), 0.5), 'float32');
      const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const r = net.forward(x, { ctx: { rng, train: true, surrogate: 'straight-through' } });
        return countLoss(r.counts, labels, 6) as tf.Scalar;
      }, Object.values(named));
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const [k, v] of Object.entries(named)) {
        const g = grads[v.name];
        expect(g).toBeDefined();
        const d = g.dataSync();
        expect(Array.from(d).every(Number.isFinite)).toBe(true);
        if (k.endsWith('weight')) expect(tf.norm(g).dataSync()[0]).toBeGreaterThan(0);
      }
    });
    net.dispose();
  });

  /** Two classes: class c lights up half c of a 4×4 image. */
  function halves(n: number, seed: number): { images: Float32Array; labels: Int32Array } {
    const r = prng(seed);
    const images = new Float32Array(n * 16);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (let p = 0; p < 16; p++) images[i * 16 + p] = (p < 8 ? 0 : 1) === labels[i] ? 0.8 + 0.2 * r() : 0.1 * r();
    }
    return { images, labels };
  }
  const tr = halves(96, 1);
  const te = halves(64, 2);
  const data: Dataset = {
    name: 'halves', height: 4, width: 4, classes: 2, source: 'test',
    trainImages: tr.images, trainLabels: tr.labels, nTrain: 96,
    testImages: te.images, testLabels: te.labels, nTest: 64,
  };

  test.each([['qlif', { threshold: 0.5 }], ['lif', {}], ['prob', {}]] as const)('%s trains above chance with trainRun', async (neuron, extra) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `sqsnn-baseline-${neuron}-`));
    try {
      const cfg: TrainConfig = {
        dataset: 'halves',
        network: layeredNetwork(16, [8], 2, { neuron, ...extra }, { weightScale: 2 }),
        steps: 5,
        epochs: 3,
        batch: 16,
        seed: 1,
        rule: 'bptt',
        encoding: { kind: 'rate', pMax: 0.5 },
        ruleConfig: { optimizer: { kind: 'adam', lr: 0.05 }, bptt: { surrogate: 'straight-through' } },
      };
      const res = await trainRun(cfg, { checkpointDir: path.join(out, 'run'), data });
      const last = res.metrics[res.metrics.length - 1];
      expect(last.parameters).toBe(countParameters(cfg.network));
      // Chance is 0.5; 0.7 on 64 test samples is > 3 binomial sd above it (all of seeds 1..8 pass).
      expect(last.testAccuracy).toBeGreaterThan(0.7);
      res.network.dispose();
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('prob trains above chance with the local rule (no backpropagation)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-baseline-prob-local-'));
    try {
      const cfg: TrainConfig = {
        dataset: 'halves',
        network: layeredNetwork(16, [8], 2, { neuron: 'prob' }),
        steps: 5,
        epochs: 3,
        batch: 16,
        seed: 1,
        rule: 'local',
        encoding: { kind: 'rate', pMax: 0.5 },
        ruleConfig: { optimizer: { kind: 'adam', lr: 0.05 }, bptt: { surrogate: 'straight-through' }, local: {} },
      };
      const res = await trainRun(cfg, { checkpointDir: path.join(out, 'run'), data });
      // Seeds 1..6 reach 0.89–1.00 after 3 epochs.
      expect(res.metrics[res.metrics.length - 1].testAccuracy).toBeGreaterThan(0.7);
      res.network.dispose();
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
