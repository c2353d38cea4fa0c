/**
 * One training run: data, epochs, metrics, atomic checkpoints, exact resume. Every random draw of
 * epoch e comes from the stream `${seed}/epoch/${e}`, so a resumed run repeats an uninterrupted one
 * — also from a checkpoint written mid-epoch on abort, which records where that stream stood.
 * A library function: it reports through callbacks (the CLI draws progress from them), never writes
 * to the terminal, and yields to the event loop between batches.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Surrogate } from '../kernels/statevector';
import { tf } from '../kernels/tf';
import { CheckpointError, hasCheckpoint, loadCheckpoint, restoreVariables, saveCheckpoint } from './checkpoint';
import { Dataset, batches, epochOrder, gatherImages, gatherLabels, loadDataset } from './data';
import { Encoding, encodeImages, inputFeatures } from './inputs';
import { LearningRule, RuleConfig, createRule } from './learn/registry';
import { AVERAGE_PREFIX } from './learn/optimizer';
import { Network, NetworkConfig, predict, validateNetworkConfig } from './network';
import { ConfigError, LayerConfig } from './neurons/registry';
import { assertTrainingFits } from './limits';
import { writeFileAtomic } from './run-folder';
import { Rng, RngState } from './random';
import { holdOut } from './validation-split';
import { TRAIN_DEFAULTS } from './schemas';

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
  /** Batch size for evaluation (default: TRAIN_DEFAULTS.evalBatch). */
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
export function evaluate(net: Network, ds: Dataset, split: 'train' | 'test', cfg: Pick<TrainConfig, 'steps' | 'encoding' | 'seed'> & { evalBatch?: number }): EvalResult {
  const images = split === 'test' ? ds.testImages : ds.trainImages;
  const labels = split === 'test' ? ds.testLabels : ds.trainLabels;
  const n = split === 'test' ? ds.nTest : ds.nTrain;
  const p = ds.height * ds.width;
  const rng = new Rng(`${cfg.seed}/eval/${split}`);
  const classes = net.classes;
  const confusion = Array.from({ length: classes }, () => new Array(classes).fill(0));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (const idx of batches(order, cfg.evalBatch ?? TRAIN_DEFAULTS.evalBatch)) {
    const pred = tf.tidy(() => {
      const x = encodeImages(gatherImages(images, p, idx), idx.length, ds.height, ds.width, cfg.steps, cfg.encoding, rng);
      const r = net.forward(x, { ctx: { rng, train: false, surrogate: 'straight-through' } });
      return predict(r.counts, r.probSum, cfg.steps);
    });
    const yhat = pred.dataSync();
    pred.dispose();
    idx.forEach((i, j) => confusion[labels[i]][yhat[j]]++);
  }
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  return { accuracy: n ? correct / n : 0, confusion };
}

/** Where training stands after a batch (for progress displays). */
export interface BatchProgress {
  /** 1-based epoch and its total. */
  epoch: number;
  epochs: number;
  /** 1-based batch of this epoch and the epoch's batch count. */
  batch: number;
  batches: number;
  /** Training samples of this epoch seen so far, and the epoch's total. */
  samples: number;
  epochSamples: number;
  /** Mean loss and accuracy over this epoch's batches so far. */
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
}

export interface RunOptions {
  /**
   * Folder for checkpoints (`checkpoint.json` + weights, after each epoch and on abort) and
   * `metrics.jsonl`. Without it nothing is written and the run cannot be resumed.
   */
  checkpointDir?: string;
  /** Continue the run whose checkpoint is in `checkpointDir` (required when one is there). */
  resume?: boolean;
  /** Called after each training batch. */
  onBatch?: (p: BatchProgress) => void;
  /** Called after each epoch (after its checkpoint is written). */
  onEpoch?: (m: EpochMetrics) => void;
  /**
   * Stop early: when aborted, the current batch finishes, a checkpoint of the exact position is
   * written (to `checkpointDir`, resumable with `resume`), and the run returns with `aborted`.
   */
  signal?: AbortSignal;
  /** Stop after this many epochs in this process (tests of resume). */
  stopAfter?: number;
  /** Use this dataset instead of loading cfg.dataset (tests, experiments). */
  data?: Dataset;
}

