/**
 * The four registries (neuron kinds, learning rules, datasets, gates): every entry is built and
 * checked against what the rest of the engine computes from it, and a toy neuron, rule and dataset
 * defined here — one object each, added to the list passed in — run end to end through the
 * registry API, as a new file plus one registry line would.
 */
import * as path from 'path';
import { z } from 'zod';
import { Tensor, tf } from '../kernels/tf';
import { GATES, GATE_LIST, GateEntry } from '../kernels/gates';
import { countParameters, layerShape } from '../src/budget';
import { DATASETS, DataError, Dataset, DatasetKind, datasetKind, loadDataset } from '../src/data';
import { executionsPerInference } from '../src/executions';
import { LEARNING_RULES, RuleKind, createRule, ruleNames } from '../src/learn/registry';
import { Network } from '../src/network';
import { ForcedResult, NeuronKind, NeuronLayer, StepContext, StepResult, countParams } from '../src/neurons/layer';
import { heavisideSurrogate } from '../src/neurons/lif';
import { ConfigError, NEURON_KINDS, createLayer, neuronKind, neuronKinds } from '../src/neurons/registry';
import { Rng } from '../src/random';
import { layerSchema } from '../src/schemas';
import { makeTmpDir, removeDir, tinySet, writeIdxFolder } from './data-helpers';

/** A small config of every registered kind, with the options that change its parameter count. */
const CONFIGS: Record<string, Record<string, unknown>[]> = {
  sqs: [{ size: 3 }, { size: 2, ioQubits: 2, memoryQubits: 1, ansatz: { type: 'hardware-efficient', layers: 1 } }],
  'sqs-compat': [{ size: 2 }],
  qlif: [{ size: 3 }, { size: 2, shots: 8 }],
  lif: [{ size: 3 }, { size: 2, learnBeta: true }],
  prob: [{ size: 3 }, { size: 2, learnBeta: true }],
};

