/**
 * Experiment grids: models × datasets × parameter budgets × training rules × seeds. Each cell is one
 * training run (src/train.ts) in its own folder `cells/<id>/`, and the unit of work for every way of
 * running a grid: one process, `--jobs J` processes, shards, or a Slurm job array.
 *
 * - Cells are numbered in plan order (`expandGrid`); the number is what `--cell K` and
 *   `$SLURM_ARRAY_TASK_ID` name.
 * - Fair tuning: a model (or the grid) may declare `"tune": {"lr": [...], "validation": 0.1}`. Its
 *   *tuning* cells train each candidate on the training set minus a seeded validation split and
 *   record the validation accuracy; its *final* cells, one per seed, select the lr with the best mean
 *   validation accuracy over the seeds of their group (model, dataset, budget, rule) and train on the
 *   whole training set. Test accuracy is never looked at for selection. All tuning cells come first
 *   in the numbering, so the two phases are two contiguous ranges (`--phase tune|final`), e.g. two
 *   job arrays where the second depends on the first.
 * - A finished cell leaves result.json and is skipped; a failed one leaves failed.json and is retried
 *   on the next run; an interrupted one resumes from its checkpoint. A final cell whose tuning is
 *   unfinished is not run (and not a failure): a worker waits for tuning cells that other workers
 *   are running, and otherwise names the ones it needs. A per-cell lock
 *   (src/cell-lock.ts) keeps concurrent workers on a shared file system from running a cell twice.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sizeHidden } from './budget';
import { hasCheckpoint } from './checkpoint';
import { lockHeld, tryLock } from './cell-lock';
import { Dataset, loadDataset } from './data';
import { executionsPerInference } from './executions';
import { Encoding, inputFeatures } from './inputs';
import { LocalConfig } from './learn/local';
import { RuleConfig } from './learn/rule';
import { NetworkConfig } from './network';
import { ConfigError, LayerConfig } from './neurons/registry';
import { checkCells, checkGrid } from './experiment-check';
import { experimentConfigSchema, TRAIN_DEFAULTS, validate } from './schemas';
import { formatDuration } from './duration';
import { hasCircuitAngles, recipeFor } from './recipes';
import { BatchProgress, EpochMetrics, TrainConfig, trainRun } from './train';
import { SqsnnError } from '../kernels/errors';

/** A learning-rate grid searched on a validation split carved from the training set. */
export interface TuneSpec {
  lr: number[];
  /** Fraction of the training set held out for validation (default 0.1). */
  validation?: number;
  /** Seeds of the tuning runs (default: the grid's seeds). */
  seeds?: number[];
}

export interface ExperimentModel {
  /** Label in tables and plots. */
  name: string;
  /** Neuron options for every layer, e.g. {"neuron": "sqs", "memoryQubits": 1}. */
  neuron: Omit<LayerConfig, 'size'> & { neuron: string };
  /** Training rules to run this model with (default ["bptt"]). */
  rules?: string[];
  /** Fixed learning rate (ignored when the model is tuned; default: the recipe's, src/recipes.ts). */
  lr?: number;
  /** Learning-rate grid for this model (overrides the grid's `tune`). */
  tune?: TuneSpec;
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
  /** Learning-rate grid for every model without its own `tune`. */
  tune?: TuneSpec;
}

export type Phase = 'tune' | 'final';
export const PHASES: Phase[] = ['tune', 'final'];

export interface CellSpec {
  /** Position in plan order: what `--cell K` and a job array's task id name. */
  index: number;
  id: string;
  phase: Phase;
  /** The cells whose tuning is pooled: dataset, model, rule, budget. */
  group: string;
  model: ExperimentModel;
  rule: string;
  data: ExperimentDataset;
  label: string;
  budget: number;
  seed: number;
  /** The learning-rate grid, when the model is tuned. */
  tune?: TuneSpec;
  /** Tuning cells: the candidate they train. */
  lr?: number;
}

