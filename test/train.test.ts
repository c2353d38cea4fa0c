/**
 * Networks and training runs (src/network.ts, src/train.ts): shapes and parameter counts,
 * impossible configs, learning a tiny separable task, determinism, exact resume, metrics files,
 * and the rule that a failed or refused run never overwrites an existing checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';
import { setupBackend, tf } from './helpers';
import { CHECKPOINT_FILE, CheckpointError, loadCheckpoint } from '../src/checkpoint';
import type { Dataset } from '../src/data';
import { Network, predict, readoutScores, validateNetworkConfig } from '../src/network';
import { ConfigError } from '../src/neurons/registry';
import { Rng } from '../src/random';
import { BatchProgress, EpochMetrics, TrainConfig, evaluate, layeredNetwork, networkFromCheckpoint, trainRun } from '../src/train';
import { bandDataset, checkpointListing, copyVars, makeTmp, maxDiffNamed, removeTmp, snapshot, tinyConfig, weightsFileOf } from './fixtures-train';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const fsMod: typeof fs = require('fs');
const realRename = fsMod.renameSync;

let root: string;
let n = 0;
beforeAll(async () => {
  await setupBackend();
  root = makeTmp('train');
});
afterAll(() => removeTmp(root));
afterEach(() => jest.restoreAllMocks());

function outDir(): string {
  return path.join(root, `run${n++}`);
}

const DS = bandDataset({ nTrain: 32, nTest: 16 });

/** Metrics without the wall-clock fields. */
function stable(m: EpochMetrics[]): Omit<EpochMetrics, 'seconds' | 'samplesPerSecond'>[] {
  return m.map(({ seconds, samplesPerSecond, ...rest }) => {
    void seconds;
    void samplesPerSecond;
    return rest;
  });
}

function metricsFile(dir: string): EpochMetrics[] {
  return fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Weights and optimizer state as stored in a run's checkpoint. */
function checkpointTensors(dir: string): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(loadCheckpoint(dir).tensors).map(([k, v]) => [k, v.data]));
}

async function expectRejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, ...parts: (string | RegExp)[]): Promise<Error> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  for (const part of parts) expect((err as Error).message).toMatch(typeof part === 'string' ? new RegExp(part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : part);
  return err as Error;
}

// ---------------------------------------------------------------------------------------------

