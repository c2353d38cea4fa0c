/**
 * OpenQASM export checked against the independent simulator `quantum-circuit`: exactly (deferred
 * measurement: each mid-circuit measure + reset becomes a swap into a fresh ancilla, so the
 * ancillas' final distribution is the distribution of records) and by sampling the program as
 * written (mid-circuit measure and reset), with fixed seeds and binomial bounds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import seedrandom from 'seedrandom';
import { GateOp, compileCircuit } from '../kernels/circuit';
import { GATES, GateName, baseMatrix64 } from '../kernels/gates';
import { exactSpikeRates, forcedStepProbabilities } from '../src/likelihood';
import { QasmError, QasmGate, QasmNeuron, exportQasm, formatAngle, gateInstructions } from '../src/qasm';
import { ParsedNeuronSpec, parseNeuronSpec } from '../src/spec';
import { setupBackend, capture } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const QuantumCircuit = require('quantum-circuit');

/**
 * quantum-circuit re-evaluates every gate matrix from its string expressions (math.js) at each
 * application; memoising that pure function (same gate definition and parameters → same matrix,
 * never mutated) makes sampling several times faster without touching the simulation itself.
 */
const originalGetRawGate = QuantumCircuit.prototype.getRawGate;
beforeAll(async () => {
  await setupBackend();
  const cache = new Map<string, unknown>();
  QuantumCircuit.prototype.getRawGate = function (gate: any, options: any, globalOptions: any) {
    const global = globalOptions?.params ?? this.options?.params;
    if (global && Object.keys(global).length) return originalGetRawGate.call(this, gate, options, globalOptions);
    const key = JSON.stringify([gate.matrix, gate.params, options?.params]);
    let m = cache.get(key);
    if (!m) cache.set(key, (m = originalGetRawGate.call(this, gate, options, globalOptions)));
    return m;
  };
});
afterAll(() => {
  QuantumCircuit.prototype.getRawGate = originalGetRawGate;
});

// ---------------------------------------------------------------------------------------------
// Small float64 complex linear algebra with the textbook qelib1 / stdgates definitions.

type C = [number, number];
type M = C[][];
const cm = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const ca = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const ex = (phi: number): C => [Math.cos(phi), Math.sin(phi)];
const r = (x: number): C => [x, 0];

function mat1(name: string, p: number[]): M {
  const [a, b, c] = p;
  const co = Math.cos(a / 2);
  const si = Math.sin(a / 2);
  switch (name) {
    case 'rx':
      return [[r(co), [0, -si]], [[0, -si], r(co)]];
    case 'ry':
      return [[r(co), r(-si)], [r(si), r(co)]];
    case 'rz':
      return [[ex(-a / 2), r(0)], [r(0), ex(a / 2)]];
    case 'u1':
      return [[r(1), r(0)], [r(0), ex(a)]];
    case 'u3': // U(θ, φ, λ) of OpenQASM 2
      return [[r(co), cm(r(-si), ex(c))], [cm(r(si), ex(b)), cm(r(co), ex(b + c))]];
    case 'h':
      return [[r(Math.SQRT1_2), r(Math.SQRT1_2)], [r(Math.SQRT1_2), r(-Math.SQRT1_2)]];
    case 'x':
      return [[r(0), r(1)], [r(1), r(0)]];
    case 'z':
      return [[r(1), r(0)], [r(0), r(-1)]];
    default:
      throw new Error(`no matrix for ${name}`);
  }
}

/** Controlled gates of the target languages as (base matrix on the target when control = 1). */
const CONTROLLED: Record<string, (p: number[]) => M> = {
  cx: () => mat1('x', []),
  cz: () => mat1('z', []),
  crz: (p) => mat1('rz', p), // qelib1: u1(λ/2) t; cx; u1(−λ/2) t; cx  ≡  controlled-RZ exactly
  crx: (p) => mat1('rx', p), // stdgates: ctrl @ rx
  cry: (p) => mat1('ry', p), // stdgates: ctrl @ ry
};

