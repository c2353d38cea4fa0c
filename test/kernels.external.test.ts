/**
 * Cross-check against an independent third-party simulator, the npm package `quantum-circuit`
 * (devDependency). Its qubit ("wire") w is bit w of the state index (stateAsSimpleArray(false):
 * X on wire 0 of 2 wires gives index 1) — the same little-endian convention as ours, so index
 * i = y + 2^N·m needs no reordering. Its gates: rx/ry(theta), rz(phi) = diag(e^{−iφ/2}, e^{iφ/2}),
 * crx/cry(theta), crz(phi), h, x, cx, cz; two-qubit wires are [control, target].
 */
import { setupBackend } from './helpers';
import { Spec, pickLikely, randomCurrents, randomSpec, randomThetas, refCircuit, rng } from './reference/bridge';
import { engineTrajectory, referenceTrajectory } from './reference/drive';
import { encodingAngle, evolvePure, zeroMemory } from './reference/sim64';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const QuantumCircuit = require('quantum-circuit');

const QC_NAME: Record<string, { name: string; param?: string }> = {
  RX: { name: 'rx', param: 'theta' },
  RY: { name: 'ry', param: 'theta' },
  RZ: { name: 'rz', param: 'phi' },
  CRX: { name: 'crx', param: 'theta' },
  CRY: { name: 'cry', param: 'theta' },
  CRZ: { name: 'crz', param: 'phi' },
  H: { name: 'h' },
  X: { name: 'x' },
  CNOT: { name: 'cx' },
  CZ: { name: 'cz' },
};

/** State after encoding RX(π·max(z_n,0)) on IO wires and the circuit, from |0…0⟩ (step 1). */
function qcState(spec: Spec, theta: Record<string, number>, z: number[]): { re: number; im: number }[] {
  const nq = spec.ioQubits + spec.memoryQubits;
  const c = new QuantumCircuit(nq);
  z.forEach((zn, q) => c.appendGate('rx', q, { params: { theta: Math.PI * Math.max(zn, 0) } }));
  for (const layer of spec.layers)
    for (const g of layer) {
      const m = QC_NAME[g.gate];
      const wires = g.qubits.length === 1 ? g.qubits[0] : g.qubits.slice();
      c.appendGate(m.name, wires, m.param ? { params: { [m.param]: theta[g.param as string] } } : {});
    }
  c.run();
  return c.stateAsSimpleArray(false).map((a: { re: number; im: number }) => ({ re: a.re, im: a.im }));
}

beforeAll(async () => {
  await setupBackend();
});

test('quantum-circuit convention probe: wire 0 is bit 0, cx is [control, target]', () => {
  const c = new QuantumCircuit(2);
  c.appendGate('x', 0);
  c.appendGate('cx', [0, 1]);
  c.run();
  const s = c.stateAsSimpleArray(false);
  expect(s[3].re).toBeCloseTo(1, 12);
});

test('single step on 2–3 qubit random circuits: engine, reference and quantum-circuit agree', () => {
  const r = rng(909);
  const configs: [number, number][] = [
    [1, 1],
    [2, 0],
    [2, 1],
    [1, 2],
    [3, 0],
  ];
  for (const [n, nm] of configs) {
    for (let rep = 0; rep < 2; rep++) {
      const spec = randomSpec(r, n, nm, 4);
      const rows = 2;
      const batch = 3;
      const thetas = randomThetas(r, spec, rows);
      const currents = [randomCurrents(r, rows, n, batch)];
      const ref = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
      const k = 2 ** n;
      const dm = 2 ** nm;
      for (const path of ['dense', 'gates'] as const) {
        const eng = engineTrajectory({ spec, thetas, currents, forced: ref.ys, path });
        for (let row = 0; row < rows; row++)
          for (let b = 0; b < batch; b++) {
            const z = currents[0][row].map((zq) => zq[b]);
            const qs = qcState(spec, thetas[row], z);
            // Reference full state equals quantum-circuit's amplitude by amplitude.
            const psi = evolvePure(refCircuit(spec, thetas[row]), zeroMemory(nm), z.map(encodingAngle));
            qs.forEach((a, i) => {
              expect(Math.abs(a.re - psi.re[i])).toBeLessThan(1e-10);
              expect(Math.abs(a.im - psi.im[i])).toBeLessThan(1e-10);
            });
            // Outcome probabilities: IO outcome y is the low n bits.
            const p = new Array(k).fill(0);
            qs.forEach((a, i) => (p[i % k] += a.re ** 2 + a.im ** 2));
            for (let y = 0; y < k; y++) expect(Math.abs(eng[0].probs[(row * k + y) * batch + b] - p[y])).toBeLessThan(1e-5);
            // Collapsed memory for the forced outcome.
            const y = ref.ys[0][row][b];
            const norm = Math.sqrt(p[y]);
            for (let m = 0; m < dm; m++) {
              const a = qs[y + k * m];
              expect(Math.abs(eng[0].memRe[(row * dm + m) * batch + b] - a.re / norm)).toBeLessThan(1e-5);
              expect(Math.abs(eng[0].memIm[(row * dm + m) * batch + b] - a.im / norm)).toBeLessThan(1e-5);
            }
          }
      }
    }
  }
});
