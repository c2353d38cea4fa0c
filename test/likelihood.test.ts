/**
 * Likelihood of spike records: record formats and bit orders, teacher-forced probabilities against
 * neuron-trace and the exact marginals, the model scoring its own records above another neuron's,
 * impossible records, layers, and the command's output and errors.
 */
import { SqsnnError } from '../kernels/errors';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  PROBABILITY_FLOOR,
  RecordsError,
  countRecords,
  exactSpikeRates,
  forcedStepProbabilities,
  formatRecord,
  likelihoodReport,
  parseRecords,
  sampleRecords,
} from '../src/likelihood';
import { ParsedNeuronSpec, parseNeuronSpec } from '../src/spec';
import { traceNeuron } from '../src/trace';
import { setupBackend, capture } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const paperJson = {
  ioQubits: 1,
  memoryQubits: 1,
  ansatz: 'paper',
  params: { ent: 2.3, in: 0.9, mem: 1.7 },
  currents: [[0.6], [0], [1.2], [-0.4], [0.35], [0.8]],
  seed: 5,
};
const PAPER = parseNeuronSpec(paperJson);
const OTHER = parseNeuronSpec({ ...paperJson, params: { ent: 0.4, in: 2.6, mem: 0.3 } });

const twoJson = {
  ioQubits: 2,
  memoryQubits: 1,
  ansatz: [
    { gate: 'CRX', qubits: [2, 0], param: 'a' },
    { gate: 'CRY', qubits: [2, 1], param: 'b' },
    { gate: 'H', qubits: [1] },
    { gate: 'CNOT', qubits: [1, 0] },
    { gate: 'RY', qubits: [2], param: 'c' },
    { gate: 'CRZ', qubits: [0, 2], param: 'd' },
    { gate: 'RX', qubits: [0], param: 'e' },
  ],
  params: { a: 1.9, b: -2.2, c: 1.1, d: 2.5, e: 0.6 },
  currents: [[0.3, 0.9], [0, 0.5], [1.1, -0.2]],
  seed: 2,
};
const TWO = parseNeuronSpec(twoJson);

function allRecords(spec: ParsedNeuronSpec): Uint8Array[] {
  const w = spec.steps * spec.circuit.ioQubits;
  return Array.from({ length: 2 ** w }, (_, v) => Uint8Array.from({ length: w }, (_, i) => (v >> i) & 1));
}