describe('Network', () => {
  test('layeredNetwork: inputs → hidden… → classes; parameterCount counts weights, biases and θ', () => {
    const cfg = layeredNetwork(16, [4, 3], 2);
    expect(cfg.inputs).toBe(16);
    expect(cfg.layers.map((l) => [l.neuron, l.size])).toEqual([['sqs', 4], ['sqs', 3], ['sqs', 2]]);
    const net = new Network(cfg, 0);
    const k = (net.layers[0].variables.theta.shape as number[])[1];
    expect(k).toBe(3); // the paper circuit: CRX, RX(in), RX(mem)
    expect(Object.keys(net.namedVariables()).sort()).toEqual(
      ['layer.0.bias', 'layer.0.theta', 'layer.1.bias', 'layer.1.theta', 'layer.2.bias', 'layer.2.theta', 'synapse.-1.0.weight', 'synapse.0.1.weight', 'synapse.1.2.weight'].sort(),
    );
    expect(net.parameterCount()).toBe(16 * 4 + 4 * 3 + 3 * 2 + (4 + 3 + 2) + (4 + 3 + 2) * k);
    expect(net.classes).toBe(2);
    net.dispose();
    const noBias = new Network({ ...cfg, bias: false, skip: [[-1, 2]] }, 0);
    expect(noBias.parameterCount()).toBe(16 * 4 + 4 * 3 + 3 * 2 + 16 * 2 + (4 + 3 + 2) * k);
    noBias.dispose();
  });

  test('the same seed gives the same initial parameters; another seed does not', () => {
    const cfg = layeredNetwork(6, [3], 2);
    const [a, b, c] = [new Network(cfg, 5), new Network(cfg, 5), new Network(cfg, 6)];
    expect(maxDiffNamed(copyVars(a.namedVariables()), copyVars(b.namedVariables()))).toBe(0);
    expect(maxDiffNamed(copyVars(a.namedVariables()), copyVars(c.namedVariables()))).toBeGreaterThan(0);
    [a, b, c].forEach((x) => x.dispose());
  });

  test('forward: integer counts in [0, T] and summed probabilities in [0, T], shape [classes, batch]; a skip connection feeds the output', () => {
    const net = new Network({ inputs: 6, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 3 }, { neuron: 'sqs', size: 2 }], skip: [[-1, 2]] }, 2);
    tf.tidy(() => {
      const x = tf.cast(tf.less(tf.randomUniform([4, 6, 5], 0, 1, 'float32', 1), 0.5), 'float32');
      const r = net.forward(x, { ctx: { rng: new Rng(1), train: false, surrogate: 'straight-through' }, record: true });
      expect(r.counts.shape).toEqual([2, 5]);
      expect(r.probSum.shape).toEqual([2, 5]);
      for (const c of r.counts.dataSync()) expect(Number.isInteger(c) && c >= 0 && c <= 4).toBe(true);
      for (const p of r.probSum.dataSync()) expect(p >= -1e-6 && p <= 4 + 1e-5).toBe(true);
      expect(r.spikes?.map((l) => l.length)).toEqual([4, 4, 4]);
      expect(r.spikes?.[1][0].shape).toEqual([3, 1, 5]);
    });
    expect(Object.keys(net.namedVariables())).toContain('synapse.-1.2.weight');
    net.dispose();
  });

  test('forward refuses inputs of the wrong width', () => {
    const net = new Network(layeredNetwork(6, [], 2), 0);
    tf.tidy(() => {
      expect(() => net.forward(tf.zeros([2, 7, 1]), { ctx: { rng: new Rng(0), train: false, surrogate: 'straight-through' } })).toThrow(ConfigError);
      expect(() => net.forward(tf.zeros([2, 7, 1]), { ctx: { rng: new Rng(0), train: false, surrogate: 'straight-through' } })).toThrow(/expects 6 input features, got 7/);
    });
    net.dispose();
  });

  test('predict: the most spikes wins; ties are broken by summed spike probability', () => {
    tf.tidy(() => {
      const counts = tf.tensor2d([[3, 1, 2], [1, 1, 2], [0, 1, 0]]); // [C=3, B=3]
      const probs = tf.tensor2d([[0.1, 0.2, 0.9], [2.9, 0.5, 1.1], [0.0, 0.4, 0.0]]);
      expect(Array.from(predict(counts, probs, 3).dataSync())).toEqual([0, 1, 1]);
      expect(predict(counts, probs, 3).dtype).toBe('int32');
      expect(readoutScores(counts, probs, 3).shape).toEqual([3, 3]);
    });
  });

  test.each([
    ['no layers', { inputs: 4, layers: [] }, /at least one layer/],
    ['zero inputs', { inputs: 0, layers: [{ neuron: 'sqs', size: 2 }] }, /inputs must be an integer ≥ 1, got 0/],
    ['a layer of size 0', { inputs: 4, layers: [{ neuron: 'sqs', size: 0 }, { neuron: 'sqs', size: 2 }] }, /layer 0: size must be an integer ≥ 1, got 0/],
    ['a fractional layer size', { inputs: 4, layers: [{ neuron: 'sqs', size: 2.5 }] }, /layer 0: size must be an integer/],
    ['a negative layer size', { inputs: 4, layers: [{ neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: -3 }] }, /layer 1: size/],
    ['a skip between adjacent layers', { inputs: 4, layers: [{ neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: 2 }], skip: [[0, 1]] }, /skip connection \[0,1\]/],
    ['a skip to a layer that does not exist', { inputs: 4, layers: [{ neuron: 'sqs', size: 2 }], skip: [[-1, 3]] }, /skip connection/],
    ['an unknown neuron kind', { inputs: 4, layers: [{ neuron: 'banana', size: 2 }] }, /unknown neuron kind 'banana'/],
  ])('impossible config (%s) is a ConfigError naming the problem', (_label, cfg, msg) => {
    let err: unknown;
    try {
      new Network(cfg as never, 0).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).constructor.name).toBe('ConfigError');
    expect((err as Error).message).toMatch(msg);
    if (!/neuron kind/.test(String(msg))) expect(() => validateNetworkConfig(cfg as never)).toThrow(msg);
  });
});

