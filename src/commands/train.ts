/**
 * `sqsnn train`: one training run into a run folder (`--out`), from flags and/or a `--config` file.
 * Defaults ← config file ← flags; defaults come from src/schemas.ts (TRAIN_DEFAULTS) and the
 * recipe of the neuron kind under the rule (src/recipes.ts). Progress is drawn here from trainRun's
 * callbacks; Ctrl-C aborts the run, which writes a resumable checkpoint.
 */
import { Command, Option } from 'commander';
import { initBackend } from '../backend';
import { CheckpointError, hasCheckpoint, loadCheckpoint } from '../checkpoint';
import { trainInterruptLine, watchInterrupts } from '../cli/interrupt';
import { allowed, backendOption, choiceOption, givenFlags, jsonOption, listOption, numberOption, runCommand, stringOption, UsageError } from '../cli/options';
import { batchProgress } from '../cli/progress';
import { loadDataset } from '../data';
import { Encoding, inputFeatures } from '../inputs';
import { ruleNames } from '../learn/registry';
import { NetworkConfig, validateNetworkConfig } from '../network';
import { resolveThetaInit } from '../neurons/init';
import { parseThetaInit } from '../cli/theta-init';
import { hasCircuitAngles, recipeFor } from '../recipes';
import { lockRunFolder } from '../run-folder';
import { LOCAL_RULE_DEFAULTS, TRAIN_DEFAULTS, trainConfigSchema, validate } from '../schemas';
import { readJsonInput } from '../spec';
import { EpochMetrics, TrainConfig, layeredNetwork, trainRun } from '../train';

/** The parsed flags of `sqsnn train` (commander's attribute names). */
export interface TrainOptions {
  out?: string;
  config?: string;
  resume?: boolean;
  dataset?: string;
  hidden?: number[];
  T?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  rule?: string;
  encoding?: 'rate' | 'events';
  pMax?: number;
  limitTrain?: number;
  limitTest?: number;
  optimizer?: 'adam' | 'sgd';
  clip?: number;
  surrogate?: 'straight-through' | 'pq';
  logitScale?: number;
  shards?: number;
  neuron?: string;
  memoryQubits?: number;
  ioQubits?: number;
  ansatz?: string;
  thetaInit?: string;
  shots?: number;
  spsa?: number;
  spsaEps?: number;
  targetRate?: number;
  offRate?: number;
  balance?: 'on' | 'off';
  encodingGradient?: 'exact' | 'one-sided';
  baseline?: 'running' | 'batch';
  hiddenSignal?: 'broadcast' | 'flip';
  outputMemory?: 'forced' | 'sampled';
  lrHalfLife?: number;
  averageHalfLife?: number;
  backend?: string;
  quiet?: boolean;
  json?: boolean;
}

/** The hyper-parameters a user may tune (reported as "given" in the recipe line). */
const TUNING = ['lr', 'batch', 'optimizer', 'clip', 'surrogate', 'logitScale', 'thetaInit', 'config', 'shots', 'spsa', 'spsaEps', 'targetRate', 'offRate', 'balance', 'encodingGradient', 'baseline', 'hiddenSignal', 'outputMemory', 'lrHalfLife', 'averageHalfLife'];
/** What `--resume` still takes from the command line (the saved run defines the rest). */
const RESUME_KEEPS = ['resume', 'out', 'epochs', 'backend', 'quiet', 'json'];