/** A one-qubit matrix on qubits[0], or controlled (qubits = [control, target]), as a 4×4 unitary. */
function embed(m: M, qubits: number[]): M {
  const u: M = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => r(0)));
  const t = qubits[qubits.length - 1];
  for (let col = 0; col < 4; col++) {
    if (qubits.length === 2 && ((col >> qubits[0]) & 1) === 0) u[col][col] = r(1);
    else {
      const bit = (col >> t) & 1;
      for (let out = 0; out < 2; out++) u[(col & ~(1 << t)) | (out << t)][col] = m[out][bit];
    }
  }
  return u;
}

function matmul(a: M, b: M): M {
  return a.map((row) => b[0].map((_, j) => row.reduce((s: C, x, k) => ca(s, cm(x, b[k][j])), r(0))));
}

/** 4×4 unitary on qubits {0, 1} (basis index b0 + 2·b1) of a gate list, first gate first. */
function unitary2(gates: QasmGate[]): M {
  let u = embed([[r(1), r(0)], [r(0), r(1)]], [0]);
  for (const g of gates) {
    const m = g.qubits.length === 1 ? mat1(g.name, g.params) : CONTROLLED[g.name](g.params);
    u = matmul(embed(m, g.qubits), u);
  }
  return u;
}

/** The engine's gate (kernels/gates.ts) on qubits {0, 1} as a 4×4 unitary. */
function engineUnitary(op: GateOp, angle: number): M {
  const b = baseMatrix64(GATES[op.gate], angle);
  return embed([[b[0], b[1]], [b[2], b[3]]], op.qubits);
}

/** max |a − e^{iγ} b| over entries, with the best global phase γ. */
function distUpToPhase(a: M, b: M): number {
  let num: C = [0, 0];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) num = ca(num, cm(a[i][j], [b[i][j][0], -b[i][j][1]]));
  const ph = Math.atan2(num[1], num[0]);
  let d = 0;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const bb = cm(b[i][j], ex(ph));
      d = Math.max(d, Math.hypot(a[i][j][0] - bb[0], a[i][j][1] - bb[1]));
    }
  return d;
}

describe('gate translations', () => {
  const QELIB1 = new Set(['u3', 'u2', 'u1', 'cx', 'id', 'x', 'y', 'z', 'h', 's', 'sdg', 't', 'tdg', 'rx', 'ry', 'rz', 'cz', 'cy', 'ch', 'ccx', 'crz', 'cu1', 'cu3']);
  const STDGATES = new Set(['p', 'x', 'y', 'z', 'h', 's', 'sdg', 't', 'tdg', 'sx', 'rx', 'ry', 'rz', 'cx', 'cy', 'cz', 'cp', 'crx', 'cry', 'crz', 'ch', 'swap', 'ccx', 'cswap', 'cu', 'id', 'u1', 'u2', 'u3']);

  for (const name of Object.keys(GATES) as GateName[]) {
    test(`${name} is exact (up to a global phase) in OpenQASM 2 and 3, both qubit orders`, () => {
      const info = GATES[name];
      for (const angle of info.parametric ? [0.37, -2.1, 4.4, Math.PI] : [0]) {
        for (const qubits of info.arity === 1 ? [[0], [1]] : [[0, 1], [1, 0]]) {
          const op: GateOp = { gate: name, qubits, ...(info.parametric ? { param: 'a' } : {}) };
          const want = engineUnitary(op, angle);
          for (const version of [2, 3] as const) {
            const gates = gateInstructions(op, info.parametric ? angle : undefined, version);
            const lib = version === 2 ? QELIB1 : STDGATES;
            for (const g of gates) expect(lib.has(g.name)).toBe(true);
            expect(distUpToPhase(unitary2(gates), want)).toBeLessThan(1e-12);
          }
        }
      }
    });
  }

  test('OpenQASM 2 has no crx/cry (absent from qelib1.inc): they are decomposed', () => {
    for (const gate of ['CRX', 'CRY'] as GateName[]) {
      const names = gateInstructions({ gate, qubits: [1, 0], param: 'a' }, 0.5, 2).map((g) => g.name);
      expect(names).toContain('cx');
      expect(names).not.toContain(gate.toLowerCase());
    }
  });

  test('angle literals are valid in OpenQASM 2 (a decimal point before any exponent)', () => {
    expect(formatAngle(0)).toBe('0');
    expect(formatAngle(Math.PI / 2)).toBe('pi/2');
    expect(formatAngle(-Math.PI / 2)).toBe('-pi/2');
    expect(formatAngle(1e-7)).toBe('1.0e-7');
    expect(formatAngle(-2.5e-8)).toBe('-2.5e-8');
    expect(formatAngle(2)).toBe('2');
    expect(Number(formatAngle(0.1234567890123))).toBe(0.1234567890123);
    expect(() => formatAngle(NaN)).toThrow(QasmError);
  });
});

