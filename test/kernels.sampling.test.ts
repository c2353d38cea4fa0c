/**
 * Sampling: outcome frequencies over many sample columns match the reference probabilities
 * (chi-square at a fixed seed), also jointly over a two-step trajectory (which exercises the
 * collapse), and the same seed gives identical outcomes.
 */
import { setupBackend } from './helpers';
import { tf } from '../kernels/tf';
import { occurrenceAngles } from '../kernels/circuit';
import { circuitUnitary } from '../kernels/evolve';
import { encodingAngles, initialMemory, sqsStep } from '../kernels/statevector';
import { Rng } from '../src/random';
import { Spec, randomSpec, randomThetas, refCircuit, rng } from './reference/bridge';
import { compileSpec, thetaTensor } from './reference/drive';
import { enumerateHistories } from './reference/sim64';

/** ln Γ(x) (Lanczos). */
function lnGamma(x: number): number {
  const g = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Regularised upper incomplete gamma Q(a, x) (series / continued fraction, Numerical Recipes). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let n = 0; n < 500; n++) {
      del *= x / ++ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Pearson chi-square p-value of counts against expected probabilities (cells with p = 0 must be empty). */
function chiSquarePValue(counts: number[], probs: number[]): { stat: number; df: number; p: number } {
  const total = counts.reduce((a, b) => a + b, 0);
  let stat = 0;
  let df = -1;
  counts.forEach((c, i) => {
    const e = probs[i] * total;
    if (e < 1e-9) {
      if (c > 0) stat = Infinity;
      return;
    }
    stat += (c - e) ** 2 / e;
    df++;
  });
  return { stat, df, p: df > 0 ? gammaQ(df / 2, stat / 2) : 1 };
}

beforeAll(async () => {
  await setupBackend();
});

test('chi-square helper sanity: Q(df/2, x/2) at known quantiles', () => {
  // 95 % quantiles: df 1 → 3.841, df 3 → 7.815, df 15 → 24.996.
  expect(gammaQ(0.5, 3.841 / 2)).toBeCloseTo(0.05, 3);
  expect(gammaQ(1.5, 7.815 / 2)).toBeCloseTo(0.05, 3);
  expect(gammaQ(7.5, 24.996 / 2)).toBeCloseTo(0.05, 3);
});

/**
 * T steps for R rows × B columns with every column of a row getting the same currents; outcomes
 * sampled from `seed` via the engine's Rng. Returns the outcome index per (t, row, column).
 */
function sampleTrajectory(spec: Spec, thetas: Record<string, number>[], currents: number[][][], batch: number, seed: number): Int32Array[] {
  const circuit = compileSpec(spec);
  const rows = thetas.length;
  const n = spec.ioQubits;
  const random = new Rng(seed);
  const unitary = tf.tidy(() => {
    const u = circuitUnitary(circuit, occurrenceAngles(circuit, thetaTensor(circuit, thetas)));
    return [u.re, u.im];
  });
  let mem = tf.tidy(() => {
    const m0 = initialMemory(rows, circuit.memoryQubits, batch);
    return { re: m0.re, im: m0.im };
  });
  const out: Int32Array[] = [];
  for (const z of currents) {
    const step = tf.tidy(() => {
      // currents z [row][n] broadcast over the batch.
      const cur = tf.tile(tf.tensor3d(z.flat(), [rows, n, 1]), [1, 1, batch]);
      const s = sqsStep({ circuit, unitary: { re: unitary[0], im: unitary[1] }, mem, phi: encodingAngles(cur), uniforms: random.uniform([rows, batch]) });
      return { y: tf.argMax(s.oneHot, 1), re: s.mem.re, im: s.mem.im };
    });
    tf.dispose([mem.re, mem.im]);
    mem = { re: step.re, im: step.im };
    out.push(Int32Array.from(step.y.dataSync()));
    step.y.dispose();
  }
  tf.dispose([mem.re, mem.im, ...unitary]);
  return out;
}

const SPEC_SEED = 1234;

function setup(n: number, nm: number) {
  const r = rng(SPEC_SEED + n * 10 + nm);
  const spec = randomSpec(r, n, nm, 4);
  const thetas = randomThetas(r, spec, 2);
  return { spec, thetas };
}

test('one step, B = 20000 columns: outcome frequencies match p(y) (chi-square, fixed seed)', () => {
  for (const [n, nm] of [
    [1, 1],
    [2, 1],
  ] as [number, number][]) {
    const { spec, thetas } = setup(n, nm);
    const z = [Array.from({ length: n }, (_, q) => 0.35 + 0.2 * q), Array.from({ length: n }, (_, q) => (q === 0 ? -0.5 : 0.8))];
    const batch = 20000;
    const [ys] = sampleTrajectory(spec, thetas, [z], batch, 42);
    const k = 2 ** n;
    thetas.forEach((th, row) => {
      const hist = enumerateHistories(refCircuit(spec, th), [z[row]]);
      const probs = new Array(k).fill(0);
      for (const h of hist) probs[h.ys[0]] += h.prob;
      const counts = new Array(k).fill(0);
      for (let b = 0; b < batch; b++) counts[ys[row * batch + b]]++;
      const chi = chiSquarePValue(counts, probs);
      expect({ n, nm, row, ok: chi.p > 1e-4 ? true : chi }).toEqual({ n, nm, row, ok: true });
    });
  }
});

test('two steps, B = 20000 columns: joint frequencies of (y1, y2) match the reference (collapse + resampling)', () => {
  const n = 2;
  const nm = 2;
  const { spec, thetas } = setup(n, nm);
  const z1 = [
    [0.4, 0.9],
    [0.7, -0.2],
  ];
  const z2 = [
    [0.1, 0],
    [0.5, 0.3],
  ];
  const batch = 20000;
  const ys = sampleTrajectory(spec, thetas, [z1, z2], batch, 7);
  const k = 2 ** n;
  thetas.forEach((th, row) => {
    const hist = enumerateHistories(refCircuit(spec, th), [z1[row], z2[row]]);
    const probs = new Array(k * k).fill(0);
    for (const h of hist) probs[h.ys[0] * k + h.ys[1]] += h.prob;
    const counts = new Array(k * k).fill(0);
    for (let b = 0; b < batch; b++) counts[ys[0][row * batch + b] * k + ys[1][row * batch + b]]++;
    const chi = chiSquarePValue(counts, probs);
    expect({ row, ok: chi.p > 1e-4 ? true : chi }).toEqual({ row, ok: true });
  });
});

test('same seed ⇒ identical outcomes; a different seed ⇒ different outcomes', () => {
  const { spec, thetas } = setup(2, 1);
  const z = [
    [0.3, 0.6],
    [0.9, 0.2],
  ];
  const batch = 2000;
  const a = sampleTrajectory(spec, thetas, [z, z, z], batch, 99);
  const b = sampleTrajectory(spec, thetas, [z, z, z], batch, 99);
  const c = sampleTrajectory(spec, thetas, [z, z, z], batch, 100);
  a.forEach((at, t) => expect(Array.from(at)).toEqual(Array.from(b[t])));
  const differ = a.some((at, t) => at.some((v, i) => v !== c[t][i]));
  expect(differ).toBe(true);
});