export interface CellResult {
  id: string;
  phase?: Phase;
  dataset: string;
  model: string;
  rule: string;
  budget: number;
  seed: number;
  lr?: number;
  /** Final cells of a tuned model: the grid the lr was selected from. */
  tunedOver?: number[];
  /** Untuned cells: whether the lr was set in the config or came from the recipe. */
  lrFrom?: 'config' | 'recipe';
  parameters: number;
  hidden: number[];
  testAccuracy: number;
  /** Tuning cells: accuracy on the held-out part of the training set after the last epoch. */
  validationAccuracy?: number;
  bestTestAccuracy: number;
  trainSeconds: number;
  epochs: number;
  trainingSamples?: number;
  /** Circuit runs one test input costs on a device (src/executions.ts); null for unknown kinds. */
  circuitExecutions?: number | null;
  circuitExecutionsEstimated?: boolean;
  curve: number[];
  /** Rebuilt by `experiment restore` from a report's results.csv (file named), not trained here. */
  restoredFrom?: string;
}

export function datasetLabel(d: ExperimentDataset): string {
  return d.label ?? `${d.dataset}${d.encoding?.kind === 'events' ? '-events' : ''}`;
}

export function validateExperiment(cfg: ExperimentConfig): void {
  validate(experimentConfigSchema, cfg, 'experiment config');
  const need = (c: boolean, msg: string) => {
    if (!c) throw new ConfigError(`experiment config: ${msg}`);
  };
  need(Array.isArray(cfg.models) && cfg.models.length > 0, 'models must be a non-empty list');
  need(Array.isArray(cfg.datasets) && cfg.datasets.length > 0, 'datasets must be a non-empty list');
  need(Array.isArray(cfg.seeds) && cfg.seeds.length > 0 && cfg.seeds.every(Number.isInteger), 'seeds must be a non-empty list of integers');
  need(Array.isArray(cfg.budgets) && cfg.budgets.every((b) => b > 0), 'budgets must be a list of positive parameter counts');
  const checkTune = (t: TuneSpec | undefined, where: string) => {
    if (t === undefined) return;
    need(Array.isArray(t.lr) && t.lr.length > 0 && t.lr.every((x) => typeof x === 'number' && x > 0), `${where}tune.lr must be a non-empty list of positive learning rates`);
    need(new Set(t.lr).size === t.lr.length, `${where}tune.lr has a repeated value`);
    need(t.validation === undefined || (typeof t.validation === 'number' && t.validation > 0 && t.validation < 1), `${where}tune.validation must be a fraction in (0, 1)`);
    need(t.seeds === undefined || (Array.isArray(t.seeds) && t.seeds.length > 0 && t.seeds.every(Number.isInteger)), `${where}tune.seeds must be a non-empty list of integers`);
  };
  checkTune(cfg.tune, '');
  const names = new Set<string>();
  for (const m of cfg.models) {
    need(typeof m.name === 'string' && /^[\w.+-]+$/.test(m.name), `model name '${m.name}' must be letters, digits, . + - _`);
    need(!names.has(m.name), `model name '${m.name}' is repeated`);
    names.add(m.name);
    need(!!m.neuron && typeof m.neuron.neuron === 'string', `model ${m.name}: neuron.neuron (the kind) is required`);
    checkTune(m.tune, `model ${m.name}: `);
  }
  for (const d of cfg.datasets)
    for (const k of ['steps', 'epochs', 'batch'] as const) need(Number.isInteger(d[k]) && d[k] > 0, `dataset ${datasetLabel(d)}: ${k} must be a positive integer`);
}

const safeId = (s: string) => s.replace(/[^\w.+-]/g, '_');

