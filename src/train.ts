/**
 * One training run: data, epochs, metrics, atomic checkpoints, exact resume. Every random draw of
 * epoch e comes from the stream `${seed}/epoch/${e}`, so a resumed run repeats an uninterrupted one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Surrogate } from '../kernels/statevector';
import { tf } from '../kernels/tf';
import { CheckpointError, hasCheckpoint, loadCheckpoint, restoreVariables, saveCheckpoint } from './checkpoint';
import { Dataset, batches, epochOrder, gatherImages, gatherLabels, loadDataset } from './data';
import { Encoding, encodeImages, inputFeatures } from './inputs';
import { LearningRule, RuleConfig, createRule } from './learn/registry';
import { Network, NetworkConfig, predict, validateNetworkConfig } from './network';
import { ConfigError, LayerConfig } from './neurons/registry';
import { assertTrainingFits } from './limits';
import { writeFileAtomic } from './run-folder';
import { Progress } from './progress';
import { Rng } from './random';
import { holdOut } from './validation-split';

export interface TrainConfig {
  dataset: string;
  network: NetworkConfig;
  steps: number;
  epochs: number;
  batch: number;
  seed: number;
  rule: string;
  encoding: Encoding;
  ruleConfig: RuleConfig;
  limitTrain?: number;
  limitTest?: number;
  /** Batch size for evaluation (default: max(batch, 256)). */
  evalBatch?: number;
  /** Hold out this fraction of the training set (seeded split, src/validation-split.ts) and report
   *  its accuracy per epoch as `validationAccuracy`; training uses the rest. For tuning. */
  validation?: number;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Accuracy on the held-out part of the training set, when `validation` is set. */
  validationAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
  parameters: number;
}

export interface EvalResult {
  accuracy: number;
  confusion: number[][];
}

/** A network config from layer sizes: inputs → hidden… → classes, all of one neuron kind. */
export function layeredNetwork(inputs: number, hidden: number[], classes: number, neuron: Partial<LayerConfig> = {}, extra: Partial<NetworkConfig> = {}): NetworkConfig {
  const kind = (neuron.neuron as string) ?? 'sqs';
  const layers = [...hidden, classes].map((size) => ({ ...neuron, neuron: kind, size }));
  return { inputs, layers, ...extra };
}