describe('trainRun: learning', () => {
  test('a single SQS layer learns the separable band task far above chance (2 classes)', async () => {
    const ds = bandDataset({ nTrain: 64, nTest: 64 });
    const dir = outDir();
    const r = await trainRun(tinyConfig({ hidden: [], epochs: 4 }), { checkpointDir: dir, data: ds });
    const last = r.metrics[r.metrics.length - 1];
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(last.trainLoss).toBeLessThan(r.metrics[0].trainLoss);
    r.network.dispose();
  });

  test('a hidden layer of 8 SQS neurons learns it too (T = 4)', async () => {
    // At this fixed seed the run reaches 0.89 (both wasm and cpu); two-layer runs on so tiny a task
    // are seed-sensitive (some seeds stay near chance for 4 epochs), so the seed is part of the test.
    const ds = bandDataset({ nTrain: 64, nTest: 64 });
    const r = await trainRun(tinyConfig({ hidden: [8], epochs: 4, steps: 4 }), { checkpointDir: outDir(), data: ds });
    expect(r.metrics[r.metrics.length - 1].testAccuracy).toBeGreaterThanOrEqual(0.75);
    r.network.dispose();
  });

  test('four classes: well above the 25 % chance level', async () => {
    const ds = bandDataset({ nTrain: 64, nTest: 64, classes: 4 });
    const ruleConfig = { optimizer: { kind: 'adam' as const, lr: 0.1 }, bptt: { surrogate: 'straight-through' as const } };
    const r = await trainRun(tinyConfig({ hidden: [], classes: 4, epochs: 4, steps: 4, ruleConfig }), { checkpointDir: outDir(), data: ds });
    expect(r.metrics[r.metrics.length - 1].testAccuracy).toBeGreaterThanOrEqual(0.6);
    r.network.dispose();
  });
});