describe('record formats', () => {
  const expectRecords = (raw: unknown, width: number, want: Record<string, number>) => {
    const r = parseRecords(raw, width);
    const got: Record<string, number> = {};
    r.records.forEach((b, i) => (got[Array.from(b).join('')] = r.weights[i]));
    expect(got).toEqual(want);
    expect(r.shots).toBe(Object.values(want).reduce((a, b) => a + b, 0));
  };

  test('Qiskit counts (c[0] rightmost), lsb-first, hex keys, shot lists: one layout', () => {
    // c = [c0, c1, c2] written by index: "100" means c[0] = 1.
    const want = { '100': 3, '011': 2 };
    expectRecords({ counts: { '001': 3, '110': 2 } }, 3, want);
    expectRecords({ counts: { '001': 3, '110': 2 }, bitOrder: 'qiskit' }, 3, want);
    expectRecords({ counts: { '100': 3, '011': 2 }, bitOrder: 'lsb-first' }, 3, want);
    expectRecords({ counts: { '0x1': 3, '0x6': 2 } }, 3, want);
    expectRecords({ counts: { '0x1': 1, '001': 2, '1 10': 2, '010': 0 }, shots: 5 }, 3, want);
    expectRecords(['001', '110', '001', '110', '001'], 3, want);
    expectRecords({ shots: ['001', '110', '001', '110', '001'] }, 3, want);
    expectRecords({ memory: ['001', '110', '001', '110', '001'] }, 3, want);
    expect(parseRecords(['100'], 3, { bitOrder: 'lsb-first' }).records[0]).toEqual(Uint8Array.from([1, 0, 0]));
  });

  test('formatRecord / countRecords write what parseRecords reads', () => {
    const bits = [Uint8Array.from([1, 0, 0, 1, 1]), Uint8Array.from([0, 0, 1, 0, 0]), Uint8Array.from([1, 0, 0, 1, 1])];
    expect(formatRecord(bits[0])).toBe('11001');
    expect(formatRecord(bits[0], 'lsb-first')).toBe('10011');
    for (const order of ['qiskit', 'lsb-first'] as const) {
      const r = parseRecords({ counts: countRecords(bits, order), bitOrder: order }, 5);
      expect(r.records.map((b) => Array.from(b).join(''))).toEqual(['10011', '00100']);
      expect(r.weights).toEqual([2, 1]);
    }
  });

  test('malformed records and counts are RecordsErrors with a clear message', () => {
    const bad = (raw: unknown, msg: RegExp, opts = {}) => {
      let err: unknown = null;
      try {
        parseRecords(raw, 4, { widthHint: 'T·N = 2 steps × 2 IO qubits', ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RecordsError);
      expect(err).toBeInstanceOf(SqsnnError);
      expect((err as Error).message).toMatch(msg);
    };
    bad({ counts: { '010': 4 } }, /has 3 bits but the register c has 4 \(T·N = 2 steps × 2 IO qubits\)/);
    bad(['01011'], /has 5 bits but the register c has 4/);
    bad({ counts: { '01x1': 4 } }, /not a bitstring/);
    bad({ counts: { '0x1f': 4 } }, /does not fit the 4-bit register/);
    bad({ counts: { '0101': -1 } }, /non-negative integer/);
    bad({ counts: { '0101': 2.5 } }, /non-negative integer/);
    bad({ counts: { '0101': '7' } }, /non-negative integer/);
    bad({ counts: ['0101'] }, /"counts" must be an object/);
    bad({ counts: { '0101': 0 } }, /no shots/);
    bad([], /no shots/);
    bad({ counts: { '0101': 2 }, shots: 3 }, /"shots" says 3 but the counts add up to 2/);
    bad({ counts: { '0101': 2 }, shots: ['0101'] }, /either "counts" or "shots"/);
    bad({ count: { '0101': 2 } }, /^records: count: unknown key$/);
    bad({ counts: { '0101': 2 }, bitOrder: 'msb' }, /"bitOrder" must be one of/);
    bad({ counts: { '0101': 2 }, bitOrder: 'lsb-first' }, /"bitOrder": "lsb-first" but qiskit was requested/, { bitOrder: 'qiskit' });
    bad({ shots: [1, 0] }, /shot 0 must be a bitstring/);
    bad('0101', /JSON object/);
    bad({}, /need "counts"/);
  });
});

describe('teacher-forced probabilities', () => {
  test('agree with neuron-trace on forced outcomes, per step (noiseless and noisy)', () => {
    let compared = 0;
    for (const spec of [PAPER, TWO, parseNeuronSpec({ ...paperJson, noise: { t1: 6, depolarizing: 0.05 } })]) {
      const records = allRecords(spec).filter((_, i) => i % 5 === 1);
      const probs = forcedStepProbabilities(spec, records);
      for (const r of records.slice(0, 3)) {
        const n = spec.circuit.ioQubits;
        const outcomes = spec.currents.map((_, t) => Array.from(r.subarray(t * n, (t + 1) * n)));
        const i = records.indexOf(r);
        let tr;
        try {
          tr = traceNeuron({ ...spec, outcomes });
        } catch {
          continue; // impossible record: neuron-trace refuses it
        }
        tr.outcomeProb.forEach((p, t) => expect(probs[t][i]).toBeCloseTo(p, 5));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(5);
  });

  test('record probabilities sum to 1 and their marginals are the exact spike rates (noiseless and noisy)', () => {
    const noisy = parseNeuronSpec({ ...twoJson, noise: { t1: 8, t2: 10, depolarizing: 0.02 } });
    for (const spec of [PAPER, TWO, noisy]) {
      const records = allRecords(spec);
      const probs = forcedStepProbabilities(spec, records);
      const joint = records.map((_, i) => probs.reduce((p, row) => p * row[i], 1));
      expect(joint.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const rates = exactSpikeRates(spec).spikeRate;
      const n = spec.circuit.ioQubits;
      rates.forEach((row, t) =>
        row.forEach((p, q) => expect(records.reduce((s, r, i) => s + joint[i] * r[t * n + q], 0)).toBeCloseTo(p, 4)),
      );
    }
  });

  test('sampled records follow the exact marginals (4.5σ), noiseless and noisy', () => {
    // Density-mode sampling is much slower: fewer shots there.
    for (const [spec, shots] of [[TWO, 3000], [parseNeuronSpec({ ...twoJson, noise: { t1: 5 } }), 500]] as const) {
      const { bits } = sampleRecords(spec, shots, 11);
      const rep = likelihoodReport([spec], parseRecords({ counts: countRecords(bits) }, 6));
      expect(rep.maxAbsZ).toBeLessThan(4.5);
      expect(rep.shots).toBe(shots);
    }
  });
});

describe('likelihood of records', () => {
  test('records sampled from the model score higher under it than records of a neuron with other parameters', () => {
    const noisy = (x: object) => parseNeuronSpec({ ...paperJson, ...x, noise: { t1: 20, t2: 15 } });
    for (const [a, b, shots] of [
      [PAPER, OTHER, 2000],
      [noisy({}), noisy({ params: { ent: 0.4, in: 2.6, mem: 0.3 } }), 500],
      [TWO, parseNeuronSpec({ ...twoJson, params: { a: -0.7, b: 0.4, c: 2.9, d: -1.5, e: 2.2 } }), 2000],
    ] as const) {
      const w = a.steps * a.circuit.ioQubits;
      const own = parseRecords({ counts: countRecords(sampleRecords(a, shots, 1).bits) }, w);
      const other = parseRecords({ counts: countRecords(sampleRecords(b, shots, 2).bits) }, w);
      const rOwn = likelihoodReport([a], own, { referenceSamples: shots, seed: 3 });
      const rOther = likelihoodReport([a], other);
      const llOwn = rOwn.averageLogLikelihoodClamped;
      const llOther = rOther.averageLogLikelihoodClamped;
      expect(llOwn).toBeGreaterThan(llOther + 0.1);
      // The model's own records score like its reference samples (both estimate −entropy).
      expect(Math.abs(llOwn - rOwn.reference!.averageLogLikelihood)).toBeLessThan(5 * Math.SQRT2 * rOwn.reference!.standardError + 0.01);
      expect(rOwn.impossibleShots).toBe(0);
      expect(rOwn.averageLogLikelihood).toBeCloseTo(llOwn, 10);
      expect(rOwn.averageLogLikelihoodPerStep.reduce((acc: number, v) => acc + (v as number), 0)).toBeCloseTo(llOwn, 8);
    }
  });

  test('records the model cannot produce make the score −∞ (null, flagged, counted) and the z-score infinite', () => {
    // All angles 0 and no input: the IO qubit never spikes.
    const silent = parseNeuronSpec({ ...paperJson, params: { ent: 0, in: 0, mem: 0 }, currents: [[0], [0], [0]] });
    const rep = likelihoodReport([silent], parseRecords({ counts: { '000': 6, '010': 2 } }, 3));
    expect(rep.impossibleShots).toBe(2);
    expect(rep.impossible).toBe(true);
    // A quarter of the shots cannot happen: the fit is not perfect, whatever the possible shots score.
    expect(rep.averageLogLikelihood).toBeNull();
    expect(rep.averageLogLikelihoodOverPossibleShots).toBeCloseTo(0, 5);
    expect(JSON.parse(JSON.stringify(rep)).averageLogLikelihoodPerStep).toEqual([0, null, null].map((v, t) => (t === 0 ? expect.any(Number) : v)));
    // Observed rate 0.25 where the model predicts 0 with zero variance: an infinite z-score.
    expect(rep.maxAbsZ).toBeNull();
    expect(rep.zeroVarianceMismatches).toBe(1);
    // Steps 1 and 2 of the two impossible shots count at the floor (no state after an impossible step).
    expect(rep.averageLogLikelihoodClamped).toBeCloseTo((4 * Math.log(PROBABILITY_FLOOR)) / 8, 3);
    expect(rep.predictedSpikeRate).toEqual([[0], [0], [0]]);
    expect(rep.observedSpikeRate).toEqual([[0], [0.25], [0]]);
    const none = likelihoodReport([silent], parseRecords(['111'], 3));
    expect(none.averageLogLikelihood).toBeNull();
    expect(JSON.parse(JSON.stringify(none)).averageLogLikelihoodPerStep).toEqual([null, null, null]);
  });

  test('a layer: one bit block per neuron, log-likelihoods add up', () => {
    const aBits = sampleRecords(PAPER, 300, 7).bits;
    const bBits = sampleRecords(OTHER, 300, 8).bits;
    const joined = aBits.map((a, i) => Uint8Array.from([...a, ...bBits[i]]));
    const rep = likelihoodReport([PAPER, OTHER], parseRecords({ counts: countRecords(joined) }, 12));
    const ra = likelihoodReport([PAPER], parseRecords({ counts: countRecords(aBits) }, 6));
    const rb = likelihoodReport([OTHER], parseRecords({ counts: countRecords(bBits) }, 6));
    expect(rep.averageLogLikelihood as number).toBeCloseTo((ra.averageLogLikelihood as number) + (rb.averageLogLikelihood as number), 4);
    expect(rep.neurons!.map((x) => x.observedSpikeRate)).toEqual([ra.observedSpikeRate, rb.observedSpikeRate]);
    expect(() => likelihoodReport([PAPER, OTHER], parseRecords(['01'], 2))).toThrow(RecordsError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('sqsnn likelihood', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-lik-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, x: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(x));
    return f;
  };

  test('JSON report on stdout', async () => {
    const { run } = await import('../src/commands/likelihood');
    const counts = countRecords(sampleRecords(PAPER, 500, 4).bits);
    const { out } = await capture(() => run(['--spec', write('s.json', paperJson), '--shots', write('c.json', { counts }), '--reference-samples', '200']));
    const rep = JSON.parse(out);
    expect(rep.shots).toBe(500);
    expect(rep.steps).toBe(6);
    expect(rep.ioQubits).toBe(1);
    expect(rep.bitOrder).toBe('qiskit');
    expect(rep.predictedSpikeRate).toHaveLength(6);
    expect(rep.observedSpikeRate).toHaveLength(6);
    expect(rep.reference.samples).toBe(200);
    expect(rep.averageLogLikelihood).toBeLessThan(0);
    expect(rep.impossibleShots).toBe(0);
  });

  test('bad input: clear user errors', async () => {
    const { run } = await import('../src/commands/likelihood');
    const { isUserError } = await import('../src/cli');
    const spec = write('s.json', paperJson);
    const expectUserError = async (argv: string[], msg: RegExp) => {
      const e = await capture(() => run(argv)).then(() => null, (x) => x);
      expect(e).toBeInstanceOf(Error);
      expect(isUserError(e)).toBe(true); // UsageError is an SqsnnError too
      expect(e.message).toMatch(msg);
    };
    await expectUserError(['--spec', spec, '--shots', write('w.json', { counts: { '0101': 3 } })], /has 4 bits but the register c has 6 \(T·N = 6 steps × 1 IO qubit/);
    await expectUserError(['--spec', spec, '--shots', write('m.json', { counts: { '010101': 'x' } })], /non-negative integer/);
    await expectUserError(['--spec', spec, '--shots', write('o.json', { counts: { '010101': 1 }, bitOrder: 'lsb-first' }), '--bit-order', 'qiskit'], /bitOrder/);
    await expectUserError(['--spec', spec, '--shots', 'x.json', '--bit-order', 'msb'], /--bit-order must be qiskit or lsb-first/);
    await expectUserError(['--spec', '-', '--shots', '-'], /both be read from stdin/);
    await expectUserError(['--spec', spec], /--shots FILE/);
    await expectUserError(['--spec', write('t.json', { ...paperJson, outcomes: paperJson.currents.map(() => [0]) }), '--shots', write('g.json', ['000000'])], /outcomes is not used here/);
    await expectUserError(['--spec', spec, '--shots', path.join(dir, 'missing.json')], /no such file/);
  });
});