export function trainCommand(): Command {
  const recipe = recipeFor('sqs', TRAIN_DEFAULTS.rule);
  const local = recipeFor('sqs', 'local');
  const fromRecipe = (x: unknown, y: unknown) => `the recipe's (src/recipes.ts): sqs/bptt ${x}, sqs/local ${y}`;
  const t = TRAIN_DEFAULTS;
  const d = LOCAL_RULE_DEFAULTS;
  return new Command('train')
    .description('train an SQSNN (or baseline) on a dataset; checkpoints and metrics.jsonl go to --out')
    .addOption(stringOption('--out <dir>', '(required) run folder: checkpoints and metrics.jsonl'))
    .addOption(new Option('--resume', 'continue the run in --out (its saved configuration is used; --epochs may extend it)'))
    .addOption(stringOption('--config <file>', 'a train config JSON (sqsnn schema train-config; docs/config.md); flags override it'))
    .addOption(stringOption('--dataset <name>', 'mnist, fashion-mnist, mnist-1v7-16, … or idx:DIR', { defaultText: t.dataset }))
    .addOption(listOption('--hidden <sizes>', 'hidden layer sizes, comma-separated', (e) => (/^\d+$/.test(e) && Number(e) >= 1 ? Number(e) : undefined), 'comma-separated layer sizes (integers ≥ 1)', { defaultText: t.hidden.join(',') }))
    .addOption(numberOption('--T <t>', 'time steps per sample', { integer: true, min: 1, defaultText: String(t.steps) }))
    .addOption(numberOption('--epochs <e>', 'passes over the training set', { integer: true, min: 1, defaultText: String(t.epochs) }))
    .addOption(numberOption('--batch <b>', 'samples per update', { integer: true, min: 1, defaultText: fromRecipe(recipe.batch, local.batch) }))
    .addOption(numberOption('--lr <lr>', 'learning rate', { above: 0, defaultText: fromRecipe(recipe.lr, local.lr) }))
    .addOption(numberOption('--seed <k>', 'seed of every random draw of the run', { integer: true, defaultText: String(t.seed) }))
    .addOption(choiceOption('--rule <rule>', 'learning rule', ruleNames(), { defaultText: t.rule }))
    .addOption(choiceOption('--encoding <kind>', 'images → spikes: rate (Bernoulli per pixel and step) or events (simulated saccades)', ['rate', 'events'] as const, { defaultText: t.encoding.kind }))
    .addOption(numberOption('--p-max <p>', 'rate encoding: spike probability of a white pixel', { min: 0, max: 1, defaultText: String(t.encoding.pMax) }))
    .addOption(numberOption('--limit-train <n>', 'use the first N training samples', { integer: true, min: 1, defaultText: 'all' }))
    .addOption(numberOption('--limit-test <n>', 'use the first N test samples', { integer: true, min: 1, defaultText: 'all' }))
    .addOption(choiceOption('--optimizer <kind>', 'optimizer', ['adam', 'sgd'] as const, { defaultText: fromRecipe(recipe.optimizer, local.optimizer) }))
    .addOption(numberOption('--clip <c>', 'global gradient-norm clip (0 = off)', { min: 0, defaultText: fromRecipe(recipe.clipNorm, local.clipNorm) }))
    .addOption(choiceOption('--surrogate <s>', 'BPTT: surrogate gradient of a sampled spike', ['straight-through', 'pq'] as const, { defaultText: recipe.surrogate }))
    .addOption(numberOption('--logit-scale <s>', 'BPTT: scale of the output logits', { defaultText: String(recipe.logitScale) }))
    .addOption(numberOption('--shards <k>', 'BPTT: cut each batch into K shards run in parallel on spare threads (SQSNN_THREADS); the run depends on K, not on the threads', { integer: true, min: 1, defaultText: '1' }))
    .addOption(stringOption('--neuron <kind>', 'neuron kind of every layer: sqs, sqs-compat, qlif, lif, prob', { defaultText: 'sqs' }))
    .addOption(numberOption('--memory-qubits <m>', 'SQS: memory qubits per neuron', { integer: true, min: 0, defaultText: '1' }))
    .addOption(numberOption('--io-qubits <n>', 'SQS: IO qubits per neuron (the output layer has classes/N neurons)', { integer: true, min: 1, defaultText: '1' }))
    .addOption(stringOption('--ansatz <a>', 'SQS circuit: paper, or heL (hardware-efficient, L layers)', { defaultText: 'paper; he1 when the qubit counts differ from 1 + 1' }))
    .addOption(stringOption('--theta-init <init>', 'initial SQS angles: normal[:STD], uniform[:LOW,HIGH] or authors-local[:mirror]', { defaultText: fromRecipe('normal:0.1', 'uniform') }))
    .addOption(numberOption('--shots <s>', 'local rule: shots per estimated probability (0 = exact)', { integer: true, min: 0, defaultText: String(d.shots) }))
    .addOption(numberOption('--spsa <k>', 'local rule: SPSA perturbations for the synaptic weights (0 = off)', { integer: true, min: 0, defaultText: String(d.spsa) }))
    .addOption(numberOption('--spsa-eps <e>', 'local rule: SPSA perturbation size', { min: 0, defaultText: String(d.spsaEpsilon) }))
    .addOption(numberOption('--target-rate <p>', "local rule: probability that the label's output neuron is told to spike", { min: 0, max: 1, defaultText: String(d.targetRate) }))
    .addOption(numberOption('--off-rate <p>', 'local rule: the same for the other output neurons', { min: 0, max: 1, defaultText: String(d.offRate) }))
    .addOption(choiceOption('--balance <on|off>', 'local rule: weigh spike and silence targets equally', ['on', 'off'] as const, { defaultText: 'on with more than 2 classes' }))
    .addOption(choiceOption('--encoding-gradient <g>', 'local rule: current derivative where the encoding is off', ['exact', 'one-sided'] as const, { defaultText: d.encodingGradient }))
    .addOption(choiceOption('--baseline <b>', "local rule: hidden neurons' baseline", ['running', 'batch'] as const, { defaultText: d.baseline }))
    .addOption(choiceOption('--hidden-signal <s>', "local rule: hidden neurons' learning signal: the shared ℓ_t − b, or per neuron by re-running the outputs with its spike flipped (docs/model.md §6)", ['broadcast', 'flip'] as const, { defaultText: d.hiddenSignal }))
    .addOption(choiceOption('--output-memory <m>', "local rule: what the output neurons' memory follows during training: the targets (teacher forcing) or their own shots, as at inference", ['forced', 'sampled'] as const, { defaultText: `the recipe's (src/recipes.ts): sqs/local ${local.local.outputMemory ?? d.outputMemory}` }))
    .addOption(numberOption('--lr-half-life <steps>', 'the learning rate halves every this many optimizer steps (0 = constant)', { min: 0, defaultText: '0' }))
    .addOption(numberOption('--average-half-life <steps>', 'evaluate and keep an exponential moving average of the weights, halving its memory every this many optimizer steps (0 = off)', { min: 0, defaultText: '0' }))
    .addOption(backendOption())
    .addOption(new Option('--quiet', 'no progress, header or epoch lines on stderr'))
    .addOption(jsonOption('print {metrics, out} as JSON at the end'))
    .action((o: TrainOptions, cmd: Command) => train(o, cmd));
}

