/**
 * Engine float32 statevector kernels vs the independent float64 reference (test/reference/sim64.ts):
 * random circuits with every gate type on 1..6 qubits, several neurons and samples, multi-step
 * teacher-forced trajectories on both the dense-unitary and the gate-by-gate path.
 */
import { setupBackend } from './helpers';
import { tf } from '../kernels/tf';
import { compileCircuit, hardwareEfficientCircuit, occurrenceAngles, paperCircuit } from '../kernels/circuit';
import { circuitUnitary, evolveDense, evolveGates } from '../kernels/evolve';
import { encodingAngles, ioAmplitudes, inputState, oneHotFromBits, perQubit } from '../kernels/statevector';
import {
  Spec,
  flat3,
  pickLikely,
  randInt,
  randUniform,
  randomCurrents,
  randomSpec,
  randomThetas,
  refCircuit,
  rng,
} from './reference/bridge';
import { compileSpec, engineTrajectory, maxDiff, referenceTrajectory, thetaTensor, trajectoryDiff } from './reference/drive';
import {
  CVec,
  circuitUnitary64,
  cvec,
  encodingUnitary,
  expand,
  hermitianEigenvalues,
  identity,
  matmul,
  dagger,
  matvec,
  rx,
  ry,
  rz,
  sampleIndex,
  embedMemory,
  cmat,
  gateMatrix,
  REF_GATE_NAMES,
  RefGate,
} from './reference/sim64';

const TOL = 1e-5;

/** (N, N_M) pairs covering N_tot = 1..6, N ∈ 1..3, N_M ∈ 0..3. */
const CONFIGS: [number, number][] = [
  [1, 0],
  [1, 1],
  [2, 0],
  [1, 2],
  [2, 1],
  [3, 0],
  [2, 2],
  [3, 1],
  [1, 3],
  [3, 2],
  [2, 3],
  [3, 3],
];

beforeAll(async () => {
  await setupBackend();
});

describe('reference simulator self-checks', () => {
  test('gate matrices: unitary, conventions on basis states', () => {
    for (const g of REF_GATE_NAMES) {
      const two = ['CRX', 'CRY', 'CRZ', 'CNOT', 'CZ'].includes(g);
      const gate: RefGate = { gate: g, qubits: two ? [2, 0] : [1], angle: 0.77 };
      const u = gateMatrix(3, gate);
      const uu = matmul(dagger(u), u);
      expect(maxDiff(uu.re, identity(8).re)).toBeLessThan(1e-12);
      expect(maxDiff(uu.im, identity(8).im)).toBeLessThan(1e-12);
    }
    // CNOT [control 1, target 0]: |q1=1, q0=0⟩ = index 2 → index 3; |q1=0, q0=1⟩ = 1 stays.
    const cn = gateMatrix(2, { gate: 'CNOT', qubits: [1, 0] });
    expect(cn.re[3 * 4 + 2]).toBe(1);
    expect(cn.re[1 * 4 + 1]).toBe(1);
    // CZ: phase −1 only on |11⟩.
    const cz = gateMatrix(2, { gate: 'CZ', qubits: [0, 1] });
    expect([cz.re[0], cz.re[5], cz.re[10], cz.re[15]]).toEqual([1, 1, 1, -1]);
    // RX(π)|0⟩ = −i|1⟩; RY(π)|0⟩ = |1⟩; RZ(a) = diag(e^{−ia/2}, e^{ia/2}).
    expect(rx(Math.PI)[2].im).toBeCloseTo(-1, 12);
    expect(ry(Math.PI)[2].re).toBeCloseTo(1, 12);
    expect(rz(0.6)[0].im).toBeCloseTo(-Math.sin(0.3), 12);
    // Qubit 1 of 2 is the high bit: X on qubit 1 maps index 0 to index 2.
    const x1 = expand(2, [{ re: 0, im: 0 }, { re: 1, im: 0 }, { re: 1, im: 0 }, { re: 0, im: 0 }], 1);
    expect(x1.re[2 * 4 + 0]).toBe(1);
  });

  test('Jacobi eigenvalues of a Hermitian matrix', () => {
    // Random Hermitian H = A + A†; its eigenvalues are invariant under a unitary change of basis:
    // compare against the eigenvalues of the diagonal matrix diag(λ) rotated by a random unitary.
    const r = rng(5);
    const lambda = [-0.7, 0, 0.2, 0.2, 1.5];
    const n = lambda.length;
    const d = cmat(n);
    lambda.forEach((l, i) => (d.re[i * n + i] = l));
    let u = identity(n);
    for (let k = 0; k < 12; k++) {
      const a = randInt(r, 0, n);
      let b = randInt(r, 0, n - 1);
      if (b >= a) b++;
      const th = randUniform(r, 0, 3);
      const ph = randUniform(r, 0, 3);
      const g = identity(n);
      g.re[a * n + a] = Math.cos(th);
      g.re[b * n + b] = Math.cos(th);
      g.re[a * n + b] = -Math.sin(th) * Math.cos(ph);
      g.im[a * n + b] = -Math.sin(th) * Math.sin(ph);
      g.re[b * n + a] = Math.sin(th) * Math.cos(ph);
      g.im[b * n + a] = -Math.sin(th) * Math.sin(ph);
      u = matmul(g, u);
    }
    const h = matmul(matmul(u, d), dagger(u));
    const ev = hermitianEigenvalues(h);
    expect(maxDiff(ev, lambda)).toBeLessThan(1e-10);
  });
});