describe('trainRun: outputs, determinism, resume', () => {
  test('writes one metrics.jsonl line and one checkpoint per epoch; metrics are sane; evaluate and networkFromCheckpoint agree', async () => {
    const dir = outDir();
    const cfg = tinyConfig({ epochs: 2 });
    const seen: number[] = [];
    const r = await trainRun(cfg, { checkpointDir: dir, data: DS, onEpoch: (m) => seen.push(m.epoch) });
    expect(seen).toEqual([1, 2]);
    expect(r.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(metricsFile(dir)).toEqual(JSON.parse(JSON.stringify(r.metrics)));
    for (const m of r.metrics) {
      expect(Number.isFinite(m.trainLoss) && m.trainLoss > 0).toBe(true);
      for (const a of [m.trainAccuracy, m.testAccuracy]) expect(a >= 0 && a <= 1).toBe(true);
      expect(m.testAccuracy * DS.nTest).toBeCloseTo(Math.round(m.testAccuracy * DS.nTest), 6);
      expect(m.parameters).toBe(r.network.parameterCount());
      expect(m.seconds).toBeGreaterThanOrEqual(0);
    }
    const ck = loadCheckpoint(dir);
    const state = ck.meta.state as { epoch: number; config: TrainConfig; rule: { step: number } };
    expect(state.epoch).toBe(2);
    expect(state.config).toEqual(cfg);
    expect(state.rule.step).toBe(2 * Math.ceil(DS.nTrain / cfg.batch));
    expect(checkpointListing(dir)).toEqual([CHECKPOINT_FILE, 'metrics.jsonl', 'weights-*.bin']);
    // The checkpoint holds the final network and the Adam state.
    const names = Object.keys(ck.tensors);
    for (const k of Object.keys(r.network.namedVariables())) expect(names).toContain(k);
    expect(names.filter((k) => k.startsWith('adam.m.'))).toHaveLength(Object.keys(r.network.namedVariables()).length);
    expect(maxDiffNamed(copyVars(r.network.namedVariables()), Object.fromEntries(Object.keys(r.network.namedVariables()).map((k) => [k, ck.tensors[k].data])))).toBe(0);
    // The last epoch's test accuracy is what evaluate gives on the checkpoint.
    const back = networkFromCheckpoint(dir);
    const ev = evaluate(back.net, DS, 'test', back.config);
    expect(ev.accuracy).toBe(r.metrics[1].testAccuracy);
    expect(ev.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([8, 8]);
    back.net.dispose();
    r.network.dispose();
  });

  test('the same seed gives the same run, bitwise; another seed a different one', async () => {
    const cfg = tinyConfig({ epochs: 2 });
    const a = await trainRun(cfg, { checkpointDir: outDir(), data: DS });
    const b = await trainRun(cfg, { checkpointDir: outDir(), data: DS });
    const c = await trainRun({ ...cfg, seed: cfg.seed + 1 }, { checkpointDir: outDir(), data: DS });
    expect(maxDiffNamed(copyVars(a.network.namedVariables()), copyVars(b.network.namedVariables()))).toBe(0);
    expect(stable(b.metrics)).toEqual(stable(a.metrics));
    expect(maxDiffNamed(copyVars(a.network.namedVariables()), copyVars(c.network.namedVariables()))).toBeGreaterThan(0);
    [a, b, c].forEach((r) => r.network.dispose());
  });

  test('stopAfter 1 then resume gives exactly the uninterrupted 2-epoch run (weights, Adam state, metrics)', async () => {
    const cfg = tinyConfig({ epochs: 2, hidden: [4] });
    const full = outDir();
    const a = await trainRun(cfg, { checkpointDir: full, data: DS });

    const split = outDir();
    const first = await trainRun(cfg, { checkpointDir: split, data: DS, stopAfter: 1 });
    expect(first.metrics.map((m) => m.epoch)).toEqual([1]);
    expect((loadCheckpoint(split).meta.state as { epoch: number }).epoch).toBe(1);
    expect(stable(first.metrics)).toEqual(stable(a.metrics.slice(0, 1)));
    first.network.dispose();

    const second = await trainRun(cfg, { checkpointDir: split, data: DS, resume: true });
    expect(second.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(stable(second.metrics)).toEqual(stable(a.metrics));
    expect(stable(metricsFile(split))).toEqual(stable(metricsFile(full)));
    expect(maxDiffNamed(copyVars(second.network.namedVariables()), copyVars(a.network.namedVariables()))).toBe(0);
    expect(maxDiffNamed(checkpointTensors(split), checkpointTensors(full))).toBe(0);
    type St = { config: unknown; epoch: number; rule: unknown; metrics: EpochMetrics };
    const [sa, sb] = [split, full].map((d) => loadCheckpoint(d).meta.state as St);
    expect([sa.config, sa.epoch, sa.rule]).toEqual([sb.config, sb.epoch, sb.rule]);
    expect(stable([sa.metrics])).toEqual(stable([sb.metrics]));
    a.network.dispose();
    second.network.dispose();
  });

  test('weight averaging: epochs are evaluated on the average, a resumed run averages exactly as an uninterrupted one, and a checkpoint deploys the average', async () => {
    const base = tinyConfig({ epochs: 2, hidden: [4] });
    const cfg: TrainConfig = { ...base, ruleConfig: { ...base.ruleConfig, optimizer: { ...base.ruleConfig.optimizer, averageHalfLife: 3 } } };
    const full = outDir();
    const a = await trainRun(cfg, { checkpointDir: full, data: DS });
    const split = outDir();
    (await trainRun(cfg, { checkpointDir: split, data: DS, stopAfter: 1 })).network.dispose();
    const b = await trainRun(cfg, { checkpointDir: split, data: DS, resume: true });
    expect(stable(b.metrics)).toEqual(stable(a.metrics));
    expect(maxDiffNamed(checkpointTensors(split), checkpointTensors(full))).toBe(0);
    // The checkpoint keeps the trained weights (to resume) and their average (to deploy), and they differ.
    const tensors = checkpointTensors(full);
    const names = Object.keys(a.network.namedVariables());
    expect(names.every((n) => tensors[`average.${n}`] !== undefined)).toBe(true);
    expect(Math.max(...names.map((n) => maxDiffNamed({ x: tensors[n] }, { x: tensors[`average.${n}`] })))).toBeGreaterThan(0);
    // The network returned, the one restored from the checkpoint and the one the last epoch scored are the average.
    const restored = networkFromCheckpoint(full);
    expect(maxDiffNamed(copyVars(restored.net.namedVariables()), copyVars(a.network.namedVariables()))).toBe(0);
    expect(maxDiffNamed(copyVars(a.network.namedVariables()), Object.fromEntries(names.map((n) => [n, tensors[`average.${n}`]])))).toBe(0);
    expect(evaluate(restored.net, DS, 'test', cfg).accuracy).toBe(a.metrics[1].testAccuracy);
    [a, b].forEach((r) => r.network.dispose());
    restored.net.dispose();
  });

  test('resuming a finished 1-epoch run with epochs = 2 continues it exactly like a 2-epoch run', async () => {
    const full = outDir();
    const a = await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: full, data: DS });
    const dir = outDir();
    (await trainRun(tinyConfig({ epochs: 1 }), { checkpointDir: dir, data: DS })).network.dispose();
    const b = await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true });
    expect(stable(b.metrics)).toEqual(stable(a.metrics));
    expect(maxDiffNamed(checkpointTensors(dir), checkpointTensors(full))).toBe(0);
    a.network.dispose();
    b.network.dispose();
  });

  test('resuming a finished run runs no epoch and leaves the checkpoint untouched', async () => {
    const dir = outDir();
    (await trainRun(tinyConfig({ epochs: 1 }), { checkpointDir: dir, data: DS })).network.dispose();
    const before = snapshot(dir);
    const r = await trainRun(tinyConfig({ epochs: 1 }), { checkpointDir: dir, data: DS, resume: true });
    expect(r.metrics.map((m) => m.epoch)).toEqual([1]);
    expect(snapshot(dir)).toEqual(before);
    r.network.dispose();
  });

  test('the tfjs tensor count is the same at the end of every epoch', async () => {
    const counts: number[] = [];
    const r = await trainRun(tinyConfig({ epochs: 4 }), { checkpointDir: outDir(), data: DS, onEpoch: () => counts.push(tf.memory().numTensors) });
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
    r.network.dispose();
  });

  test('evaluate: confusion rows sum to the class counts, accuracy is its trace / n, and it is deterministic', () => {
    const net = new Network(tinyConfig().network, 1);
    const ds = bandDataset({ nTrain: 4, nTest: 21, classes: 2 });
    const cfg = { steps: 3, encoding: { kind: 'rate' as const, pMax: 0.5 }, seed: 4, evalBatch: 8 };
    const n0 = tf.memory().numTensors;
    const a = evaluate(net, ds, 'test', cfg);
    expect(tf.memory().numTensors).toBe(n0);
    const b = evaluate(net, ds, 'test', cfg);
    expect(b).toEqual(a);
    expect(a.confusion.map((row) => row.reduce((s, v) => s + v, 0))).toEqual([11, 10]);
    expect(a.accuracy).toBeCloseTo((a.confusion[0][0] + a.confusion[1][1]) / 21, 12);
    const tr = evaluate(net, ds, 'train', cfg);
    expect(tr.confusion.flat().reduce((s, v) => s + v, 0)).toBe(4);
    net.dispose();
  });
});