export const run = (argv: string[]): Promise<void> => runCommand(trainCommand(), argv);

function resumeConfig(dir: string, epochs: number | undefined): TrainConfig {
  const state = loadCheckpoint(dir).meta.state as { config?: TrainConfig };
  if (!state.config) throw new CheckpointError(`${dir}: checkpoint has no training configuration`);
  return { ...state.config, epochs: epochs ?? state.config.epochs };
}

/** SQS neuron options from --neuron, --memory-qubits, --io-qubits, --ansatz. */
function neuronFromFlags(o: TrainOptions): Record<string, unknown> {
  const neuron: Record<string, unknown> = { neuron: o.neuron ?? 'sqs' };
  if (o.memoryQubits !== undefined) neuron.memoryQubits = o.memoryQubits;
  if (o.ioQubits !== undefined) neuron.ioQubits = o.ioQubits;
  // The paper's circuit has one IO and one memory qubit; other sizes need a general ansatz.
  if ((o.memoryQubits !== undefined || o.ioQubits !== undefined) && !o.ansatz && (o.memoryQubits ?? 1) + (o.ioQubits ?? 1) !== 2)
    neuron.ansatz = { type: 'hardware-efficient', layers: 1 };
  const a = o.ansatz;
  if (a) {
    if (a === 'paper') neuron.ansatz = 'paper';
    else if (/^he(\d+)$/.test(a)) neuron.ansatz = { type: 'hardware-efficient', layers: Number(a.slice(2)) };
    else throw new UsageError(`--ansatz must be paper or heL (hardware-efficient with L layers), got '${a}'`);
  }
  return neuron;
}