// ---------------------------------------------------------------------------------------------
// Neurons, the engine's exact record distributions, and quantum-circuit.

const PAPER: ParsedNeuronSpec = parseNeuronSpec({
  ioQubits: 1,
  memoryQubits: 1,
  ansatz: 'paper',
  params: { ent: 2.3, in: 0.9, mem: 1.7 },
  currents: [[0.6], [0], [1.2], [-0.4], [0.35]],
});

const ALL_GATES: GateName[] = ['RX', 'RY', 'RZ', 'CRX', 'CRY', 'CRZ', 'H', 'X', 'CNOT', 'CZ'];

/** A random general circuit (every gate kind can appear) with N = 2 IO and 1 memory qubit. */
function randomSpec(seed: string, steps: number, nGates = 8): ParsedNeuronSpec {
  const rnd = seedrandom(seed);
  const total = 3;
  const gates: GateOp[] = [];
  const params: Record<string, number> = {};
  // Make sure the memory is used: a controlled rotation from it, and one onto it.
  const kinds = ['CRX', 'CRY', ...Array.from({ length: nGates - 2 }, () => ALL_GATES[Math.floor(rnd() * ALL_GATES.length)])] as GateName[];
  kinds.forEach((g, i) => {
    const info = GATES[g];
    let qubits: number[];
    if (i === 0) qubits = [2, Math.floor(rnd() * 2)];
    else if (i === 1) qubits = [Math.floor(rnd() * 2), 2];
    else if (info.arity === 1) qubits = [Math.floor(rnd() * total)];
    else {
      const c = Math.floor(rnd() * total);
      qubits = [c, (c + 1 + Math.floor(rnd() * (total - 1))) % total];
    }
    const op: GateOp = { gate: g, qubits };
    if (info.parametric) {
      op.param = `p${i}`;
      params[op.param] = (rnd() * 2 - 1) * 2 * Math.PI;
    }
    gates.push(op);
  });
  const currents = Array.from({ length: steps }, () => [rnd() * 2 - 0.5, rnd() * 2 - 0.5]);
  return parseNeuronSpec({ ioQubits: 2, memoryQubits: 1, ansatz: gates, params, currents });
}

const asNeuron = (s: ParsedNeuronSpec): QasmNeuron => ({ circuit: s.circuit, theta: s.theta, currents: s.currents });

/** The engine's probability of every record (index = Σ c[i] 2^i) of width T·N, by teacher forcing. */
function engineRecordDistribution(spec: ParsedNeuronSpec): Float64Array {
  const w = spec.steps * spec.circuit.ioQubits;
  const records = Array.from({ length: 2 ** w }, (_, v) => Uint8Array.from({ length: w }, (_, i) => (v >> i) & 1));
  const probs = forcedStepProbabilities(spec, records);
  return Float64Array.from(records, (_, rIdx) => probs.reduce((p, row) => p * row[rIdx], 1));
}

function importQasm(src: string): any {
  const c = new QuantumCircuit();
  let errors: unknown[] = [];
  c.importQASM(src, (e: unknown[]) => (errors = e ?? []));
  expect(errors).toEqual([]);
  return c;
}

/**
 * Deferred measurement: replace each `measure q[i] -> c[b]; reset q[i];` by a swap of q[i] with a
 * fresh ancilla q[A + b] (three cx). The ancillas end up holding the record; returns its exact
 * distribution from quantum-circuit's final state vector.
 */