describe('neuron kinds', () => {
  test('the registry lists each kind once, and every kind has test configs here', () => {
    expect(new Set(neuronKinds()).size).toBe(NEURON_KINDS.length);
    expect(neuronKinds().sort()).toEqual(Object.keys(CONFIGS).sort());
    expect(() => neuronKind('banana')).toThrow(ConfigError);
    expect(() => neuronKind('banana')).toThrow(/unknown neuron kind 'banana'; known: sqs, sqs-compat/);
  });

  for (const entry of NEURON_KINDS) {
    test(`${entry.kind}: a built layer has the channels and parameters its entry declares, and so does a network of it`, () => {
      for (const options of CONFIGS[entry.kind]) {
        const cfg = { neuron: entry.kind, ...options } as { neuron: string; size: number };
        expect(layerSchema.safeParse(cfg).success).toBe(true);
        const shape = layerShape(cfg);
        const layer = createLayer(cfg, 3);
        expect(layer.size).toBe(cfg.size);
        expect(layer.channels).toBe(shape.channels);
        expect(countParams(layer.variables)).toBe(shape.intrinsic);
        expect(Boolean(layer.toSpec)).toBe(entry.circuitAngles);
        // The circuit the entry declares (memory estimates) is the one the layer runs.
        if (entry.circuit) expect(entry.circuit(cfg).ops).toEqual((layer as NeuronLayer & { circuit: { ops: unknown } }).circuit.ops);
        expect(Boolean(entry.circuit)).toBe(entry.circuitAngles);
        layer.dispose();
        // Two layers of the kind and a skip connection from the input: every edge is counted.
        const net = { inputs: 5, layers: [cfg, { ...cfg, size: 2 }, { ...cfg, size: 2 }], skip: [[-1, 1]] as [number, number][] };
        const built = new Network(net, 1);
        expect(countParameters(net)).toBe(built.parameterCount());
        built.dispose();
        const exec = executionsPerInference(net, 4);
        expect(exec.executions).toBeGreaterThanOrEqual(0);
        expect(exec.executions === 0).toBe(!entry.circuitAngles && entry.kind !== 'qlif');
      }
    });
  }

  test("every kind's config schema refuses unknown options when a config file is read", () => {
    for (const entry of NEURON_KINDS) {
      expect(entry.configSchema).toBeDefined();
      expect(layerSchema.safeParse({ neuron: entry.kind, size: 2 }).success).toBe(true);
      expect(layerSchema.safeParse({ neuron: entry.kind, size: 2, memoryQubitz: 1 }).success).toBe(false);
    }
    expect(layerSchema.safeParse({ neuron: 'lif', size: 2, learnBeta: 'yes' }).success).toBe(false);
    // The exported JSON Schema (sqsnn schema train-config) offers each kind's options to editors.
    const json = z.toJSONSchema(layerSchema, { unrepresentable: 'any' }) as { anyOf: { properties: { neuron: { const: string } }; additionalProperties: boolean }[] };
    expect(json.anyOf.map((s) => s.properties.neuron.const)).toEqual(neuronKinds());
    for (const s of json.anyOf) expect(s.additionalProperties).toBe(false);
    expect(layerSchema.safeParse({ neuron: 'sqs-compat', size: 2, memory: 'classical' }).success).toBe(false);
  });

  test('SqsLayer.toSpec gives one trained neuron as a spec; memory that a circuit does not carry is refused', () => {
    const layer = createLayer({ neuron: 'sqs', size: 3 }, 5) as NeuronLayer & { theta: tf.Variable };
    const theta = layer.theta.arraySync() as number[][];
    const spec = layer.toSpec!(2);
    expect(spec).toEqual({ ioQubits: 1, memoryQubits: 1, ansatz: 'paper', params: expect.any(Object) });
    expect(Object.values(spec.params)).toEqual(theta[2].map((v) => Math.fround(v)));
    expect(() => layer.toSpec!(3)).toThrow(/no neuron 3/);
    layer.dispose();
    const compat = createLayer({ neuron: 'sqs-compat', size: 1 }, 5);
    expect(() => compat.toSpec!(0)).toThrow(/memory 'measured'/);
    compat.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// A toy neuron, rule and dataset, each one object, used through the registry API.

/** A threshold neuron with a trainable gain per neuron: spike when gain·z > 1/2 (surrogate gradient). */
class GainLayer implements NeuronLayer<Record<string, never>, Tensor> {
  readonly kind = 'gain';
  readonly channels = 1;
  readonly variables: Record<string, tf.Variable>;
  constructor(readonly size: number, seed: number) {
    const init = tf.fill([size, 1, 1], 1 + (seed % 7) / 10);
    this.variables = { gain: tf.variable(init, true) };
    init.dispose();
  }
  prepare(): Tensor {
    return this.variables.gain;
  }
  initialState(): Record<string, never> {
    return {};
  }
  step(gain: Tensor, state: Record<string, never>, currents: Tensor, _ctx: StepContext): StepResult<Record<string, never>> {
    const spikes = heavisideSurrogate(tf.sub(tf.mul(currents, gain), 0.5), 'fast-sigmoid', 5);
    return { state, spikes, spikeProb: spikes };
  }
  stepForced(gain: Tensor, state: Record<string, never>, currents: Tensor, spikes: Tensor): ForcedResult<Record<string, never>> {
    return { ...this.step(gain, state, currents, { rng: new Rng(0), train: false, surrogate: 'straight-through' }), spikes, logProb: tf.zeros([this.size, currents.shape[2] as number]) };
  }
  stateTensors(): Tensor[] {
    return [];
  }
  describe(): Record<string, unknown> {
    return { neuron: 'gain', size: this.size };
  }
  dispose(): void {
    this.variables.gain.dispose();
  }
}

const gainNeuron: NeuronKind = {
  kind: 'gain',
  summary: 'toy threshold neuron with a trainable gain',
  circuitAngles: false,
  create: (cfg, seed) => new GainLayer(cfg.size, seed),
  shape: (cfg) => ({ channels: 1, intrinsic: cfg.size }),
  executions: () => ({ executions: 0, estimated: false }),
};

/** Two classes of 2×2 images: bright top row (class 0) or bright bottom row (class 1). */
const rowsDataset: DatasetKind = {
  name: 'rows',
  summary: 'toy: which row of a 2×2 image is lit',
  shape: { height: 2, width: 2, classes: 2 },
  matches: (id) => id === 'rows',
  load: (id, opts): Dataset => {
    const make = (n: number) => {
      const images = new Float32Array(n * 4);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = i % 2;
        images.set(i % 2 ? [0, 0, 1, 1] : [1, 1, 0, 0], i * 4);
      }
      return { images, labels };
    };
    const train = make(opts.limitTrain ?? 8);
    const test = make(opts.limitTest ?? 4);
    return {
      name: id, height: 2, width: 2, classes: 2, source: 'test/registries.test.ts',
      trainImages: train.images, trainLabels: train.labels, nTrain: train.labels.length,
      testImages: test.images, testLabels: test.labels, nTest: test.labels.length,
    };
  },
};

/** A rule that counts its batches around bptt. */
const countingRule: RuleKind = {
  name: 'counting',
  summary: 'toy: counts batches',
  create: (net, cfg) => {
    const inner = createRule('bptt', net, cfg);
    let batches = 0;
    return {
      name: 'counting',
      optimizer: inner.optimizer,
      trainBatch: (x, y, rng) => {
        batches++;
        return inner.trainBatch(x, y, rng);
      },
      saveState: () => ({ batches }),
      loadState: (s) => void (batches = Number(s.batches)),
      dispose: () => inner.dispose(),
    };
  },
};

describe('a new entry is one object added to the list', () => {
  const kinds = [...NEURON_KINDS, gainNeuron];
  const datasets = [...DATASETS, rowsDataset];
  const rules = [...LEARNING_RULES, countingRule];

  test('toy neuron + toy dataset train by bptt; the toy rule runs; the default registries do not know them', () => {
    expect(() => createLayer({ neuron: 'gain', size: 1 }, 0)).toThrow(/unknown neuron kind 'gain'/);
    expect(() => loadDataset('rows')).toThrow(DataError);
    expect(ruleNames()).not.toContain('counting');

    const ds = loadDataset('rows', { limitTrain: 6 }, datasets);
    expect([ds.nTrain, ds.nTest, ds.classes]).toEqual([6, 4, rowsDataset.shape!.classes]);
    expect(() => loadDataset('rows', { limitTrain: 0 }, datasets)).toThrow(/limitTrain must be a positive integer/);

    const cfg = { inputs: 4, layers: [{ neuron: 'gain', size: 3 }, { neuron: 'lif', size: 2 }] };
    const net = new Network(cfg, 2, kinds);
    expect(countParameters(cfg, kinds)).toBe(net.parameterCount());
    expect(countParameters(cfg, kinds)).toBe(4 * 3 + 3 * 2 + 3 + 2 + 3);
    const steps = 3;
    const x = tf.tidy(() => tf.tile(tf.reshape(tf.tensor2d(ds.trainImages, [ds.nTrain, 4]).transpose(), [1, 4, ds.nTrain]), [steps, 1, 1]));
    const y = tf.tensor1d(ds.trainLabels, 'int32');
    const gain0 = net.layers[0].variables.gain.dataSync().slice();
    const rule = createRule('bptt', net, { optimizer: { kind: 'sgd', lr: 0.5 }, bptt: { surrogate: 'straight-through' } });
    const r = rule.trainBatch(x, y, new Rng(1));
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.size).toBe(6);
    const gain1 = net.layers[0].variables.gain.dataSync();
    expect(Array.from(gain1).some((g, i) => g !== gain0[i])).toBe(true);
    rule.dispose();

    const counting = createRule('counting', net, { optimizer: { kind: 'sgd', lr: 1 }, bptt: { surrogate: 'straight-through' } }, rules);
    counting.trainBatch(x, y, new Rng(2));
    counting.trainBatch(x, y, new Rng(3));
    expect(counting.saveState()).toEqual({ batches: 2 });
    counting.dispose();
    tf.dispose([x, y]);
    net.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

describe('learning rules', () => {
  for (const entry of LEARNING_RULES) {
    test(`${entry.name}: trains one batch of a small SQS network`, () => {
      const net = new Network({ inputs: 4, layers: [{ neuron: 'sqs', size: 3 }, { neuron: 'sqs', size: 2 }] }, 1);
      const rule = createRule(entry.name, net, { optimizer: { kind: 'adam', lr: 0.01 }, bptt: { surrogate: 'straight-through' } });
      expect(rule.name).toBe(entry.name);
      const before = net.layers[0].variables.theta.dataSync().slice();
      const x = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([3, 4, 4], 0, 1, 'float32', 2), 0.6), 'float32'));
      const y = tf.tensor1d([0, 1, 1, 0], 'int32');
      const r = rule.trainBatch(x, y, new Rng(1));
      expect(Number.isFinite(r.loss)).toBe(true);
      const after = net.layers[0].variables.theta.dataSync();
      expect(Array.from(after).some((v, i) => v !== before[i])).toBe(true);
      tf.dispose([x, y]);
      rule.dispose();
      net.dispose();
    });
  }
  test('an unknown rule is a ConfigError naming the known ones', () => {
    const net = new Network({ inputs: 2, layers: [{ neuron: 'lif', size: 2 }] }, 1);
    expect(() => createRule('nope', net, { optimizer: { kind: 'sgd', lr: 1 }, bptt: { surrogate: 'straight-through' } })).toThrow(ConfigError);
    net.dispose();
  });
});

describe('datasets', () => {
  test('every entry matches its own name and only it, and unknown ids are refused naming the valid ones', () => {
    for (const d of DATASETS) {
      const id = d.name === 'idx:DIR' ? 'idx:/some/folder' : d.name;
      expect(datasetKind(id)).toBe(d);
    }
    expect(() => datasetKind('cifar')).toThrow(/unknown dataset 'cifar': valid names are mnist, fashion-mnist, mnist-1v7-16, idx:DIR/);
  });

  test('the bundled and IDX-folder datasets load in the shape their entries declare', () => {
    for (const name of ['mnist', 'mnist-1v7-16']) {
      const ds = loadDataset(name, { limitTrain: 4, limitTest: 2 });
      const shape = datasetKind(name).shape!;
      expect([ds.height, ds.width, ds.classes, ds.nTrain, ds.nTest]).toEqual([shape.height, shape.width, shape.classes, 4, 2]);
      expect(ds.trainImages.length).toBe(4 * shape.height * shape.width);
    }
    const dir = makeTmpDir('registry-idx');
    try {
      writeIdxFolder(dir, tinySet(6, 3, 2, 3), tinySet(3, 3, 2, 3, 1));
      const ds = loadDataset(`idx:${dir}`);
      expect([ds.height, ds.width, ds.classes, ds.nTrain, ds.nTest, ds.source]).toEqual([3, 2, 3, 6, 3, dir]);
      const fashion = loadDataset('fashion-mnist', { dir, limitTrain: 2 });
      expect(fashion.classNames).toHaveLength(10);
      expect(path.resolve(fashion.source)).toBe(path.resolve(dir));
    } finally {
      removeDir(dir);
    }
  });
});

describe('gates', () => {
  const matrixOf = (g: GateEntry, angle: number): number[][] => {
    const t = tf.scalar(angle);
    const m = g.matrix(t).map((e) => [e.re, e.im].map((p) => (typeof p === 'number' ? p : p.dataSync()[0])));
    t.dispose();
    return m;
  };

  test('the registry lists each gate once under its own name', () => {
    expect(Object.keys(GATES)).toEqual(GATE_LIST.map((g) => g.name));
    for (const g of GATE_LIST) expect(GATES[g.name]).toBe(g);
  });

  for (const g of GATE_LIST) {
    test(`${g.name}: unitary, float32 and float64 matrices agree, the shift rule is exact, OpenQASM names it`, () => {
      expect(g.controlled).toBe(g.arity === 2);
      expect(g.qasm.name).toMatch(/^[a-z][a-z0-9]*$/);
      for (const angle of g.parametric ? [0.3, -1.9, 4] : [0]) {
        const m64 = g.matrix64(angle);
        const m32 = matrixOf(g, angle);
        m64.forEach(([re, im], i) => {
          expect(m32[i][0]).toBeCloseTo(re, 6);
          expect(m32[i][1]).toBeCloseTo(im, 6);
        });
        // U†U = 1 for the 2×2 matrix [[a, b], [c, d]].
        const [a, b, c, d] = m64;
        const n2 = (x: number[]) => x[0] ** 2 + x[1] ** 2;
        expect(n2(a) + n2(c)).toBeCloseTo(1, 12);
        expect(n2(b) + n2(d)).toBeCloseTo(1, 12);
        expect(a[0] * b[0] + a[1] * b[1] + c[0] * d[0] + c[1] * d[1]).toBeCloseTo(0, 12);
        expect(a[0] * b[1] - a[1] * b[0] + c[0] * d[1] - c[1] * d[0]).toBeCloseTo(0, 12);
      }
      if (!g.parametric) return;
      // f(θ) = P(target = 1) of the gate on (control in |+⟩ for controlled gates) ⊗ a fixed target state:
      // the shift rule must give f'(θ) (compared with a central difference).
      const psi: [number, number][] = [[0.6, 0.1], [0.3, Math.sqrt(1 - 0.36 - 0.01 - 0.09)]];
      const f = (theta: number): number => {
        const [a, b, c, d] = g.matrix64(theta);
        const mul = (x: [number, number], y: [number, number]): [number, number] => [x[0] * y[0] - x[1] * y[1], x[0] * y[1] + x[1] * y[0]];
        const one = [mul(c, psi[0]), mul(d, psi[1])].reduce((s, v) => [s[0] + v[0], s[1] + v[1]], [0, 0]);
        const p1 = one[0] ** 2 + one[1] ** 2;
        return g.controlled ? 0.5 * (psi[1][0] ** 2 + psi[1][1] ** 2) + 0.5 * p1 : p1;
      };
      const rule = g.shiftRule!;
      for (const theta of [0.4, 2.2]) {
        const byShift = rule.shifts.reduce((s, sh, j) => s + rule.coeffs[j] * f(theta + sh), 0);
        const byDifference = (f(theta + 1e-5) - f(theta - 1e-5)) / 2e-5;
        expect(byShift).toBeCloseTo(byDifference, 7);
      }
    });
  }
});
