/**
 * Experiment grids: models × datasets × parameter budgets × training rules × seeds. Each cell is one
 * training run (src/train.ts) in its own folder; a finished cell leaves result.json and is skipped on
 * a rerun, an interrupted one resumes from its checkpoint. The grid ends with results.csv,
 * results.md (mean ± std per model, dataset, budget and rule) and SVG plots.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../kernels/tf';
import { sizeHidden } from './budget';
import { hasCheckpoint } from './checkpoint';
import { Dataset, loadDataset } from './data';
import { Encoding, encodeImages, inputFeatures } from './inputs';
import { LocalConfig } from './learn/local';
import { NetworkConfig } from './network';
import { ConfigError, LayerConfig } from './neurons/registry';
import { lineChart, rasterChart, Series } from './plot';
import { fmtTime } from './progress';
import { Rng } from './random';
import { EpochMetrics, TrainConfig, networkFromCheckpoint, trainRun } from './train';

export interface ExperimentModel {
  /** Label in tables and plots. */
  name: string;
  /** Neuron options for every layer, e.g. {"neuron": "sqs", "memoryQubits": 1}. */
  neuron: Omit<LayerConfig, 'size'> & { neuron: string };
  /** Training rules to run this model with (default ["bptt"]). */
  rules?: string[];
  lr?: number;
  optimizer?: 'adam' | 'sgd';
  surrogate?: 'straight-through' | 'pq';
  logitScale?: number;
  clipNorm?: number;
  local?: LocalConfig;
  /** Skip connections, as in NetworkConfig (e.g. [[-1, 1]]: input → output). */
  skip?: [number, number][];
  /** Restrict to these dataset labels. */
  datasets?: string[];
}

export interface ExperimentDataset {
  /** Dataset id for loadDataset (mnist, fashion-mnist, mnist-1v7-16, idx:DIR). */
  dataset: string;
  /** Label in tables and plots (default: the id, plus "-events" for event encoding). */
  label?: string;
  encoding?: Encoding;
  steps: number;
  epochs: number;
  batch: number;
  limitTrain?: number;
  limitTest?: number;
  /** Budgets for this dataset (default: the grid's). */
  budgets?: number[];
  /** Hidden layers (default 1); the template's relative sizes are kept when resizing. */
  hiddenLayers?: number;
}

export interface ExperimentConfig {
  models: ExperimentModel[];
  datasets: ExperimentDataset[];
  budgets: number[];
  seeds: number[];
}

export interface CellSpec {
  id: string;
  model: ExperimentModel;
  rule: string;
  data: ExperimentDataset;
  label: string;
  budget: number;
  seed: number;
}

export interface CellResult {
  id: string;
  dataset: string;
  model: string;
  rule: string;
  budget: number;
  seed: number;
  parameters: number;
  hidden: number[];
  testAccuracy: number;
  bestTestAccuracy: number;
  trainSeconds: number;
  epochs: number;
  curve: number[];
}

function datasetLabel(d: ExperimentDataset): string {
  return d.label ?? `${d.dataset}${d.encoding?.kind === 'events' ? '-events' : ''}`;
}

export function validateExperiment(cfg: ExperimentConfig): void {
  const need = (c: boolean, msg: string) => {
    if (!c) throw new ConfigError(`experiment config: ${msg}`);
  };
  need(Array.isArray(cfg.models) && cfg.models.length > 0, 'models must be a non-empty list');
  need(Array.isArray(cfg.datasets) && cfg.datasets.length > 0, 'datasets must be a non-empty list');
  need(Array.isArray(cfg.seeds) && cfg.seeds.length > 0 && cfg.seeds.every(Number.isInteger), 'seeds must be a non-empty list of integers');
  need(Array.isArray(cfg.budgets) && cfg.budgets.every((b) => b > 0), 'budgets must be a list of positive parameter counts');
  const names = new Set<string>();
  for (const m of cfg.models) {
    need(typeof m.name === 'string' && /^[\w.+-]+$/.test(m.name), `model name '${m.name}' must be letters, digits, . + - _`);
    need(!names.has(m.name), `model name '${m.name}' is repeated`);
    names.add(m.name);
    need(!!m.neuron && typeof m.neuron.neuron === 'string', `model ${m.name}: neuron.neuron (the kind) is required`);
  }
  for (const d of cfg.datasets)
    for (const k of ['steps', 'epochs', 'batch'] as const) need(Number.isInteger(d[k]) && d[k] > 0, `dataset ${datasetLabel(d)}: ${k} must be a positive integer`);
}