function deferredRecordDistribution(program: string): Float64Array {
  const qreg = /qreg q\[(\d+)\];/.exec(program);
  const creg = /creg c\[(\d+)\];/.exec(program);
  const a = Number(qreg![1]);
  const w = Number(creg![1]);
  const lines = program.split('\n').flatMap((line) => {
    if (line.startsWith('qreg')) return [`qreg q[${a + w}];`];
    if (line.startsWith('creg') || line.startsWith('reset')) return [];
    const m = /^measure q\[(\d+)\] -> c\[(\d+)\];$/.exec(line);
    if (m) {
      const [i, anc] = [m[1], a + Number(m[2])];
      return [`cx q[${i}],q[${anc}];`, `cx q[${anc}],q[${i}];`, `cx q[${i}],q[${anc}];`];
    }
    return [line];
  });
  const c = importQasm(lines.join('\n'));
  c.run();
  const dist = new Float64Array(2 ** w);
  for (const [idx, amp] of Object.entries(c.state as Record<string, { re: number; im: number }>)) {
    const v = Number(idx);
    dist[Math.floor(v / 2 ** a) % 2 ** w] += amp.re * amp.re + amp.im * amp.im;
  }
  return dist;
}

/** Sample the program as written (mid-circuit measure and reset) with Math.random seeded. */
function sampleProgram(program: string, shots: number, seed: string): number[] {
  const w = Number(/creg c\[(\d+)\];/.exec(program)![1]);
  const c = importQasm(program);
  const saved = Math.random;
  Math.random = seedrandom(seed);
  const ones = new Array(w).fill(0);
  try {
    for (let s = 0; s < shots; s++) {
      c.run();
      for (let i = 0; i < w; i++) ones[i] += c.getCregBit('c', i);
    }
  } finally {
    Math.random = saved;
  }
  return ones.map((x) => x / shots);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('OpenQASM 2 programs in quantum-circuit', () => {
  const randomSpecs = [randomSpec('qasm-a', 3), randomSpec('qasm-b', 3), randomSpec('qasm-c', 3, 10)];

  test('paper circuit: the whole program (deferred measurement) gives the engine\'s exact record distribution', () => {
    const d = deferredRecordDistribution(exportQasm(asNeuron(PAPER)));
    expect(maxDiff(d, engineRecordDistribution(PAPER))).toBeLessThan(2e-5);
  });

  test('random general circuits, N = 2: exact record distributions agree', () => {
    for (const spec of randomSpecs) {
      const d = deferredRecordDistribution(exportQasm(asNeuron(spec)));
      const e = engineRecordDistribution(spec);
      expect(e.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
      expect(maxDiff(d, e)).toBeLessThan(2e-5);
    }
  });

  test('a layer (one qubit block and one bit block per neuron) gives the product distribution', () => {
    const b = parseNeuronSpec({ ioQubits: 1, memoryQubits: 1, params: { ent: -1.1, in: 2.4, mem: 0.4 }, currents: [[0.2], [0.9], [0], [0.5], [1]] });
    const d = deferredRecordDistribution(exportQasm([asNeuron(PAPER), asNeuron(b)]));
    const ea = engineRecordDistribution(PAPER);
    const eb = engineRecordDistribution(b);
    const want = Float64Array.from({ length: 2 ** 10 }, (_, v) => ea[v % 32] * eb[Math.floor(v / 32)]);
    expect(maxDiff(d, want)).toBeLessThan(2e-5);
  });

  /**
   * Largest |frequency − exact marginal| / binomial σ over the bits t·N + n of the sampled program
   * (σ floored so that a rate of exactly 0 or 1 allows a few stray counts).
   */
  function sampledZ(spec: ParsedNeuronSpec, shots: number, seed: string, edit = (p: string) => p): number {
    const freq = sampleProgram(edit(exportQasm(asNeuron(spec))), shots, seed);
    const rates = exactSpikeRates(spec).spikeRate.flat(); // bit t·N + n
    expect(freq.length).toBe(rates.length);
    return Math.max(...rates.map((p, i) => Math.abs(freq[i] - p) / Math.sqrt(Math.max(p * (1 - p), 1e-3) / shots)));
  }

  test('paper circuit: sampled per-step spike frequencies agree with the exact marginal rates (4.5σ)', () => {
    expect(sampledZ(PAPER, 2000, 'sample-paper')).toBeLessThan(4.5);
  });

  test('random general circuits, N = 2: sampled per-step spike frequencies agree (4.5σ)', () => {
    expect(sampledZ(randomSpecs[0], 1000, 'sample-a')).toBeLessThan(4.5);
    expect(sampledZ(randomSpecs[1], 1000, 'sample-b')).toBeLessThan(4.5);
  });

  test('the sampling check has power: the same program without its resets fails it', () => {
    expect(sampledZ(PAPER, 600, 'sample-noreset', (p) => p.replace(/^reset .*\n/gm, ''))).toBeGreaterThan(8);
  });
});

describe('program structure', () => {
  const spec = randomSpec('structure', 4);

  test('OpenQASM 2: header, registers, only qelib1 gates, measure then reset of IO qubits only', () => {
    const prog = exportQasm(asNeuron(spec));
    const lines = prog.split('\n').filter((l) => l && !l.startsWith('//'));
    expect(lines.slice(0, 4)).toEqual(['OPENQASM 2.0;', 'include "qelib1.inc";', 'qreg q[3];', 'creg c[8];']);
    const measures = lines.filter((l) => l.startsWith('measure'));
    expect(measures).toEqual(Array.from({ length: 8 }, (_, b) => `measure q[${b % 2}] -> c[${b}];`));
    expect(lines.filter((l) => l.startsWith('reset'))).toEqual(Array.from({ length: 8 }, (_, b) => `reset q[${b % 2}];`));
    expect(prog).not.toMatch(/q\[2\] ->|reset q\[2\]/);
    expect(prog).not.toMatch(/^(crx|cry)/m);
  });

  test('OpenQASM 3: declarations, stdgates gate set, per-step encoding → ansatz → measure → reset', () => {
    const prog = exportQasm(asNeuron(spec), { version: 3 });
    const lines = prog.split('\n').filter((l) => l && !l.startsWith('//'));
    expect(lines.slice(0, 4)).toEqual(['OPENQASM 3.0;', 'include "stdgates.inc";', 'qubit[3] q;', 'bit[8] c;']);
    expect(lines.join("\n")).not.toMatch(/qreg|creg|->|qelib1/);
    const body = lines.slice(4);
    const STD = new Set(['rx', 'ry', 'rz', 'h', 'x', 'cx', 'cz', 'crx', 'cry', 'crz']);
    const gatesPerStep = spec.circuit.ops.length;
    let i = 0;
    for (let t = 0; t < spec.steps; t++) {
      for (let n = 0; n < 2; n++)
        if (spec.currents[t][n] > 0) {
          expect(body[i]).toMatch(new RegExp(`^rx\\([^)]+\\) q\\[${n}\\];$`));
          const angle = Number(/\(([^)]+)\)/.exec(body[i])![1]);
          expect(angle).toBeCloseTo(Math.PI * spec.currents[t][n], 12);
          i++;
        }
      for (let g = 0; g < gatesPerStep; g++, i++) {
        const m = /^([a-z]+)(\([^)]*\))? q\[(\d)\](,q\[(\d)\])?;$/.exec(body[i]);
        expect(m).not.toBeNull();
        expect(STD.has(m![1])).toBe(true);
        const op = spec.circuit.ops[g];
        expect(m![1]).toBe({ CNOT: 'cx' }[op.gate as string] ?? op.gate.toLowerCase());
        expect([Number(m![3]), ...(m![5] ? [Number(m![5])] : [])]).toEqual(op.qubits);
      }
      expect(body.slice(i, i + 4)).toEqual([`c[${2 * t}] = measure q[0];`, `c[${2 * t + 1}] = measure q[1];`, 'reset q[0];', 'reset q[1];']);
      i += 4;
    }
    expect(i).toBe(body.length);
  });

  test('layer layout: qubit blocks q[h·N_tot + j], bit blocks c[h·T·N + t·N + n]', () => {
    const prog = exportQasm([asNeuron(spec), asNeuron(spec)], { version: 3 });
    expect(prog).toContain('qubit[6] q;');
    expect(prog).toContain('bit[16] c;');
    expect(prog).toContain('c[8] = measure q[3];');
    expect(prog).toContain('c[15] = measure q[4];');
    expect(prog).not.toMatch(/measure q\[(2|5)\]|reset q\[(2|5)\]/);
  });

  test('what the exporter cannot express is a QasmError', () => {
    const n = asNeuron(spec);
    expect(() => exportQasm([n, { ...n, currents: n.currents.slice(1) }])).toThrow(/same T/);
    expect(() => exportQasm({ ...n, theta: n.theta.slice(1) })).toThrow(QasmError);
    expect(() => exportQasm({ ...n, theta: n.theta.map(() => NaN) })).toThrow(/not finite/);
    expect(() => exportQasm({ ...n, currents: [[1]] })).toThrow(/2 entries/);
    expect(() => exportQasm([])).toThrow(QasmError);
    expect(() => exportQasm(n, { version: 4 as never })).toThrow(/2 or 3/);
    const bogus = compileCircuit({ ioQubits: 1, memoryQubits: 0, layers: [[{ gate: 'RX', qubits: [0], param: 'a' }]] });
    (bogus.ops[0] as { gate: string }).gate = 'SWAP';
    expect(() => exportQasm({ circuit: bogus, theta: [1], currents: [[0]] })).toThrow(/no OpenQASM translation/);
  });
});