export interface RunResult {
  /** One entry per finished epoch, including those of earlier processes of a resumed run. */
  metrics: EpochMetrics[];
  /** True when `signal` stopped the run before its last epoch. */
  aborted: boolean;
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

/** The training state a checkpoint carries (`meta.state`). */
interface SavedState {
  config: TrainConfig;
  /** Finished epochs. */
  epoch: number;
  rule: Record<string, unknown>;
  metrics?: EpochMetrics;
  /** Set when written on abort, mid-epoch: where epoch `epoch + 1` stood. */
  partial?: PartialEpoch;
}

/** An epoch cut short by an abort: enough to continue it exactly. */
export interface PartialEpoch {
  /** Batches of the epoch done, of `batches`. */
  batch: number;
  batches: number;
  seen: number;
  lossSum: number;
  correct: number;
  seconds: number;
  /** The epoch's random stream after batch `batch`. */
  rng: RngState;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Train `cfgIn` for its epochs. With `checkpointDir`, a checkpoint and a `metrics.jsonl` line are
 * written after each epoch; an existing checkpoint there is never overwritten: it is continued with
 * `resume` (the saved run defines the model; only `epochs` may grow) or the run is refused.
 */
export async function trainRun(cfgIn: TrainConfig, opts: RunOptions = {}): Promise<RunResult> {
  const outDir = opts.checkpointDir;
  let cfg = cfgIn;
  let startEpoch = 0;
  let loaded: ReturnType<typeof loadCheckpoint> | null = null;
  let partial: PartialEpoch | undefined;
  if (outDir !== undefined && hasCheckpoint(outDir)) {
    if (!opts.resume)
      throw new CheckpointError(`${outDir} already holds a checkpoint; set the resume option to continue it, or choose another checkpointDir (it is never overwritten)`);
    loaded = loadCheckpoint(outDir);
    const saved = loaded.meta.state as unknown as SavedState;
    // The saved run defines the model; only the number of epochs may be extended.
    cfg = { ...saved.config, epochs: Math.max(cfgIn.epochs, saved.epoch + (saved.partial ? 1 : 0)) };
    startEpoch = saved.epoch;
    partial = saved.partial;
  } else if (opts.resume) throw new CheckpointError(`nothing to resume: no checkpoint in ${outDir ?? '(no checkpointDir given)'}`);

  const ds = opts.data ?? loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain, limitTest: cfg.limitTest });
  checkConfig(cfg, ds);
  const split = cfg.validation ? holdOut(ds, cfg.validation, cfg.seed) : null;
  const trainSet = split?.train ?? ds;
  assertTrainingFits(cfg, trainSet);
  const { net, rule } = buildModel(cfg);
  if (loaded && outDir !== undefined) {
    const vars = { ...net.namedVariables(), ...rule.optimizer.stateTensors() };
    restoreVariables(loaded, vars, outDir);
    rule.loadState((loaded.meta.state as unknown as SavedState).rule);
  }
  const metricsFile = outDir !== undefined ? path.join(outDir, 'metrics.jsonl') : undefined;
  const metrics = metricsFile ? readMetrics(metricsFile).filter((m) => m.epoch <= startEpoch) : [];
  if (outDir !== undefined && metricsFile) {
    fs.mkdirSync(outDir, { recursive: true });
    // Rewritten (dropping epochs past the checkpoint) by rename, so a kill here loses no line.
    writeFileAtomic(metricsFile, metrics.map((m) => JSON.stringify(m) + '\n').join(''));
  }
  const save = (state: SavedState, tag: string) => {
    if (outDir === undefined) return;
    const tensors = { ...net.namedVariables(), ...rule.optimizer.stateTensors() };
    saveCheckpoint(outDir, tensors, state as unknown as Record<string, unknown>, tag);
  };