/** All cells of a grid in plan order: every tuning cell, then every final cell. */
export function expandGrid(cfg: ExperimentConfig): CellSpec[] {
  validateExperiment(cfg);
  checkGrid(cfg);
  const tuneCells: Omit<CellSpec, 'index'>[] = [];
  const finalCells: Omit<CellSpec, 'index'>[] = [];
  for (const data of cfg.datasets) {
    const label = datasetLabel(data);
    for (const model of cfg.models) {
      if (model.datasets && !model.datasets.includes(label)) continue;
      const tune = model.tune ?? cfg.tune;
      for (const rule of model.rules ?? ['bptt'])
        for (const budget of data.budgets ?? cfg.budgets) {
          const group = safeId(`${label}__${model.name}__${rule}__p${budget}`);
          const base = { group, model, rule, data, label, budget, ...(tune ? { tune } : {}) };
          if (tune)
            for (const seed of tune.seeds ?? cfg.seeds)
              for (const lr of tune.lr) tuneCells.push({ ...base, id: safeId(`${group}__s${seed}__tune-lr${lr}`), phase: 'tune', seed, lr });
          for (const seed of cfg.seeds) finalCells.push({ ...base, id: `${group}__s${seed}`, phase: 'final', seed });
        }
    }
  }
  return [...tuneCells, ...finalCells].map((c, index) => ({ ...c, index }));
}

/** The network of a cell: hidden layer(s) sized so the total trainable parameters match the budget. */
export function cellNetwork(cell: CellSpec, ds: Dataset): NetworkConfig {
  const enc = cell.data.encoding ?? TRAIN_DEFAULTS.encoding;
  const hiddenLayers = cell.data.hiddenLayers ?? 1;
  const neuron = cell.model.neuron;
  // Circuit angles start as the recipe says unless the model sets `init` (as in `sqsnn train`).
  const init = hasCircuitAngles(neuron.neuron) ? { init: neuron.init ?? recipeFor(neuron.neuron, cell.rule).thetaInit } : {};
  const layer = (size: number) => ({ ...neuron, ...init, size }) as LayerConfig;
  const template: NetworkConfig = {
    inputs: inputFeatures(ds.height * ds.width, enc),
    layers: [...Array.from({ length: hiddenLayers }, () => layer(16)), layer(ds.classes)],
    ...(cell.model.skip ? { skip: cell.model.skip } : {}),
  };
  return sizeHidden(template, cell.budget).config;
}

/**
 * Training settings of a model under a rule: what the model sets, else the recipe of its neuron
 * kind and rule (src/recipes.ts), as `sqsnn train` does.
 */
export function modelSettings(m: ExperimentModel, rule: string): RuleConfig {
  const recipe = recipeFor(m.neuron.neuron, rule);
  return {
    optimizer: { kind: m.optimizer ?? recipe.optimizer, lr: m.lr ?? recipe.lr, clipNorm: m.clipNorm ?? recipe.clipNorm },
    bptt: { surrogate: m.surrogate ?? recipe.surrogate, logitScale: m.logitScale ?? recipe.logitScale },
    local: { ...recipe.local, ...(m.local ?? {}) },
  };
}

export function trainConfigFor(cell: CellSpec, ds: Dataset, lr: number | undefined): TrainConfig {
  const settings = modelSettings(cell.model, cell.rule);
  return {
    dataset: cell.data.dataset,
    network: cellNetwork(cell, ds),
    steps: cell.data.steps,
    epochs: cell.data.epochs,
    batch: cell.data.batch,
    seed: cell.seed,
    rule: cell.rule,
    encoding: cell.data.encoding ?? TRAIN_DEFAULTS.encoding,
    ruleConfig: { ...settings, optimizer: { ...settings.optimizer, ...(lr !== undefined ? { lr } : {}) } },
    limitTrain: cell.data.limitTrain,
    limitTest: cell.data.limitTest,
    ...(cell.phase === 'tune' ? { validation: cell.tune?.validation ?? 0.1 } : {}),
  };
}

export interface LearningRateSelection {
  /** The selected lr, or undefined while tuning cells of the group are unfinished. */
  lr?: number;
  candidates: { lr: number; meanValidationAccuracy: number | null; seeds: number }[];
  /** Tuning cells of the group without a result. */
  unfinished: CellSpec[];
}