// ---------------------------------------------------------------------------------------------
// The command.

describe('sqsnn export-qasm', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-qasm-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, x: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(x));
    return f;
  };
  const paperJson = { ioQubits: 1, memoryQubits: 1, ansatz: 'paper', params: { ent: 2.3, in: 0.9, mem: 1.7 }, currents: [[0.6], [0], [1.2]] };

  test('--spec writes the program on stdout; --qasm 3; --spec-out round-trips; a spec array is a layer', async () => {
    const { run } = await import('../src/commands/export-qasm');
    const f = write('paper.json', paperJson);
    const out2 = (await capture(() => run(['--spec', f]))).out;
    expect(out2).toBe(exportQasm(asNeuron(parseNeuronSpec(paperJson))));
    const out3 = (await capture(() => run(['--spec', f, '--qasm', '3']))).out;
    expect(out3.startsWith('OPENQASM 3.0;')).toBe(true);
    const so = path.join(dir, 'out.json');
    await capture(() => run(['--spec', f, '--spec-out', so]));
    expect(JSON.parse(fs.readFileSync(so, 'utf8'))).toEqual(paperJson);
    const layer = (await capture(() => run(['--spec', write('layer.json', [paperJson, paperJson])]))).out;
    expect(layer).toContain('qreg q[4];');
    expect(layer).toContain('measure q[2] -> c[5];');
  });

  test('bad input: clear user errors', async () => {
    const { run } = await import('../src/commands/export-qasm');
    const { isUserError } = await import('../src/cli');
    const expectUserError = async (argv: string[], msg: RegExp) => {
      const e = await capture(() => run(argv)).then(() => null, (x) => x);
      expect(e).toBeInstanceOf(Error);
      expect(isUserError(e)).toBe(true); // UsageError is an SqsnnError too
      expect(e.message).toMatch(msg);
    };
    await expectUserError(['--spec', write('o.json', { ...paperJson, outcomes: [[0], [1], [0]] })], /outcomes cannot be exported/);
    await expectUserError(['--spec', write('p.json', paperJson), '--qasm', '4'], /--qasm must be 2 or 3/);
    await expectUserError(['--spec', write('l.json', [paperJson, { ...paperJson, currents: [[1]] }])], /same T/);
    await expectUserError(['--spec', write('e.json', [])], /at least one neuron/);
    await expectUserError(['--spec', write('p.json', paperJson), '--layer', '0'], /goes with --checkpoint/);
    await expectUserError([], /--spec FILE/);
    const noisy = await capture(() => run(['--spec', write('n.json', { ...paperJson, noise: { t1: 50 } })]));
    expect(noisy.err).toMatch(/noise is not part of the program/);
  });
});