export function expandGrid(cfg: ExperimentConfig): CellSpec[] {
  validateExperiment(cfg);
  const cells: CellSpec[] = [];
  for (const data of cfg.datasets) {
    const label = datasetLabel(data);
    for (const model of cfg.models) {
      if (model.datasets && !model.datasets.includes(label)) continue;
      for (const rule of model.rules ?? ['bptt'])
        for (const budget of data.budgets ?? cfg.budgets)
          for (const seed of cfg.seeds)
            cells.push({ id: `${label}__${model.name}__${rule}__p${budget}__s${seed}`.replace(/[^\w.+-]/g, '_'), model, rule, data, label, budget, seed });
    }
  }
  return cells;
}

/** The network of a cell: hidden layer(s) sized so the total trainable parameters match the budget. */
export function cellNetwork(cell: CellSpec, ds: Dataset): NetworkConfig {
  const enc = cell.data.encoding ?? { kind: 'rate', pMax: 0.5 };
  const hiddenLayers = cell.data.hiddenLayers ?? 1;
  const layer = (size: number) => ({ ...cell.model.neuron, size }) as LayerConfig;
  const template: NetworkConfig = {
    inputs: inputFeatures(ds.height * ds.width, enc),
    layers: [...Array.from({ length: hiddenLayers }, () => layer(16)), layer(ds.classes)],
    ...(cell.model.skip ? { skip: cell.model.skip } : {}),
  };
  return sizeHidden(template, cell.budget).config;
}

function trainConfigFor(cell: CellSpec, ds: Dataset): TrainConfig {
  const m = cell.model;
  return {
    dataset: cell.data.dataset,
    network: cellNetwork(cell, ds),
    steps: cell.data.steps,
    epochs: cell.data.epochs,
    batch: cell.data.batch,
    seed: cell.seed,
    rule: cell.rule,
    encoding: cell.data.encoding ?? { kind: 'rate', pMax: 0.5 },
    ruleConfig: {
      optimizer: { kind: m.optimizer ?? 'adam', lr: m.lr ?? 5e-3, clipNorm: m.clipNorm ?? 0 },
      bptt: { surrogate: m.surrogate ?? 'straight-through', logitScale: m.logitScale ?? 1 },
      local: m.local ?? {},
    },
    limitTrain: cell.data.limitTrain,
    limitTest: cell.data.limitTest,
  };
}

export interface ExperimentOptions {
  quiet?: boolean;
  /** Replace dataset loading (tests). */
  loadData?: (d: ExperimentDataset) => Dataset;
  log?: (line: string) => void;
}