/** What names a cell in its result: id, phase, dataset, model, rule, budget, seed, and where its lr came from. */
export function cellIdentity(cell: CellSpec): Pick<CellResult, 'id' | 'phase' | 'dataset' | 'model' | 'rule' | 'budget' | 'seed' | 'tunedOver' | 'lrFrom'> {
  return {
    id: cell.id,
    phase: cell.phase,
    dataset: cell.label,
    model: cell.model.name,
    rule: cell.rule,
    budget: cell.budget,
    seed: cell.seed,
    ...(cell.phase === 'final' && cell.tune ? { tunedOver: cell.tune.lr } : cell.phase === 'final' ? { lrFrom: cell.model.lr !== undefined ? 'config' : 'recipe' } : {}),
  };
}

export const cellDir = (outDir: string, cell: Pick<CellSpec, 'id'>) => path.join(outDir, 'cells', cell.id);

export function readResult(outDir: string, cell: Pick<CellSpec, 'id'>): CellResult | null {
  const file = path.join(cellDir(outDir, cell), 'result.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as CellResult) : null;
}

/**
 * Whether a cell's result stands. `result`: finished and not stale, else null. `stale`: why a
 * finished result no longer stands — a tuned final cell trained at an lr that is not its group's
 * selection any more (its tuning grid was extended and another lr won); such a cell is trained
 * again, its old run kept aside in the cell's folder. A standing tuned final reports the grid it
 * won (an extended grid whose selection did not move); while an extended grid's new candidates
 * are still tuning, it reports the grid it was selected from. `waitsFor`: the tuning cells without
 * a result that an unfinished tuned final cell needs before it can start.
 */
export function resultStanding(outDir: string, cells: CellSpec[], cell: CellSpec): { result: CellResult | null; stale?: string; waitsFor?: CellSpec[] } {
  const r = readResult(outDir, cell);
  if (cell.phase !== 'final' || !cell.tune) return { result: r };
  const sel = selectLearningRate(outDir, cells, cell.group);
  if (sel.lr === undefined) return r ? { result: r } : { result: null, waitsFor: sel.unfinished };
  if (!r) return { result: null };
  if (sel.lr !== r.lr) return { result: null, stale: `trained at lr ${r.lr}, but ${sel.lr} is selected now` };
  return { result: { ...r, tunedOver: cell.tune.lr } };
}

/** The result of a cell that stands (finished, and not stale), or null (`resultStanding`). */
export const currentResult = (outDir: string, cells: CellSpec[], cell: CellSpec): CellResult | null => resultStanding(outDir, cells, cell).result;

/**
 * The lr of a group: the candidate with the highest validation accuracy averaged over the tuning
 * seeds (ties: the earlier candidate in the grid). Test accuracy is not consulted.
 */
export function selectLearningRate(outDir: string, cells: CellSpec[], group: string): LearningRateSelection {
  const tuning = cells.filter((c) => c.phase === 'tune' && c.group === group);
  const unfinished: CellSpec[] = [];
  const byLr = new Map<number, number[]>();
  for (const c of tuning) {
    const r = readResult(outDir, c);
    if (!r || r.validationAccuracy === undefined) unfinished.push(c);
    else byLr.set(c.lr as number, [...(byLr.get(c.lr as number) ?? []), r.validationAccuracy]);
  }
  const grid = tuning[0]?.tune?.lr ?? [];
  const candidates = grid.map((lr) => {
    const v = byLr.get(lr) ?? [];
    return { lr, meanValidationAccuracy: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null, seeds: v.length };
  });
  if (unfinished.length || !candidates.length) return { candidates, unfinished };
  const best = candidates.reduce((a, b) => ((b.meanValidationAccuracy as number) > (a.meanValidationAccuracy as number) ? b : a));
  return { lr: best.lr, candidates, unfinished };
}

export interface ExperimentOptions {
  /** Called after each training batch of the cell being trained (e.g. to draw progress). */
  onBatch?: (cell: CellSpec, p: BatchProgress) => void;
  /**
   * Stop early: the cell in training finishes its batch and writes a resumable checkpoint, no
   * further cell starts, and runExperiment returns the results finished so far (no report).
   */
  signal?: AbortSignal;
  /** Replace dataset loading (tests). */
  loadData?: (d: ExperimentDataset) => Dataset;
  /** One line per cell event (start, result, failure); default: none. */
  log?: (line: string) => void;
  /** Run only these cells (default: all); the other cells are left to other workers. */
  select?: (cell: CellSpec) => boolean;
  /** Write results.csv/md and plots at the end (default true). */
  report?: boolean;
  /** How often to look again at cells other workers hold (default 2 s). */
  pollMs?: number;
  /** Wait for cells other workers hold (default true); false leaves them to those workers. */
  waitForOthers?: boolean;
}

export class ExperimentError extends SqsnnError {}

/** Write the grid's config into its folder, or check that the folder holds this same grid. */
export function prepareOutDir(cfg: ExperimentConfig, outDir: string): void {
  fs.mkdirSync(path.join(outDir, 'cells'), { recursive: true });
  const file = path.join(outDir, 'experiment.json');
  const text = JSON.stringify(cfg, null, 1);
  if (fs.existsSync(file)) {
    if (JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))) !== JSON.stringify(cfg))
      throw new ExperimentError(`${outDir} holds a different experiment (${file}); use another output folder, or run that file's experiment; to extend its grid (more learning rates or seeds), replace that file with the new config: finished cells are kept by id, and final cells whose selected lr changes are trained again`);
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The config a grid folder was run with. */
export function readExperiment(outDir: string): ExperimentConfig {
  const file = path.join(outDir, 'experiment.json');
  if (!fs.existsSync(file)) throw new ExperimentError(`${outDir} is not an experiment folder (no experiment.json)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ExperimentConfig;
}

/** Loads each dataset (with its limits) once per process. */
export function datasetCache(loadData?: (d: ExperimentDataset) => Dataset): (d: ExperimentDataset) => Dataset {
  const cache = new Map<string, Dataset>();
  return (d) => {
    const key = `${d.dataset}|${d.limitTrain}|${d.limitTest}`;
    if (!cache.has(key)) cache.set(key, loadData ? loadData(d) : loadDataset(d.dataset, { limitTrain: d.limitTrain, limitTest: d.limitTest }));
    return cache.get(key) as Dataset;
  };
}

type CellOutcome =
  | { status: 'done' | 'ran'; result: CellResult }
  | { status: 'busy' }
  | { status: 'stopped' }
  | { status: 'failed'; error: string }
  /** A final cell whose group's tuning cells (`on`) have no result yet: not run, and not a failure. */
  | { status: 'waiting'; on: CellSpec[] };

interface CellContext {
  outDir: string;
  cells: CellSpec[];
  data: (d: ExperimentDataset) => Dataset;
  onBatch?: (cell: CellSpec, p: BatchProgress) => void;
  signal?: AbortSignal;
}

/** A cell stopped by the experiment's signal: its checkpoint stays, it has no result yet. */
class CellStopped extends Error {}

async function trainCell(cell: CellSpec, ctx: CellContext): Promise<CellResult> {
  let lr = cell.lr;
  if (cell.phase === 'final' && cell.tune) {
    const sel = selectLearningRate(ctx.outDir, ctx.cells, cell.group);
    if (sel.lr === undefined)
      throw new ExperimentError(`tuning of ${cell.group} is unfinished: cell(s) ${sel.unfinished.map((c) => c.index).join(', ')} have no result`);
    lr = sel.lr;
  }
  const ds = ctx.data(cell.data);
  const tc = trainConfigFor(cell, ds, lr);
  const dir = cellDir(ctx.outDir, cell);
  const onBatch = ctx.onBatch;
  const res = await trainRun(tc, { checkpointDir: dir, resume: hasCheckpoint(dir), data: ds, signal: ctx.signal, onBatch: onBatch && ((p) => onBatch(cell, p)) });
  if (res.aborted) {
    res.network.dispose();
    throw new CellStopped();
  }
  const ms: EpochMetrics[] = res.metrics;
  const last = ms[ms.length - 1];
  let executions: ReturnType<typeof executionsPerInference> | null = null;
  try {
    executions = executionsPerInference(res.config.network, res.config.steps);
  } catch {
    /* a neuron kind without a registered count: reported as unknown */
  }
  const validation = res.config.validation;
  const r: CellResult = {
    ...cellIdentity(cell),
    lr: res.config.ruleConfig.optimizer.lr,
    parameters: res.network.parameterCount(),
    hidden: res.config.network.layers.slice(0, -1).map((l) => l.size),
    testAccuracy: last.testAccuracy,
    ...(last.validationAccuracy !== undefined ? { validationAccuracy: last.validationAccuracy } : {}),
    bestTestAccuracy: Math.max(...ms.map((m) => m.testAccuracy)),
    trainSeconds: ms.reduce((s, m) => s + m.seconds, 0),
    epochs: last.epoch,
    trainingSamples: validation ? ds.nTrain - Math.round(validation * ds.nTrain) : ds.nTrain,
    circuitExecutions: executions?.executions ?? null,
    circuitExecutionsEstimated: executions?.estimated ?? false,
    curve: ms.map((m) => m.testAccuracy),
  };
  res.network.dispose();
  return r;
}

/** Move a stale run's files (all but the lock) into `stale-lr<lr>/` of its folder, so the cell starts afresh. */
function setAsideStale(ctx: CellContext, cell: CellSpec, dir: string): void {
  const old = readResult(ctx.outDir, cell);
  if (!old) return;
  const aside = path.join(dir, `stale-lr${old.lr}`);
  fs.mkdirSync(aside, { recursive: true });
  for (const name of fs.readdirSync(dir)) if (name !== 'lock' && !name.startsWith('stale-')) fs.renameSync(path.join(dir, name), path.join(aside, name));
}

/** Run one cell unless it is finished (and not stale) or another worker holds it. */
async function runCell(cell: CellSpec, ctx: CellContext, onStart: () => void): Promise<CellOutcome> {
  const standing = resultStanding(ctx.outDir, ctx.cells, cell);
  if (standing.result) return { status: 'done', result: standing.result };
  if (standing.waitsFor) return { status: 'waiting', on: standing.waitsFor };
  const dir = cellDir(ctx.outDir, cell);
  fs.mkdirSync(dir, { recursive: true });
  const lock = tryLock(path.join(dir, 'lock'));
  if (!lock) return { status: 'busy' };
  const failedFile = path.join(dir, 'failed.json');
  try {
    const again = currentResult(ctx.outDir, ctx.cells, cell); // finished by another worker since we looked
    if (again) return { status: 'done', result: again };
    setAsideStale(ctx, cell, dir);
    fs.rmSync(failedFile, { force: true });
    onStart();
    const result = await trainCell(cell, ctx);
    const resultFile = path.join(dir, 'result.json');
    fs.writeFileSync(resultFile + '.tmp', JSON.stringify(result));
    fs.renameSync(resultFile + '.tmp', resultFile);
    return { status: 'ran', result };
  } catch (e) {
    if (e instanceof CellStopped) return { status: 'stopped' };
    const error = (e as Error).message ?? String(e);
    fs.writeFileSync(failedFile, JSON.stringify({ error, stack: (e as Error).stack, host: os.hostname(), pid: process.pid, at: new Date().toISOString() }, null, 1));
    return { status: 'failed', error };
  } finally {
    lock.release();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run the selected cells (default all) of a grid: tuning cells first, then final cells. Cells held
 * by other workers are waited for (unless `waitForOthers` is false), so this returns once every
 * selected cell is finished or failed.
 * Returns the results of the selected cells, in plan order; throws an ExperimentError naming the
 * failed cells (after writing the report).
 */
export async function runExperiment(cfg: ExperimentConfig, outDir: string, opts: ExperimentOptions = {}): Promise<CellResult[]> {
  const cells = expandGrid(cfg);
  const log = opts.log ?? (() => undefined);
  const data = datasetCache(opts.loadData);
  const selected = cells.filter(opts.select ?? (() => true));
  // Every cell this process may run is sized before the first runs or the folder is written.
  checkCells(selected, (cell) => ({ config: trainConfigFor(cell, data(cell.data), cell.lr), data: data(cell.data) }));
  prepareOutDir(cfg, outDir);
  const ctx: CellContext = { outDir, cells, data, onBatch: opts.onBatch, signal: opts.signal };
  const results = new Map<number, CellResult>();
  const failed: { cell: CellSpec; error: string }[] = [];
  const waiting: { cell: CellSpec; on: CellSpec[] }[] = [];
  const t0 = Date.now();
  let ranSeconds = 0;
  let ran = 0;
  for (const phase of PHASES) {
    let pending = selected.filter((c) => c.phase === phase);
    while (pending.length) {
      const busy: CellSpec[] = [];
      for (const [i, cell] of pending.entries()) {
        if (opts.signal?.aborted) return finishedSoFar(results);
        const head = `[cell ${cell.index}] ${cell.id}`;
        const left = pending.length - i;
        const start = Date.now();
        const out = await runCell(cell, ctx, () => log(`${head}: training (elapsed ${formatDuration((Date.now() - t0) / 1000)}, about ${ran > 0 ? formatDuration((ranSeconds / ran) * left) : '?'} left here)`));
        if (out.status === 'stopped') return finishedSoFar(results);
        if (out.status === 'busy') {
          busy.push(cell);
          log(`${head}: held by another worker`);
        } else if (out.status === 'waiting') {
          const on = out.on.map((c) => c.index).join(', ');
          // Tuning cells another worker is running will finish: wait for them like a held cell.
          if (opts.waitForOthers !== false && out.on.some((c) => lockHeld(path.join(cellDir(outDir, c), 'lock')))) {
            busy.push(cell);
            log(`${head}: waits for tuning cell(s) ${on}, running elsewhere`);
          } else {
            waiting.push({ cell, on: out.on });
            log(`${head}: not run: its tuning cell(s) ${on} have no result yet`);
          }
        } else if (out.status === 'failed') {
          failed.push({ cell, error: out.error });
          log(`${head}: FAILED: ${out.error}`);
        } else {
          results.set(cell.index, out.result);
          if (out.status === 'done') log(`${head}: done earlier, skipped`);
          else {
            ran++;
            ranSeconds += (Date.now() - start) / 1000;
            const r = out.result;
            const acc = r.phase === 'tune' ? `validation accuracy ${(100 * (r.validationAccuracy ?? 0)).toFixed(2)}% (lr ${r.lr})` : `test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`;
            log(`${head}: ${acc}, ${r.parameters} parameters, ${r.trainSeconds.toFixed(0)} s`);
          }
        }
      }
      pending = opts.waitForOthers === false ? [] : busy;
      if (pending.length && !opts.signal?.aborted) await sleep(opts.pollMs ?? 2000);
    }
  }
  if (opts.report !== false) {
    const { writeReport } = await import('./experiment-report');
    writeReport(outDir, { data: ctx.data });
  }
  const problems: string[] = [];
  if (failed.length) problems.push(`${failed.length} cell(s) failed: ${failed.map((f) => `${f.cell.index} (${f.cell.id}: ${f.error})`).join('; ')}; details in cells/<id>/failed.json`);
  if (waiting.length)
    problems.push(`${waiting.length} final cell(s) not run because their tuning is unfinished: ${waiting.map((w) => `${w.cell.index} (needs ${w.on.map((c) => c.index).join(', ')})`).join('; ')}; run those tuning cells first`);
  if (problems.length) throw new ExperimentError(problems.join('. '));
  return finishedSoFar(results);
}

const finishedSoFar = (results: Map<number, CellResult>): CellResult[] => [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);

/** Where the Slurm task of cell `index` writes its log (`experiment slurm`). */
export const taskLogPath = (outDir: string, index: number) => path.join(outDir, 'slurm', 'logs', `cell-${index}.out`);