describe('sqsnn export-qasm --checkpoint', () => {
  let dir: string;
  let theta0: number[][];
  let theta1: number[][];
  const cfg = {
    inputs: 3,
    layers: [
      { neuron: 'sqs', size: 3 },
      { neuron: 'sqs', size: 2, ioQubits: 2, memoryQubits: 1, ansatz: { type: 'hardware-efficient', layers: 1 } },
    ],
  };
  beforeAll(async () => {
    const { Network } = await import('../src/network');
    const { saveCheckpoint } = await import('../src/checkpoint');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-qasm-ck-'));
    const net = new Network(cfg, 1);
    const layers = net.layers as unknown as { theta: { arraySync(): number[][] } }[];
    theta0 = layers[0].theta.arraySync();
    theta1 = layers[1].theta.arraySync();
    saveCheckpoint(path.join(dir, 'ck'), net.namedVariables(), { config: { network: cfg, seed: 1 }, epoch: 1 }, 'e1');
    net.dispose();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, x: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(x));
    return f;
  };

  test('one trained neuron with recorded currents; --spec-out reproduces it; likelihood accepts it too', async () => {
    const { run } = await import('../src/commands/export-qasm');
    const ck = path.join(dir, 'ck');
    const currents = [[0.4], [0], [0.9], [0.2]];
    const specOut = path.join(dir, 'n1.json');
    const { out } = await capture(() => run(['--checkpoint', ck, '--layer', '0', '--neuron', '1', '--currents', write('c1.json', currents), '--spec-out', specOut]));
    const spec = JSON.parse(fs.readFileSync(specOut, 'utf8'));
    expect(spec.params).toEqual({ ent: theta0[1][0], in: theta0[1][1], mem: theta0[1][2] });
    expect(spec.currents).toEqual(currents);
    expect(out).toBe(exportQasm(asNeuron(parseNeuronSpec(spec))));
    // [T][H][N] currents with --neuron: that neuron's slice.
    const layerCurrents = currents.map((row) => [[9], row, [-1]]);
    const again = await capture(() => run(['--checkpoint', ck, '--layer', '0', '--neuron', '1', '--currents', write('c3.json', { currents: layerCurrents })]));
    expect(again.out).toBe(out);
    const lik = await import('../src/commands/likelihood');
    const rep = JSON.parse((await capture(() => lik.run(['--checkpoint', ck, '--layer', '0', '--neuron', '1', '--currents', write('c1.json', currents), '--shots', write('s.json', ['0101', '0000']), '--reference-samples', '0']))).out);
    expect(rep.shots).toBe(2);
    expect(rep.predictedSpikeRate).toHaveLength(4);
  });

  test('a whole trained layer as one program', async () => {
    const { run } = await import('../src/commands/export-qasm');
    const currents = [[[0.3, 0.1], [0, 1]], [[0.5, -0.2], [0.7, 0.7]]];
    const { out } = await capture(() => run(['--checkpoint', path.join(dir, 'ck'), '--layer', '1', '--currents', write('cl.json', currents), '--qasm', '3']));
    expect(out).toContain('qubit[6] q;');
    expect(out).toContain('bit[8] c;');
    expect(out).toContain('c[7] = measure q[4];');
    // Neuron 1's first angle (ry0_0) appears in its block (qubit offset 3).
    expect(out).toContain(`ry(${formatAngle(theta1[1][0])}) q[3];`);
  });

  test('missing layer or neuron, bad currents, no checkpoint: clear user errors', async () => {
    const { run } = await import('../src/commands/export-qasm');
    const { isUserError } = await import('../src/cli');
    const ck = path.join(dir, 'ck');
    const cur = write('c.json', [[0.5], [0.1]]);
    const expectUserError = async (argv: string[], msg: RegExp) => {
      const e = await capture(() => run(argv)).then(() => null, (x) => x);
      expect(e).toBeInstanceOf(Error);
      expect(isUserError(e)).toBe(true); // UsageError is an SqsnnError too
      expect(e.message).toMatch(msg);
    };
    await expectUserError(['--checkpoint', ck, '--layer', '2', '--neuron', '0', '--currents', cur], /has 2 layer\(s\) \(0\.\.1\), no layer 2/);
    await expectUserError(['--checkpoint', ck, '--layer', '0', '--neuron', '3', '--currents', cur], /has 3 neuron\(s\) \(0\.\.2\), no neuron 3/);
    await expectUserError(['--checkpoint', ck, '--neuron', '0', '--currents', cur], /needs --layer/);
    await expectUserError(['--checkpoint', ck, '--layer', '0', '--neuron', '0'], /needs --currents/);
    await expectUserError(['--checkpoint', ck, '--layer', '0', '--currents', cur], /\[T\]\[H\]\[N\]/);
    await expectUserError(['--checkpoint', ck, '--layer', '1', '--neuron', '0', '--currents', cur], /must have 2 entries/);
    await expectUserError(['--checkpoint', ck, '--layer', '0', '--currents', write('h.json', [[[1], [1]]])], /must have 3 entries \(one per neuron/);
    await expectUserError(['--checkpoint', path.join(dir, 'nothing'), '--layer', '0', '--neuron', '0', '--currents', cur], /no checkpoint/);
    await expectUserError(['--checkpoint', ck, '--spec', cur], /not both/);
  });
});