export async function runExperiment(cfg: ExperimentConfig, outDir: string, opts: ExperimentOptions = {}): Promise<CellResult[]> {
  const cells = expandGrid(cfg);
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  fs.mkdirSync(path.join(outDir, 'cells'), { recursive: true });
  fs.writeFileSync(path.join(outDir, 'experiment.json'), JSON.stringify(cfg, null, 1));
  const cache = new Map<string, Dataset>();
  const data = (d: ExperimentDataset) => {
    const key = `${d.dataset}|${d.limitTrain}|${d.limitTest}`;
    if (!cache.has(key)) cache.set(key, opts.loadData ? opts.loadData(d) : loadDataset(d.dataset, { limitTrain: d.limitTrain, limitTest: d.limitTest }));
    return cache.get(key) as Dataset;
  };
  const results: CellResult[] = [];
  const t0 = Date.now();
  let ranSeconds = 0;
  let ran = 0;
  for (const [i, cell] of cells.entries()) {
    const dir = path.join(outDir, 'cells', cell.id);
    const resultFile = path.join(dir, 'result.json');
    const head = `[${i + 1}/${cells.length}] ${cell.id}`;
    if (fs.existsSync(resultFile)) {
      results.push(JSON.parse(fs.readFileSync(resultFile, 'utf8')));
      log(`${head}: done earlier, skipped`);
      continue;
    }
    const left = cells.length - i;
    const eta = ran > 0 ? fmtTime((ranSeconds / ran) * left) : '?';
    log(`${head}: training (elapsed ${fmtTime((Date.now() - t0) / 1000)}, about ${eta} left)`);
    const ds = data(cell.data);
    const tc = trainConfigFor(cell, ds);
    const start = Date.now();
    const res = await trainRun(tc, dir, { quiet: opts.quiet, resume: hasCheckpoint(dir), data: ds });
    const ms: EpochMetrics[] = res.metrics;
    const last = ms[ms.length - 1];
    const r: CellResult = {
      id: cell.id,
      dataset: cell.label,
      model: cell.model.name,
      rule: cell.rule,
      budget: cell.budget,
      seed: cell.seed,
      parameters: res.network.parameterCount(),
      hidden: res.config.network.layers.slice(0, -1).map((l) => l.size),
      testAccuracy: last.testAccuracy,
      bestTestAccuracy: Math.max(...ms.map((m) => m.testAccuracy)),
      trainSeconds: ms.reduce((s, m) => s + m.seconds, 0),
      epochs: last.epoch,
      curve: ms.map((m) => m.testAccuracy),
    };
    res.network.dispose();
    fs.writeFileSync(resultFile + '.tmp', JSON.stringify(r));
    fs.renameSync(resultFile + '.tmp', resultFile);
    results.push(r);
    ran++;
    ranSeconds += (Date.now() - start) / 1000;
    log(`${head}: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, ${r.parameters} parameters, ${r.trainSeconds.toFixed(0)} s`);
  }
  writeReports(results, outDir, cells, data);
  return results;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

export interface SummaryRow {
  dataset: string;
  model: string;
  rule: string;
  budget: number;
  parameters: number;
  seeds: number;
  accuracy: { mean: number; std: number };
  seconds: number;
}

export function summarize(results: CellResult[]): SummaryRow[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const k = `${r.dataset}|${r.model}|${r.rule}|${r.budget}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => ({
    dataset: rs[0].dataset,
    model: rs[0].model,
    rule: rs[0].rule,
    budget: rs[0].budget,
    parameters: Math.round(meanStd(rs.map((r) => r.parameters)).mean),
    seeds: rs.length,
    accuracy: meanStd(rs.map((r) => r.testAccuracy)),
    seconds: meanStd(rs.map((r) => r.trainSeconds)).mean,
  }));
}

function writeReports(results: CellResult[], outDir: string, cells: CellSpec[], data: (d: ExperimentDataset) => Dataset): void {
  const cols: (keyof CellResult)[] = ['dataset', 'model', 'rule', 'budget', 'seed', 'parameters', 'hidden', 'testAccuracy', 'bestTestAccuracy', 'trainSeconds', 'epochs'];
  const csv = [cols.join(','), ...results.map((r) => cols.map((c) => (Array.isArray(r[c]) ? `"${(r[c] as number[]).join(' ')}"` : r[c])).join(','))];
  fs.writeFileSync(path.join(outDir, 'results.csv'), csv.join('\n') + '\n');
  const rows = summarize(results);
  const md = [
    '| dataset | model | rule | budget | parameters | seeds | test accuracy (mean ± std) | training time per cell |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.dataset} | ${r.model} | ${r.rule} | ${r.budget} | ${r.parameters} | ${r.seeds} | ${(100 * r.accuracy.mean).toFixed(2)} ± ${(100 * r.accuracy.std).toFixed(2)} % | ${r.seconds.toFixed(1)} s |`),
  ];
  fs.writeFileSync(path.join(outDir, 'results.md'), `# Results\n\n${md.join('\n')}\n\nPlots: ${plots(results, rows, outDir, cells, data).map((p) => `[${p}](${p})`).join(', ')}\n`);
}