/** Defaults ← --config FILE ← flags. The config file may hold any TrainConfig field. */
export function trainConfigFromOptions(o: TrainOptions): TrainConfig {
  const file = o.config ? validate(trainConfigSchema, readJsonInput(o.config, '--config'), o.config) : validate(trainConfigSchema, {}, 'defaults');
  const dataset = o.dataset ?? file.dataset;
  const fileEncoding = file.encoding as Encoding;
  const encName = o.encoding ?? fileEncoding.kind;
  const pMax = o.pMax ?? (fileEncoding.kind === 'rate' ? fileEncoding.pMax : TRAIN_DEFAULTS.encoding.pMax);
  const encoding: Encoding = encName === 'rate' ? { kind: 'rate', pMax } : { kind: 'events' };
  const rule = o.rule ?? file.rule;
  if (!ruleNames().includes(rule)) throw new UsageError(`rule must be ${allowed(ruleNames())}, got '${rule}'`);
  let network = file.network as NetworkConfig | undefined;
  if (!network || o.hidden !== undefined || o.neuron !== undefined) {
    // Sizes come from the dataset; load its header cheaply via a 1-example load.
    const probe = loadDataset(dataset, { limitTrain: 1, limitTest: 1 });
    const neuron = neuronFromFlags(o);
    const outChannels = Number(neuron.ioQubits ?? 1);
    if (probe.classes % outChannels !== 0)
      throw new UsageError(`--io-qubits ${outChannels} does not divide the ${probe.classes} classes of ${dataset} (the output layer has classes/N neurons)`);
    network = layeredNetwork(inputFeatures(probe.height * probe.width, encoding), o.hidden ?? file.hidden, probe.classes / outChannels, neuron);
  }
  validateNetworkConfig(network);
  // Defaults come from the recipe of the network's first neuron kind under this rule (src/recipes.ts).
  const recipe = recipeFor(network.layers[0].neuron, rule);
  const thetaInit = o.thetaInit !== undefined ? parseThetaInit(o.thetaInit) : undefined;
  network = {
    ...network,
    layers: network.layers.map((l) => (hasCircuitAngles(l.neuron) ? { ...l, init: thetaInit ?? l.init ?? recipe.thetaInit } : l)),
  };
  const fileRule = file.ruleConfig ?? {};
  const local: Record<string, unknown> = { ...recipe.local, ...(fileRule.local ?? {}) };
  const localFlags: [keyof TrainOptions, string][] = [['shots', 'shots'], ['spsa', 'spsa'], ['spsaEps', 'spsaEpsilon'], ['targetRate', 'targetRate'], ['offRate', 'offRate'], ['encodingGradient', 'encodingGradient'], ['baseline', 'baseline'], ['hiddenSignal', 'hiddenSignal'], ['outputMemory', 'outputMemory']];
  for (const [flag, field] of localFlags) if (o[flag] !== undefined) local[field] = o[flag];
  if (o.balance !== undefined) local.balance = o.balance === 'on';
  return {
    dataset,
    network,
    steps: o.T ?? file.steps,
    epochs: o.epochs ?? file.epochs,
    batch: o.batch ?? file.batch ?? recipe.batch,
    seed: o.seed ?? file.seed,
    rule,
    encoding,
    ruleConfig: {
      ...fileRule,
      optimizer: {
        ...(fileRule.optimizer ?? {}),
        kind: o.optimizer ?? fileRule.optimizer?.kind ?? recipe.optimizer,
        lr: o.lr ?? fileRule.optimizer?.lr ?? recipe.lr,
        clipNorm: o.clip ?? fileRule.optimizer?.clipNorm ?? recipe.clipNorm,
        ...(o.lrHalfLife !== undefined ? { lrHalfLife: o.lrHalfLife } : {}),
        ...(o.averageHalfLife !== undefined ? { averageHalfLife: o.averageHalfLife } : {}),
      },
      bptt: {
        surrogate: o.surrogate ?? fileRule.bptt?.surrogate ?? recipe.surrogate,
        logitScale: o.logitScale ?? fileRule.bptt?.logitScale ?? recipe.logitScale,
        ...((o.shards ?? fileRule.bptt?.shards) !== undefined ? { shards: o.shards ?? fileRule.bptt?.shards } : {}),
      },
      local,
    },
    limitTrain: o.limitTrain ?? file.limitTrain,
    limitTest: o.limitTest ?? file.limitTest,
    ...(file.evalBatch !== undefined ? { evalBatch: file.evalBatch } : {}),
    ...(file.validation !== undefined ? { validation: file.validation } : {}),
  };
}

function describeNetwork(n: NetworkConfig): string {
  return [String(n.inputs), ...n.layers.map((l) => `${l.size}${l.neuron !== 'sqs' ? `(${l.neuron})` : ''}`)].join('-');
}