describe('statevector kernels vs float64 reference', () => {
  test('circuitUnitary and occurrenceAngles: random circuits with every gate type, N_tot 1..6', () => {
    const r = rng(101);
    for (const [n, nm] of CONFIGS) {
      const spec = randomSpec(r, n, nm);
      const rows = 3;
      const thetas = randomThetas(r, spec, rows);
      const circuit = compileSpec(spec);
      const d = circuit.dim;
      const { re, im } = tf.tidy(() => {
        const u = circuitUnitary(circuit, occurrenceAngles(circuit, thetaTensor(circuit, thetas)));
        return { re: u.re, im: u.im };
      });
      const ure = re.dataSync();
      const uim = im.dataSync();
      tf.dispose([re, im]);
      let diff = 0;
      for (let row = 0; row < rows; row++) {
        const ref = circuitUnitary64(refCircuit(spec, thetas[row]));
        diff = Math.max(
          diff,
          maxDiff(ure.subarray(row * d * d, (row + 1) * d * d), ref.re),
          maxDiff(uim.subarray(row * d * d, (row + 1) * d * d), ref.im),
        );
      }
      expect({ n, nm, diff: diff < TOL ? 'ok' : diff }).toEqual({ n, nm, diff: 'ok' });
    }
  });

  test('evolveGates and evolveDense on random states equal U·ψ', () => {
    const r = rng(202);
    for (const [n, nm] of CONFIGS) {
      const spec = randomSpec(r, n, nm);
      const rows = 2;
      const cols = 3;
      const thetas = randomThetas(r, spec, rows);
      const circuit = compileSpec(spec);
      const d = circuit.dim;
      const sre = Array.from({ length: rows * d * cols }, () => randUniform(r, -1, 1));
      const sim = Array.from({ length: rows * d * cols }, () => randUniform(r, -1, 1));
      const out = tf.tidy(() => {
        const angles = occurrenceAngles(circuit, thetaTensor(circuit, thetas));
        const state = { re: tf.tensor3d(sre, [rows, d, cols]), im: tf.tensor3d(sim, [rows, d, cols]) };
        const g = evolveGates(circuit, angles, state);
        const dn = evolveDense(circuitUnitary(circuit, angles), state);
        return [g.re, g.im, dn.re, dn.im];
      });
      const [gre, gim, dre, dim] = out.map((t) => t.dataSync());
      tf.dispose(out);
      let diff = 0;
      for (let row = 0; row < rows; row++) {
        const u = circuitUnitary64(refCircuit(spec, thetas[row]));
        for (let c = 0; c < cols; c++) {
          const v = cvec(d);
          for (let i = 0; i < d; i++) {
            v.re[i] = sre[(row * d + i) * cols + c];
            v.im[i] = sim[(row * d + i) * cols + c];
          }
          const w = matvec(u, v);
          for (let i = 0; i < d; i++) {
            const at = (row * d + i) * cols + c;
            diff = Math.max(
              diff,
              Math.abs(gre[at] - w.re[i]),
              Math.abs(gim[at] - w.im[i]),
              Math.abs(dre[at] - w.re[i]),
              Math.abs(dim[at] - w.im[i]),
            );
          }
        }
      }
      expect({ n, nm, diff: diff < TOL ? 'ok' : diff }).toEqual({ n, nm, diff: 'ok' });
    }
  });

  test('encoding: ioAmplitudes ⊗ memory (inputState) equals ⊗RX(π·max(z,0)) on |0⟩ ⊗ mem', () => {
    const r = rng(303);
    for (const [n, nm] of [
      [1, 0],
      [2, 1],
      [3, 2],
    ] as [number, number][]) {
      const rows = 2;
      const batch = 4;
      const currents = randomCurrents(r, rows, n, batch);
      const dm = 2 ** nm;
      const d = 2 ** (n + nm);
      const mre = Array.from({ length: rows * dm * batch }, () => randUniform(r, -1, 1));
      const mim = Array.from({ length: rows * dm * batch }, () => randUniform(r, -1, 1));
      const out = tf.tidy(() => {
        const phi = encodingAngles(tf.tensor3d(flat3(currents), [rows, n, batch]));
        const s = inputState(ioAmplitudes(phi), { re: tf.tensor3d(mre, [rows, dm, batch]), im: tf.tensor3d(mim, [rows, dm, batch]) });
        return [s.re, s.im];
      });
      const [are, aim] = out.map((t) => t.dataSync());
      tf.dispose(out);
      let diff = 0;
      const circ = { n, nm, layers: [] };
      for (let row = 0; row < rows; row++)
        for (let b = 0; b < batch; b++) {
          const mem: CVec = cvec(dm);
          for (let m = 0; m < dm; m++) {
            mem.re[m] = mre[(row * dm + m) * batch + b];
            mem.im[m] = mim[(row * dm + m) * batch + b];
          }
          const phi = Array.from({ length: n }, (_, q) => Math.PI * Math.max(currents[row][q][b], 0));
          const want = matvec(encodingUnitary(circ, phi), embedMemory(circ, mem));
          for (let i = 0; i < d; i++) {
            const at = (row * d + i) * batch + b;
            diff = Math.max(diff, Math.abs(are[at] - want.re[i]), Math.abs(aim[at] - want.im[i]));
          }
        }
      expect(diff).toBeLessThan(TOL);
    }
  });

  test('teacher-forced multi-step trajectories: dense and gate-by-gate paths equal the reference', () => {
    const r = rng(404);
    const T = 4;
    const rows = 3;
    const batch = 4;
    const worst = { probs: 0, mem: 0, prob: 0, oneHot: 0 };
    for (const [n, nm] of CONFIGS) {
      const spec = randomSpec(r, n, nm);
      const thetas = randomThetas(r, spec, rows);
      const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
      const ref = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
      for (const path of ['dense', 'gates'] as const) {
        const eng = engineTrajectory({ spec, thetas, currents, forced: ref.ys, path });
        const d = trajectoryDiff(eng, ref.records);
        for (const k of Object.keys(worst) as (keyof typeof worst)[]) worst[k] = Math.max(worst[k], d[k]);
        const ok = d.probs < TOL && d.mem < TOL && d.prob < TOL && d.oneHot === 0;
        expect({ n, nm, path, d: ok ? 'ok' : d }).toEqual({ n, nm, path, d: 'ok' });
      }
    }
    // eslint-disable-next-line no-console
    console.log(`statevector trajectories: worst |engine − reference| ${JSON.stringify(worst)}`);
  });

  test('sampled outcomes follow y = #{k < K−1 : cdf_k ≤ u·Σp} and the memory collapses accordingly', () => {
    const r = rng(505);
    const T = 3;
    const rows = 2;
    const batch = 6;
    for (const [n, nm] of [
      [1, 1],
      [2, 2],
      [3, 1],
    ] as [number, number][]) {
      const spec = randomSpec(r, n, nm);
      const thetas = randomThetas(r, spec, rows);
      const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
      const uniforms = Array.from({ length: T }, () => Array.from({ length: rows }, () => Array.from({ length: batch }, () => r())));
      const ref = referenceTrajectory({ spec, thetas, currents, choose: (t, row, b, p) => sampleIndex(p, uniforms[t][row][b]) });
      // Uniforms are continuous: a draw within float32 rounding of a CDF boundary has probability ~1e-6.
      for (const path of ['dense', 'gates'] as const) {
        const eng = engineTrajectory({ spec, thetas, currents, uniforms, path });
        const d = trajectoryDiff(eng, ref.records);
        expect(d.oneHot).toBe(0);
        expect(d.probs).toBeLessThan(TOL);
        expect(d.mem).toBeLessThan(TOL);
      }
    }
  });

  test('perQubit marginals and oneHotFromBits', () => {
    const r = rng(606);
    const n = 3;
    const rows = 2;
    const batch = 5;
    const k = 2 ** n;
    const probs = Array.from({ length: rows * k * batch }, () => r());
    const bits = Array.from({ length: rows * n * batch }, () => (r() < 0.5 ? 0 : 1));
    const out = tf.tidy(() => [
      perQubit(tf.tensor3d(probs, [rows, k, batch]), n),
      oneHotFromBits(tf.tensor3d(bits, [rows, n, batch])),
    ]);
    const [marg, oh] = out.map((t) => t.dataSync());
    tf.dispose(out);
    for (let row = 0; row < rows; row++)
      for (let b = 0; b < batch; b++) {
        let y = 0;
        for (let q = 0; q < n; q++) {
          let want = 0;
          for (let j = 0; j < k; j++) if ((j >> q) & 1) want += probs[(row * k + j) * batch + b];
          expect(Math.abs(marg[(row * n + q) * batch + b] - want)).toBeLessThan(TOL);
          y += bits[(row * n + q) * batch + b] << q;
        }
        for (let j = 0; j < k; j++) expect(oh[(row * k + j) * batch + b]).toBe(j === y ? 1 : 0);
      }
  });

  test('hardware-efficient ansätze (memory-to-io and ring) equal the reference', () => {
    const r = rng(707);
    for (const [n, nm, L, ent] of [
      [1, 1, 2, 'memory-to-io'],
      [2, 2, 2, 'memory-to-io'],
      [2, 1, 2, 'ring'],
      [3, 0, 1, 'memory-to-io'],
    ] as [number, number, number, 'memory-to-io' | 'ring'][]) {
      const circuit = hardwareEfficientCircuit(n, nm, L, ent);
      const spec = { ioQubits: circuit.ioQubits, memoryQubits: circuit.memoryQubits, layers: circuit.layers } as Spec;
      // Every qubit of the register gets RY and RZ in each layer.
      expect(spec.layers.flat().filter((g) => g.gate === 'RY').length).toBe(L * (n + nm));
      const thetas = randomThetas(r, spec, 2);
      const currents = Array.from({ length: 3 }, () => randomCurrents(r, 2, n, 3));
      const ref = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
      const eng = engineTrajectory({ spec, thetas, currents, forced: ref.ys, path: 'gates' });
      const d = trajectoryDiff(eng, ref.records);
      expect(d.probs).toBeLessThan(TOL);
      expect(d.mem).toBeLessThan(TOL);
    }
  });
});