function plots(results: CellResult[], rows: SummaryRow[], outDir: string, cells: CellSpec[], data: (d: ExperimentDataset) => Dataset): string[] {
  const written: string[] = [];
  const write = (name: string, svg: string) => {
    fs.writeFileSync(path.join(outDir, name), svg);
    written.push(name);
  };
  for (const ds of [...new Set(rows.map((r) => r.dataset))]) {
    const series: Series[] = [];
    for (const key of [...new Set(rows.filter((r) => r.dataset === ds).map((r) => `${r.model} (${r.rule})`))]) {
      const rs = rows.filter((r) => r.dataset === ds && `${r.model} (${r.rule})` === key);
      series.push({ name: key, points: rs.map((r) => ({ x: r.parameters, y: r.accuracy.mean, err: r.accuracy.std })) });
    }
    write(`accuracy-vs-parameters-${ds}.svg`, lineChart(series, { title: `${ds}: test accuracy at fixed parameter budgets`, xLabel: 'trainable parameters', yLabel: 'test accuracy', logX: true }));
    const curves: Series[] = [];
    for (const key of [...new Set(results.filter((r) => r.dataset === ds).map((r) => `${r.model} (${r.rule})`))]) {
      const rs = results.filter((r) => r.dataset === ds && `${r.model} (${r.rule})` === key);
      const top = Math.max(...rs.map((r) => r.budget));
      const sel = rs.filter((r) => r.budget === top);
      const len = Math.min(...sel.map((r) => r.curve.length));
      curves.push({ name: `${key}, ${top}`, points: Array.from({ length: len }, (_, e) => ({ x: e + 1, ...(() => { const s = meanStd(sel.map((r) => r.curve[e])); return { y: s.mean, err: s.std }; })() })) });
    }
    write(`training-curves-${ds}.svg`, lineChart(curves, { title: `${ds}: test accuracy per epoch (largest budget, mean ± std over seeds)`, xLabel: 'epoch', yLabel: 'test accuracy' }));
  }
  const sqsCell = cells.find((c) => c.model.neuron.neuron === 'sqs' && fs.existsSync(path.join(outDir, 'cells', c.id, 'result.json')));
  if (sqsCell) write('raster-sqs.svg', spikeRaster(path.join(outDir, 'cells', sqsCell.id), data(sqsCell.data), sqsCell.label));
  return written;
}

/** Raster of the first layer of a trained SQS network for the first test sample. */
export function spikeRaster(checkpointDir: string, ds: Dataset, label: string): string {
  const { net, config } = networkFromCheckpoint(checkpointDir);
  const rng = new Rng(`${config.seed}/raster`);
  const p = ds.height * ds.width;
  const spikes = tf.tidy(() => {
    const x = encodeImages(ds.testImages.subarray(0, p), 1, ds.height, ds.width, config.steps, config.encoding, rng);
    const r = net.forward(x, { ctx: { rng, train: false, surrogate: 'straight-through' }, record: true });
    return tf.stack((r.spikes as tf.Tensor[][])[0].map((s) => tf.reshape(s, [-1])), 1);
  });
  const rows = spikes.arraySync() as number[][];
  spikes.dispose();
  net.dispose();
  const shown = rows.slice(0, 100);
  return rasterChart(shown, { title: `${label}: spikes of ${shown.length} SQS neurons of layer 1, one test sample (label ${ds.testLabels[0]})` });
}