function checkConfig(cfg: TrainConfig, ds: Dataset): void {
  validateNetworkConfig(cfg.network);
  const features = inputFeatures(ds.height * ds.width, cfg.encoding);
  if (cfg.network.inputs !== features)
    throw new ConfigError(`network has ${cfg.network.inputs} inputs but ${cfg.dataset} with ${cfg.encoding.kind} encoding gives ${features}`);
  const out = cfg.network.layers[cfg.network.layers.length - 1];
  const channels = Number(out.ioQubits ?? 1);
  if (out.size * channels !== ds.classes)
    throw new ConfigError(`output layer has ${out.size * channels} outputs but ${cfg.dataset} has ${ds.classes} classes`);
  for (const [k, v] of [['steps (T)', cfg.steps], ['epochs', cfg.epochs], ['batch', cfg.batch]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${k} must be an integer ≥ 1, got ${v}`);
}

/** Accuracy and confusion matrix (rows: true class, columns: predicted) on a split. */
export function evaluate(net: Network, ds: Dataset, split: 'train' | 'test', cfg: Pick<TrainConfig, 'steps' | 'encoding' | 'seed'> & { evalBatch?: number }, progress?: Progress): EvalResult {
  const images = split === 'test' ? ds.testImages : ds.trainImages;
  const labels = split === 'test' ? ds.testLabels : ds.trainLabels;
  const n = split === 'test' ? ds.nTest : ds.nTrain;
  const p = ds.height * ds.width;
  const rng = new Rng(`${cfg.seed}/eval/${split}`);
  const classes = net.classes;
  const confusion = Array.from({ length: classes }, () => new Array(classes).fill(0));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let done = 0;
  for (const idx of batches(order, cfg.evalBatch ?? 256)) {
    const pred = tf.tidy(() => {
      const x = encodeImages(gatherImages(images, p, idx), idx.length, ds.height, ds.width, cfg.steps, cfg.encoding, rng);
      const r = net.forward(x, { ctx: { rng, train: false, surrogate: 'straight-through' } });
      return predict(r.counts, r.probSum, cfg.steps);
    });
    const yhat = pred.dataSync();
    pred.dispose();
    idx.forEach((i, j) => confusion[labels[i]][yhat[j]]++);
    done += idx.length;
    progress?.update(done, {});
  }
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  return { accuracy: n ? correct / n : 0, confusion };
}

export interface RunOptions {
  resume?: boolean;
  quiet?: boolean;
  /** Called after each epoch's checkpoint is written. */
  onEpoch?: (m: EpochMetrics) => void;
  /** Stop after this many epochs in this process (tests of resume). */
  stopAfter?: number;
  /** Use this dataset instead of loading cfg.dataset (tests, experiments). */
  data?: Dataset;
}

export interface RunResult {
  metrics: EpochMetrics[];
  network: Network;
  config: TrainConfig;
  dataset: Dataset;
}

/** Build a network + rule from a config (fresh), or from a checkpoint directory. */
export function buildModel(cfg: TrainConfig): { net: Network; rule: LearningRule } {
  const net = new Network(cfg.network, cfg.seed);
  return { net, rule: createRule(cfg.rule, net, cfg.ruleConfig) };
}

function readMetrics(file: string): EpochMetrics[] {
  if (!fs.existsSync(file)) return [];
  // A line cut short by a crash during an append is dropped (that epoch's checkpoint decides).
  const out: EpochMetrics[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    try {
      out.push(JSON.parse(line));
    } catch {
      /* partial line */
    }
  }
  return out;
}

export async function trainRun(cfgIn: TrainConfig, outDir: string, opts: RunOptions = {}): Promise<RunResult> {
  let cfg = cfgIn;
  let startEpoch = 0;
  let loaded: ReturnType<typeof loadCheckpoint> | null = null;
  if (hasCheckpoint(outDir)) {
    if (!opts.resume)
      throw new CheckpointError(`${outDir} already holds a checkpoint; pass --resume to continue it, or choose another --out (it is never overwritten)`);
    loaded = loadCheckpoint(outDir);
    const saved = loaded.meta.state as { config: TrainConfig; epoch: number; rule: Record<string, unknown> };
    // The saved run defines the model; only the number of epochs may be extended.
    cfg = { ...saved.config, epochs: Math.max(cfgIn.epochs, saved.epoch) };
    startEpoch = saved.epoch;
  } else if (opts.resume) throw new CheckpointError(`--resume: no checkpoint in ${outDir}`);

  const ds = opts.data ?? loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain, limitTest: cfg.limitTest });
  checkConfig(cfg, ds);
  const split = cfg.validation ? holdOut(ds, cfg.validation, cfg.seed) : null;
  const trainSet = split?.train ?? ds;
  assertTrainingFits(cfg, trainSet);
  const { net, rule } = buildModel(cfg);
  if (loaded) {
    const vars = { ...net.namedVariables(), ...rule.optimizer.stateTensors() };
    restoreVariables(loaded, vars, outDir);
    rule.loadState((loaded.meta.state as { rule: Record<string, unknown> }).rule);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const metricsFile = path.join(outDir, 'metrics.jsonl');
  const metrics = readMetrics(metricsFile).filter((m) => m.epoch <= startEpoch);
  // Rewritten (dropping epochs past the checkpoint) by rename, so a kill here loses no line.
  writeFileAtomic(metricsFile, metrics.map((m) => JSON.stringify(m) + '\n').join(''));

  const p = ds.height * ds.width;
  const params = net.parameterCount();
  let ran = 0;
  for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
    if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
    const rng = new Rng(`${cfg.seed}/epoch/${epoch}`);
    const order = epochOrder(trainSet.nTrain, rng);
    const bar = new Progress(`epoch ${epoch + 1}/${cfg.epochs}`, trainSet.nTrain, opts.quiet);
    const t0 = Date.now();
    let seen = 0;
    let lossSum = 0;
    let correct = 0;
    for (const idx of batches(order, cfg.batch)) {
      const x = encodeImages(gatherImages(trainSet.trainImages, p, idx), idx.length, ds.height, ds.width, cfg.steps, cfg.encoding, rng);
      const y = tf.tensor1d(gatherLabels(trainSet.trainLabels, idx), 'int32');
      const r = rule.trainBatch(x, y, rng);
      x.dispose();
      y.dispose();
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at epoch ${epoch + 1}: loss is ${r.loss}`);
      seen += r.size;
      lossSum += r.loss * r.size;
      correct += r.correct;
      const secs = (Date.now() - t0) / 1000;
      bar.update(seen, { loss: lossSum / seen, acc: correct / seen, 'samples/s': secs > 0 ? seen / secs : 0 });
      // Let signal handlers run between batches (a batch is the unit of work an interrupt waits for).
      await new Promise((resolve) => setImmediate(resolve));
    }
    bar.done();
    const trainSeconds = (Date.now() - t0) / 1000;
    const test = evaluate(net, ds, 'test', cfg);
    const m: EpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / Math.max(1, seen),
      trainAccuracy: correct / Math.max(1, seen),
      testAccuracy: test.accuracy,
      ...(split ? { validationAccuracy: evaluate(net, split.validation, 'test', cfg).accuracy } : {}),
      seconds: trainSeconds,
      samplesPerSecond: seen / Math.max(1e-9, trainSeconds),
      parameters: params,
    };
    const tensors = { ...net.namedVariables(), ...rule.optimizer.stateTensors() };
    saveCheckpoint(outDir, tensors, { config: cfg, epoch: epoch + 1, rule: rule.saveState(), metrics: m }, `e${epoch + 1}`);
    fs.appendFileSync(metricsFile, JSON.stringify(m) + '\n');
    metrics.push(m);
    opts.onEpoch?.(m);
    ran++;
  }
  rule.dispose();
  return { metrics, network: net, config: cfg, dataset: ds };
}

/** A trained network and its config from a checkpoint directory. */
export function networkFromCheckpoint(dir: string): { net: Network; config: TrainConfig; epoch: number } {
  const ck = loadCheckpoint(dir);
  const state = ck.meta.state as { config: TrainConfig; epoch: number };
  if (!state?.config?.network) throw new CheckpointError(`${dir}: checkpoint has no network config`);
  const net = new Network(state.config.network, state.config.seed);
  restoreVariables(ck, net.namedVariables(), dir);
  return { net, config: state.config, epoch: state.epoch };
}

export type { Surrogate };