  const p = ds.height * ds.width;
  const params = net.parameterCount();
  let ran = 0;
  let aborted = false;
  for (let epoch = startEpoch; epoch < cfg.epochs && !aborted; epoch++) {
    if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const seed = `${cfg.seed}/epoch/${epoch}`;
    let rng = new Rng(seed);
    const order = epochOrder(trainSet.nTrain, rng);
    const epochBatches = batches(order, cfg.batch);
    // A mid-epoch checkpoint continues this epoch where it stood: same order, same stream.
    const from = partial ?? { batch: 0, seen: 0, lossSum: 0, correct: 0, seconds: 0 };
    if (partial) rng = new Rng(seed, partial.rng);
    partial = undefined;
    const t0 = Date.now() - from.seconds * 1000;
    let { seen, lossSum, correct } = from;
    for (let b = from.batch; b < epochBatches.length; b++) {
      const idx = epochBatches[b];
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
      opts.onBatch?.({
        epoch: epoch + 1, epochs: cfg.epochs, batch: b + 1, batches: epochBatches.length, samples: seen, epochSamples: trainSet.nTrain,
        loss: lossSum / seen, accuracy: correct / seen, samplesPerSecond: secs > 0 ? seen / secs : 0,
      });
      // A batch is the unit of work an abort waits for; yielding lets signal handlers (and other
      // work of the caller) run.
      await yieldToEventLoop();
      if (opts.signal?.aborted && b + 1 < epochBatches.length) {
        const at: PartialEpoch = { batch: b + 1, batches: epochBatches.length, seen, lossSum, correct, seconds: (Date.now() - t0) / 1000, rng: rng.state() };
        save({ config: cfg, epoch, rule: rule.saveState(), partial: at }, `e${epoch}b${b + 1}`);
        aborted = true;
        break;
      }
    }
    if (aborted) break;
    const trainSeconds = (Date.now() - t0) / 1000;
    // With weight averaging, the network evaluated is the average (as the one a checkpoint deploys).
    const { test, validation } = rule.optimizer.withAveraged(() => ({
      test: evaluate(net, ds, 'test', cfg),
      validation: split ? evaluate(net, split.validation, 'test', cfg) : null,
    }));
    const m: EpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / Math.max(1, seen),
      trainAccuracy: correct / Math.max(1, seen),
      testAccuracy: test.accuracy,
      ...(validation ? { validationAccuracy: validation.accuracy } : {}),
      seconds: trainSeconds,
      samplesPerSecond: seen / Math.max(1e-9, trainSeconds),
      parameters: params,
    };
    save({ config: cfg, epoch: epoch + 1, rule: rule.saveState(), metrics: m }, `e${epoch + 1}`);
    if (metricsFile) fs.appendFileSync(metricsFile, JSON.stringify(m) + '\n');
    metrics.push(m);
    opts.onEpoch?.(m);
    ran++;
    if (epoch + 1 < cfg.epochs && opts.signal?.aborted) aborted = true;
  }
  // The network returned is the one evaluated: the averaged parameters when averaging.
  rule.optimizer.adoptAveraged();
  rule.dispose();
  return { metrics, aborted, network: net, config: cfg, dataset: ds };
}

/** A trained network (the averaged parameters when the run averaged) and its config from a checkpoint directory. */
export function networkFromCheckpoint(dir: string): { net: Network; config: TrainConfig; epoch: number } {
  const ck = loadCheckpoint(dir);
  const state = ck.meta.state as { config: TrainConfig; epoch: number };
  if (!state?.config?.network) throw new CheckpointError(`${dir}: checkpoint has no network config`);
  const net = new Network(state.config.network, state.config.seed);
  // A run with weight averaging deploys (and evaluated) the average.
  const averaged = Object.keys(ck.tensors).some((name) => name.startsWith(AVERAGE_PREFIX));
  restoreVariables(ck, net.namedVariables(), dir, averaged ? AVERAGE_PREFIX : '');
  return { net, config: state.config, epoch: state.epoch };
}

export type { Surrogate };