/** The hyper-parameters a run uses, in one line (printed at start, so a log says how it was trained). */
export function describeRecipe(cfg: TrainConfig): string {
  const o = cfg.ruleConfig.optimizer;
  const parts = [`${o.kind} lr ${o.lr}`, `batch ${cfg.batch}`];
  if (o.clipNorm) parts.push(`clip ${o.clipNorm}`);
  if (o.lrHalfLife) parts.push(`lr half-life ${o.lrHalfLife} steps`);
  if (o.averageHalfLife) parts.push(`weights averaged, half-life ${o.averageHalfLife} steps`);
  if (cfg.rule === 'bptt') parts.push(`surrogate ${cfg.ruleConfig.bptt.surrogate}`, `logit scale ${cfg.ruleConfig.bptt.logitScale ?? 1}`, ...((cfg.ruleConfig.bptt.shards ?? 1) > 1 ? [`${cfg.ruleConfig.bptt.shards} shards`] : []));
  else if (cfg.rule === 'local') parts.push(`local ${JSON.stringify(cfg.ruleConfig.local ?? {})}`);
  const inits = new Set(cfg.network.layers.filter((l) => l.init).map((l) => describeInit(l.init)));
  if (inits.size) parts.push(`θ init ${[...inits].join(' / ')}`);
  return parts.join(', ');
}

function describeInit(init: unknown): string {
  const r = resolveThetaInit(init);
  if (r.kind === 'normal') return `N(${r.mean}, ${r.std}²)`;
  if (r.kind === 'uniform') return `U[${+r.low.toFixed(4)}, ${+r.high.toFixed(4)})`;
  return `authors-local ±${r.jitter}${r.mirror ? ' mirrored' : ''}`;
}

const epochLine = (m: EpochMetrics) =>
  `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)}, train acc ${(100 * m.trainAccuracy).toFixed(2)}%, test acc ${(100 * m.testAccuracy).toFixed(2)}%, ${m.seconds.toFixed(1)} s (${m.samplesPerSecond.toFixed(0)} samples/s), ${m.parameters} parameters`;

async function train(o: TrainOptions, cmd: Command): Promise<void> {
  const out = o.out;
  if (!out) throw new UsageError('--out DIR is required (checkpoints and metrics.jsonl go there)');
  const exists = hasCheckpoint(out);
  if (exists && !o.resume) throw new CheckpointError(`${out} already holds a checkpoint; pass --resume to continue it, or choose another --out (it is never overwritten)`);
  if (!exists && o.resume) throw new CheckpointError(`--resume: no checkpoint in ${out}`);
  const quiet = Boolean(o.quiet);
  const log = (s: string) => quiet || process.stderr.write(s + '\n');
  // On --resume the saved run defines everything but the number of epochs.
  const cfg = o.resume ? resumeConfig(out, o.epochs) : trainConfigFromOptions(o);
  if (o.resume) {
    const ignored = givenFlags(cmd).filter((f) => !RESUME_KEEPS.map((k) => `--${k}`).includes(f));
    if (ignored.length) log(`note: resuming ${out} with its saved configuration; ignoring ${ignored.join(' ')}`);
  }
  validateNetworkConfig(cfg.network);
  const backend = await initBackend(o.backend);
  const given = givenFlags(cmd, TUNING);
  log(`sqsnn train: ${cfg.dataset} (${cfg.encoding.kind}${cfg.encoding.kind === 'rate' ? `, p_max ${cfg.encoding.pMax}` : ''}), network ${describeNetwork(cfg.network)}, rule ${cfg.rule}, T ${cfg.steps}, seed ${cfg.seed}, backend ${backend.backend}`);
  log(`recipe: ${describeRecipe(cfg)} (defaults: ${recipeFor(cfg.network.layers[0].neuron, cfg.rule).source} in src/recipes.ts; given: ${given.length ? given.join(' ') : 'none'})`);
  const lock = lockRunFolder(out, 'sqsnn train');
  const interrupts = watchInterrupts((signal) => trainInterruptLine(signal, out), lock.release);
  const progress = batchProgress(quiet);
  let res;
  try {
    res = await trainRun(cfg, {
      checkpointDir: out,
      resume: o.resume,
      signal: interrupts.signal,
      onBatch: (p) => progress.draw(p),
      onEpoch: (m) => log(epochLine(m)),
    });
  } finally {
    progress.end();
    interrupts.stop();
    lock.release();
  }
  if (res.aborted) {
    res.network.dispose();
    interrupts.throwIfInterrupted();
  }
  const last = res.metrics[res.metrics.length - 1];
  if (o.json) process.stdout.write(JSON.stringify({ metrics: res.metrics, out }) + '\n');
  else if (last) process.stdout.write(`test accuracy ${(100 * last.testAccuracy).toFixed(2)}% after ${last.epoch} epoch(s); checkpoint in ${out}\n`);
  res.network.dispose();
}