describe("paper circuit (N = 1, N_M = 1): hand-checked cases", () => {
  const spec = (): Spec => {
    const c = paperCircuit();
    return { ioQubits: 1, memoryQubits: 1, layers: c.layers } as Spec;
  };

  test('layout: CRX(ent) memory→IO, then RX(in) on IO and RX(mem) on memory; θ columns ent, in, mem', () => {
    const c = paperCircuit();
    expect(c.paramNames).toEqual(['ent', 'in', 'mem']);
    expect(c.ops.map((o) => [o.gate, o.qubits, o.param])).toEqual([
      ['CRX', [1, 0], 'ent'],
      ['RX', [0], 'in'],
      ['RX', [1], 'mem'],
    ]);
  });

  test('ent = 0: p(spike) = sin²((π·max(z,0) + θ_in)/2) at every step, whatever the memory', () => {
    const thetaIn = 0.6;
    const thetas = [{ ent: 0, in: thetaIn, mem: 1.1 }];
    const zs = [0.3, -0.4, 0, 0.9, 1.4];
    const currents = [[[zs]], [[zs.map((z) => z * 0.5)]]];
    const forced = [[[1, 0, 1, 1, 0]], [[0, 0, 1, 0, 1]]];
    const eng = engineTrajectory({ spec: spec(), thetas, currents, forced, path: 'gates' });
    for (let t = 0; t < 2; t++)
      currents[t][0][0].forEach((z, b) => {
        const want = Math.sin((Math.PI * Math.max(z, 0) + thetaIn) / 2) ** 2;
        // probs [R=1, K=2, B]: entry (0, 1, b).
        expect(Math.abs(eng[t].probs[1 * 5 + b] - want)).toBeLessThan(TOL);
      });
  });

  test('step 2 (memory RX(θ_mem)|0⟩ after step 1): p(1) = cos²(m/2)·sin²((πz+in)/2) + sin²(m/2)·sin²((πz+ent+in)/2)', () => {
    const th = { ent: 1.3, in: -0.4, mem: 2.2 };
    const z1 = [0.7, -1, 0.2];
    const z2 = [0.25, 0, -0.3];
    const forced = [[[0, 1, 1]], [[1, 0, 1]]];
    const eng = engineTrajectory({ spec: spec(), thetas: [th], currents: [[[z1]], [[z2]]], forced, path: 'dense' });
    z2.forEach((z, b) => {
      const e = Math.PI * Math.max(z, 0);
      const want =
        Math.cos(th.mem / 2) ** 2 * Math.sin((e + th.in) / 2) ** 2 +
        Math.sin(th.mem / 2) ** 2 * Math.sin((e + th.ent + th.in) / 2) ** 2;
      expect(Math.abs(eng[1].probs[3 + b] - want)).toBeLessThan(TOL);
    });
  });

  test('ent = π, in = 0, mem = π, no input: the memory flips each step and the neuron spikes on even steps', () => {
    const thetas = [{ ent: Math.PI, in: 0, mem: Math.PI }];
    const T = 6;
    const currents = Array.from({ length: T }, () => [[[0]]]);
    const ys = Array.from({ length: T }, (_, t) => [[t % 2]]);
    const eng = engineTrajectory({ spec: spec(), thetas, currents, forced: ys, path: 'gates' });
    for (let t = 0; t < T; t++) {
      const p1 = eng[t].probs[1];
      expect(Math.abs(p1 - (t % 2))).toBeLessThan(TOL);
    }
  });

  test('ent = 0 and θ_in = π/2 on zero input gives p = 1/2; the reference agrees', () => {
    const thetas = [{ ent: 0, in: Math.PI / 2, mem: 0 }];
    const ref = referenceTrajectory({ spec: spec(), thetas, currents: [[[[0]]]], choose: () => 0 });
    expect(ref.records[0].probs[1]).toBeCloseTo(0.5, 12);
  });
});