describe('trainRun as a library: callbacks, abort, yielding, silence', () => {
  test('onBatch reports each batch with running metrics that end at the epoch metrics; onEpoch follows each epoch', async () => {
    const events: string[] = [];
    const batches: BatchProgress[] = [];
    const r = await trainRun(tinyConfig({ epochs: 2 }), {
      data: DS,
      onBatch: (p) => {
        batches.push(p);
        events.push(`b${p.epoch}.${p.batch}`);
      },
      onEpoch: (m) => events.push(`e${m.epoch}`),
    });
    const perEpoch = Math.ceil(DS.nTrain / 8);
    expect(events).toEqual([1, 2].flatMap((e) => [...Array.from({ length: perEpoch }, (_, b) => `b${e}.${b + 1}`), `e${e}`]));
    for (const p of batches) {
      expect([p.epochs, p.batches, p.epochSamples]).toEqual([2, perEpoch, DS.nTrain]);
      expect(p.samples).toBe(Math.min(DS.nTrain, 8 * p.batch));
      expect(Number.isFinite(p.loss) && p.loss > 0).toBe(true);
      expect(p.accuracy >= 0 && p.accuracy <= 1).toBe(true);
      expect(p.samplesPerSecond).toBeGreaterThanOrEqual(0);
    }
    // The last batch of an epoch carries that epoch's training metrics.
    for (const m of r.metrics) {
      const last = batches.filter((p) => p.epoch === m.epoch).pop() as BatchProgress;
      expect([last.loss, last.accuracy]).toEqual([m.trainLoss, m.trainAccuracy]);
    }
    expect(r.aborted).toBe(false);
    r.network.dispose();
  });

  test('without checkpointDir nothing is written', async () => {
    const cwd = process.cwd();
    const dir = outDir();
    fs.mkdirSync(dir);
    process.chdir(dir);
    try {
      (await trainRun(tinyConfig({ epochs: 1 }), { data: DS })).network.dispose();
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  const localRule = { optimizer: { kind: 'adam' as const, lr: 0.05 }, bptt: { surrogate: 'straight-through' as const }, local: { baseline: 'running' as const } };
  test.each([
    ['bptt', {}],
    ['local', { rule: 'local', ruleConfig: localRule }],
  ] as const)('%s: an abort mid-epoch finishes the batch, writes a checkpoint, and resuming it repeats the uninterrupted run bitwise', async (_rule, over) => {
    const cfg = tinyConfig({ epochs: 3, ...over });
    const whole = await trainRun(cfg, { checkpointDir: outDir(), data: DS });
    const dir = outDir();
    const stop = new AbortController();
    const seen: string[] = [];
    const cut = await trainRun(cfg, {
      checkpointDir: dir,
      data: DS,
      signal: stop.signal,
      onBatch: (p) => {
        seen.push(`${p.epoch}.${p.batch}`);
        if (p.epoch === 2 && p.batch === 2) stop.abort();
      },
    });
    expect(cut.aborted).toBe(true);
    expect(seen[seen.length - 1]).toBe('2.2'); // the batch under way finished; no further batch ran
    expect(cut.metrics.map((m) => m.epoch)).toEqual([1]);
    cut.network.dispose();
    const state = loadCheckpoint(dir).meta.state as { epoch: number; partial?: { batch: number; batches: number } };
    expect(state.epoch).toBe(1);
    expect(state.partial).toEqual(expect.objectContaining({ batch: 2, batches: Math.ceil(DS.nTrain / 8) }));
    expect(metricsFile(dir).map((m) => m.epoch)).toEqual([1]);
    const resumed = await trainRun(cfg, { checkpointDir: dir, data: DS, resume: true });
    expect(resumed.aborted).toBe(false);
    expect(stable(resumed.metrics)).toEqual(stable(whole.metrics));
    expect(maxDiffNamed(copyVars(resumed.network.namedVariables()), copyVars(whole.network.namedVariables()))).toBe(0);
    expect((loadCheckpoint(dir).meta.state as { partial?: unknown }).partial).toBeUndefined();
    whole.network.dispose();
    resumed.network.dispose();
  });

  test('an abort at an epoch end stops before the next epoch, with the epoch checkpoint; an aborted signal at the start trains nothing', async () => {
    const dir = outDir();
    const stop = new AbortController();
    const r = await trainRun(tinyConfig({ epochs: 3 }), { checkpointDir: dir, data: DS, signal: stop.signal, onEpoch: () => stop.abort() });
    expect(r.aborted).toBe(true);
    expect(r.metrics.map((m) => m.epoch)).toEqual([1]);
    expect(loadCheckpoint(dir).meta.state).toEqual(expect.objectContaining({ epoch: 1 }));
    expect((loadCheckpoint(dir).meta.state as { partial?: unknown }).partial).toBeUndefined();
    r.network.dispose();
    const early = await trainRun(tinyConfig({ epochs: 3 }), { data: DS, signal: AbortSignal.abort(), onBatch: () => { throw new Error('no batch should run'); } });
    expect([early.aborted, early.metrics.length]).toEqual([true, 0]);
    early.network.dispose();
  });

  test('yields to the event loop between batches: a setImmediate chain keeps running during training', async () => {
    let ticks = 0;
    let training = true;
    const tick = () => {
      ticks++;
      if (training) setImmediate(tick);
    };
    setImmediate(tick);
    let batchesRun = 0;
    const r = await trainRun(tinyConfig({ epochs: 2 }), { data: DS, onBatch: () => void batchesRun++ });
    training = false;
    expect(batchesRun).toBe(2 * Math.ceil(DS.nTrain / 8));
    expect(ticks).toBeGreaterThanOrEqual(batchesRun);
    r.network.dispose();
  });

  test('writes nothing to stderr or stdout itself', async () => {
    const err = jest.spyOn(process.stderr, 'write');
    const out = jest.spyOn(process.stdout, 'write');
    const r = await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: outDir(), data: DS });
    expect(err).not.toHaveBeenCalled();
    expect(out).not.toHaveBeenCalled();
    r.network.dispose();
  });
});

describe('trainRun: refused and failed runs never touch an existing checkpoint', () => {
  async function finishedRun(epochs = 1): Promise<{ dir: string; before: Record<string, string> }> {
    const dir = outDir();
    (await trainRun(tinyConfig({ epochs }), { checkpointDir: dir, data: DS })).network.dispose();
    return { dir, before: snapshot(dir) };
  }

  test('an existing checkpoint without resume: refused, naming the directory and the resume option (not a CLI flag); nothing changes', async () => {
    const { dir, before } = await finishedRun();
    const e = await expectRejects(trainRun(tinyConfig({ epochs: 3 }), { checkpointDir: dir, data: DS }), CheckpointError, dir, 'resume');
    expect(e.message).not.toMatch(/--/); // a library error names options, not CLI flags
    expect(snapshot(dir)).toEqual(before);
  });

  test('resume without a checkpoint: refused, and the directory is not created', async () => {
    const dir = outDir();
    await expectRejects(trainRun(tinyConfig(), { checkpointDir: dir, data: DS, resume: true }), CheckpointError, dir, /no checkpoint/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('resume with a corrupt weights file: CheckpointError naming the file; the files stay as they were', async () => {
    const { dir } = await finishedRun();
    const w = weightsFileOf(dir);
    const buf = fs.readFileSync(w);
    buf[buf.length - 3] ^= 0xff;
    fs.writeFileSync(w, buf);
    const before = snapshot(dir);
    await expectRejects(trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true }), CheckpointError, w, /corrupt/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('resume with a checkpoint whose network does not match its tensors: error naming the tensor; nothing changes', async () => {
    const { dir } = await finishedRun();
    const f = path.join(dir, CHECKPOINT_FILE);
    const meta = JSON.parse(fs.readFileSync(f, 'utf8'));
    meta.state.config.network.layers[0].size = 5; // hidden 4 → 5: the weights no longer fit
    fs.writeFileSync(f, JSON.stringify(meta));
    const before = snapshot(dir);
    await expectRejects(trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true }), CheckpointError, "'synapse.-1.0.weight'", '[1,4,16]', '[1,5,16]');
    expect(snapshot(dir)).toEqual(before);
  });

  test('resume against data that no longer fits the saved network: ConfigError; nothing changes', async () => {
    const { dir, before } = await finishedRun();
    const wrong: Dataset = bandDataset({ nTrain: 8, nTest: 8, h: 5, w: 5 });
    await expectRejects(trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: wrong, resume: true }), ConfigError, /16 inputs/, /25/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('a failure while saving epoch 2 leaves the epoch-1 checkpoint; resuming then gives the uninterrupted result', async () => {
    const full = outDir();
    (await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: full, data: DS })).network.dispose();

    const { dir } = await finishedRun(1);
    const e1 = checkpointTensors(dir);
    jest.spyOn(fsMod, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
      if (path.basename(String(to)) === CHECKPOINT_FILE) throw new Error('EIO: simulated failure');
      return realRename(from, to);
    });
    await expectRejects(trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true }), Error, /simulated/);
    jest.restoreAllMocks();
    expect((loadCheckpoint(dir).meta.state as { epoch: number }).epoch).toBe(1);
    expect(maxDiffNamed(checkpointTensors(dir), e1)).toBe(0);
    expect(metricsFile(dir).map((m) => m.epoch)).toEqual([1]);

    const r = await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true });
    expect(maxDiffNamed(checkpointTensors(dir), checkpointTensors(full))).toBe(0);
    expect(stable(metricsFile(dir))).toEqual(stable(metricsFile(full)));
    r.network.dispose();
  });

  test.each([
    ['network inputs ≠ image pixels', { network: { inputs: 9, layers: [{ neuron: 'sqs', size: 2 }] } }, /network has 9 inputs but bands with rate encoding gives 16/],
    ['output layer ≠ classes', { network: { inputs: 16, layers: [{ neuron: 'sqs', size: 3 }] } }, /output layer has 3 outputs but bands has 2 classes/],
    ['T = 0', { steps: 0 }, /steps \(T\) must be an integer ≥ 1, got 0/],
    ['batch = 0', { batch: 0 }, /batch must be an integer ≥ 1, got 0/],
    ['epochs = 0', { epochs: 0 }, /epochs must be an integer ≥ 1, got 0/],
    ['a hidden layer of size 0', { network: { inputs: 16, layers: [{ neuron: 'sqs', size: 0 }, { neuron: 'sqs', size: 2 }] } }, /layer 0: size must be an integer ≥ 1, got 0/],
  ])('impossible config (%s): ConfigError, and the output directory is not created', async (_l, over, msg) => {
    const dir = outDir();
    await expectRejects(trainRun(tinyConfig(over as Partial<TrainConfig>), { checkpointDir: dir, data: DS }), ConfigError, msg);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// BUG (deliberately failing until fixed): the variable-construction leak (see
// train-optimizer.test.ts) makes every training run leave tensors behind: after trainRun and
// network.dispose() the count is higher by one tensor per synapse weight and bias (Network) and
// two per variable (Adam m and v). Fix in Network/Optimizer constructors: dispose initial values.
describe('regression (was a bug): a training run leaks tensors', () => {
  test('trainRun then network.dispose() returns the tfjs tensor count to where it was', async () => {
    const n0 = tf.memory().numTensors;
    const r = await trainRun(tinyConfig({ epochs: 1 }), { checkpointDir: outDir(), data: DS });
    r.network.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});

// BUG (deliberately failing until fixed): metrics.jsonl is appended after each checkpoint, so a
// crash (or full disk) during the append leaves a partial last line while the checkpoint is whole.
// Resuming then dies in readMetrics with a bare SyntaxError ("Unterminated string in JSON"), an
// internal error, and the run can never be resumed without hand-editing the file. Fix: in
// readMetrics keep only lines that parse and have epoch ≤ the checkpoint's epoch (they are
// rewritten anyway), or write metrics.jsonl atomically (tmp file + rename) like the checkpoint.
describe('regression (was a bug): a partial metrics.jsonl line blocks resume', () => {
  test('resume after a crash mid-append continues like an uninterrupted run', async () => {
    const full = outDir();
    (await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: full, data: DS })).network.dispose();
    const dir = outDir();
    (await trainRun(tinyConfig({ epochs: 1 }), { checkpointDir: dir, data: DS })).network.dispose();
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"epoch": 2, "trainLo');
    const r = await trainRun(tinyConfig({ epochs: 2 }), { checkpointDir: dir, data: DS, resume: true });
    expect(stable(metricsFile(dir))).toEqual(stable(metricsFile(full)));
    r.network.dispose();
  });
});
