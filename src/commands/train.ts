import { bool, checkKnown, list, num, parseArgs, Parsed, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { Encoding, inputFeatures } from '../inputs';
import { ruleNames } from '../learn/registry';
import { NetworkConfig, validateNetworkConfig } from '../network';
import { readJsonInput } from '../spec';
import { trainConfigSchema, validate } from '../schemas';
import { CheckpointError, hasCheckpoint, loadCheckpoint } from '../checkpoint';
import { TrainConfig, layeredNetwork, trainRun } from '../train';
import { parseThetaInit, resolveThetaInit } from '../neurons/init';
import { hasCircuitAngles, recipeFor } from '../recipes';
import { exitOnInterrupt, trainInterruptLine } from '../interrupt';
import { lockRunFolder } from '../run-folder';

function resumeConfig(dir: string, epochs: number | undefined): TrainConfig {
  const state = loadCheckpoint(dir).meta.state as { config?: TrainConfig; epoch?: number };
  if (!state.config) throw new CheckpointError(`${dir}: checkpoint has no training configuration`);
  return { ...state.config, epochs: epochs ?? state.config.epochs };
}

export const TRAIN_FLAGS = [
  'dataset', 'hidden', 'T', 'epochs', 'batch', 'lr', 'seed', 'rule', 'backend', 'out', 'limit-train', 'limit-test',
  'resume', 'config', 'p-max', 'encoding', 'surrogate', 'clip', 'logit-scale', 'neuron', 'memory-qubits', 'io-qubits',
  'ansatz', 'quiet', 'json', 'optimizer', 'shots', 'spsa', 'spsa-eps', 'target-rate', 'off-rate', 'balance', 'theta-init',
  'encoding-gradient', 'baseline',
];

/** Defaults ← --config FILE ← flags. The config file may hold any TrainConfig field. */
export function trainConfigFromArgs(p: Parsed): TrainConfig {
  const file = str(p, 'config');
  const fromFile = (file ? validate(trainConfigSchema, readJsonInput(file, '--config'), file) : {}) as Partial<TrainConfig> & { hidden?: number[] };
  const dataset = str(p, 'dataset') ?? fromFile.dataset ?? 'mnist';
  const encName = str(p, 'encoding') ?? fromFile.encoding?.kind ?? 'rate';
  if (encName !== 'rate' && encName !== 'events') throw new UsageError(`--encoding must be rate or events, got '${encName}'`);
  const encoding: Encoding = encName === 'rate' ? { kind: 'rate', pMax: num(p, 'p-max', (fromFile.encoding as { pMax?: number })?.pMax ?? 0.5, { min: 0 }) as number } : { kind: 'events' };
  const rule = str(p, 'rule') ?? fromFile.rule ?? 'bptt';
  if (!ruleNames().includes(rule)) throw new UsageError(`--rule must be one of ${ruleNames().join(', ')}, got '${rule}'`);
  const hiddenFlag = str(p, 'hidden');
  const hidden = list(p, 'hidden', (e) => (/^\d+$/.test(e) && Number(e) >= 1 ? Number(e) : undefined), 'comma-separated layer sizes (integers ≥ 1)') ?? fromFile.hidden ?? [64];
  let network: NetworkConfig | undefined = fromFile.network;
  if (!network || hiddenFlag !== undefined || str(p, 'neuron')) {
    // Sizes come from the dataset; load its header cheaply via a 1-example load.
    const probe = loadDataset(dataset, { limitTrain: 1, limitTest: 1 });
    const neuron: Record<string, unknown> = { neuron: str(p, 'neuron') ?? 'sqs' };
    const mq = num(p, 'memory-qubits', undefined, { integer: true, min: 0 });
    if (mq !== undefined) neuron.memoryQubits = mq;
    const io = num(p, 'io-qubits', undefined, { integer: true, min: 1 });
    if (io !== undefined) neuron.ioQubits = io;
    if ((mq !== undefined || io !== undefined) && !str(p, 'ansatz') && (mq ?? 1) + (io ?? 1) !== 2)
      neuron.ansatz = { type: 'hardware-efficient', layers: 1 };
    const ansatz = str(p, 'ansatz');
    if (ansatz) neuron.ansatz = ansatz === 'paper' ? 'paper' : /^he(\d+)$/.test(ansatz) ? { type: 'hardware-efficient', layers: Number(ansatz.slice(2)) } : (() => { throw new UsageError(`--ansatz must be paper or heL (hardware-efficient with L layers), got '${ansatz}'`); })();
    const outChannels = Number(neuron.ioQubits ?? 1);
    if (probe.classes % outChannels !== 0)
      throw new UsageError(`--io-qubits ${outChannels} does not divide the ${probe.classes} classes of ${dataset} (the output layer has classes/N neurons)`);
    network = layeredNetwork(inputFeatures(probe.height * probe.width, encoding), hidden, probe.classes / outChannels, neuron);
  }
  validateNetworkConfig(network);
  // Defaults come from the recipe of the network's first neuron kind under this rule (src/recipes.ts).
  const recipe = recipeFor(network.layers[0].neuron, rule);
  const thetaFlag = str(p, 'theta-init');
  const thetaInit = thetaFlag !== undefined ? parseThetaInit(thetaFlag) : undefined;
  network = {
    ...network,
    layers: network.layers.map((l) => (hasCircuitAngles(l.neuron) ? { ...l, init: thetaInit ?? l.init ?? recipe.thetaInit } : l)),
  };
  const lr = num(p, 'lr', fromFile.ruleConfig?.optimizer?.lr ?? recipe.lr) as number;
  if (!(lr > 0)) throw new UsageError(`--lr must be > 0, got ${lr}`);
  const surrogate = (str(p, 'surrogate') ?? fromFile.ruleConfig?.bptt?.surrogate ?? recipe.surrogate) as TrainConfig['ruleConfig']['bptt']['surrogate'];
  if (surrogate !== 'straight-through' && surrogate !== 'pq') throw new UsageError(`--surrogate must be straight-through or pq, got '${surrogate}'`);
  const local = { ...recipe.local, ...((fromFile.ruleConfig?.local as Record<string, unknown>) ?? {}) };
  if (str(p, 'shots') !== undefined) local.shots = num(p, 'shots', 0, { integer: true, min: 0 });
  if (p.flags.spsa !== undefined) local.spsa = num(p, 'spsa', 0, { integer: true, min: 0 });
  if (str(p, 'spsa-eps') !== undefined) local.spsaEpsilon = num(p, 'spsa-eps', 0.05, { min: 0 });
  if (str(p, 'target-rate') !== undefined) local.targetRate = num(p, 'target-rate', 1, { min: 0, max: 1 });
  if (str(p, 'off-rate') !== undefined) local.offRate = num(p, 'off-rate', 0, { min: 0, max: 1 });
  const encodingGradient = str(p, 'encoding-gradient');
  if (encodingGradient !== undefined) {
    if (encodingGradient !== 'exact' && encodingGradient !== 'one-sided') throw new UsageError(`--encoding-gradient must be exact or one-sided, got '${encodingGradient}'`);
    local.encodingGradient = encodingGradient;
  }
  const baseline = str(p, 'baseline');
  if (baseline !== undefined) {
    if (baseline !== 'running' && baseline !== 'batch') throw new UsageError(`--baseline must be running or batch, got '${baseline}'`);
    local.baseline = baseline;
  }
  const balance = str(p, 'balance');
  if (balance !== undefined) {
    if (balance !== 'on' && balance !== 'off') throw new UsageError(`--balance must be on or off, got '${balance}'`);
    local.balance = balance === 'on';
  }
  const cfg: TrainConfig = {
    dataset,
    network,
    steps: num(p, 'T', fromFile.steps ?? 5, { integer: true, min: 1 }) as number,
    epochs: num(p, 'epochs', fromFile.epochs ?? 1, { integer: true, min: 1 }) as number,
    batch: num(p, 'batch', fromFile.batch ?? recipe.batch, { integer: true, min: 1 }) as number,
    seed: num(p, 'seed', fromFile.seed ?? 0, { integer: true }) as number,
    rule,
    encoding,
    ruleConfig: {
      ...(fromFile.ruleConfig ?? {}),
      optimizer: {
        ...(fromFile.ruleConfig?.optimizer ?? {}),
        kind: (str(p, 'optimizer') ?? fromFile.ruleConfig?.optimizer?.kind ?? recipe.optimizer) as 'adam' | 'sgd',
        lr,
        clipNorm: num(p, 'clip', fromFile.ruleConfig?.optimizer?.clipNorm ?? recipe.clipNorm, { min: 0 }),
      },
      bptt: { surrogate, logitScale: num(p, 'logit-scale', fromFile.ruleConfig?.bptt?.logitScale ?? recipe.logitScale) },
      local,
    },
    limitTrain: num(p, 'limit-train', fromFile.limitTrain, { integer: true, min: 1 }),
    limitTest: num(p, 'limit-test', fromFile.limitTest, { integer: true, min: 1 }),
  };
  return cfg;
}

function describeNetwork(n: NetworkConfig): string {
  return [String(n.inputs), ...n.layers.map((l) => `${l.size}${l.neuron !== 'sqs' ? `(${l.neuron})` : ''}`)].join('-');
}

/** The hyper-parameters a run uses, in one line (printed at start, so a log says how it was trained). */
export function describeRecipe(cfg: TrainConfig): string {
  const o = cfg.ruleConfig.optimizer;
  const parts = [`${o.kind} lr ${o.lr}`, `batch ${cfg.batch}`];
  if (o.clipNorm) parts.push(`clip ${o.clipNorm}`);
  if (cfg.rule === 'bptt') parts.push(`surrogate ${cfg.ruleConfig.bptt.surrogate}`, `logit scale ${cfg.ruleConfig.bptt.logitScale ?? 1}`);
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

function givenFlags(p: Parsed): string {
  const tuning = ['lr', 'batch', 'optimizer', 'clip', 'surrogate', 'logit-scale', 'theta-init', 'config', 'shots', 'spsa', 'spsa-eps', 'target-rate', 'off-rate', 'balance', 'encoding-gradient', 'baseline'];
  const given = tuning.filter((k) => p.flags[k] !== undefined).map((k) => '--' + k);
  return given.length ? given.join(' ') : 'none';
}

export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['resume', 'quiet', 'json']);
  checkKnown(p, TRAIN_FLAGS);
  const out = str(p, 'out');
  if (!out) throw new UsageError('--out DIR is required (checkpoints and metrics.jsonl go there)');
  const resuming = bool(p, 'resume') && hasCheckpoint(out);
  // On --resume the saved run defines everything but the number of epochs.
  const cfg = resuming ? resumeConfig(out, num(p, 'epochs', undefined, { integer: true, min: 1 })) : trainConfigFromArgs(p);
  if (resuming) {
    const ignored = Object.keys(p.flags).filter((k) => !['resume', 'out', 'epochs', 'backend', 'quiet', 'json'].includes(k));
    if (ignored.length && !bool(p, 'quiet')) process.stderr.write(`note: resuming ${out} with its saved configuration; ignoring ${ignored.map((k) => '--' + k).join(' ')}\n`);
  }
  validateNetworkConfig(cfg.network);
  const backend = await initBackend(str(p, 'backend'));
  const quiet = bool(p, 'quiet');
  const log = (s: string) => quiet || process.stderr.write(s + '\n');
  log(`sqsnn train: ${cfg.dataset} (${cfg.encoding.kind}${cfg.encoding.kind === 'rate' ? `, p_max ${cfg.encoding.pMax}` : ''}), network ${describeNetwork(cfg.network)}, rule ${cfg.rule}, T ${cfg.steps}, seed ${cfg.seed}, backend ${backend.backend}`);
  log(`recipe: ${describeRecipe(cfg)} (defaults: ${recipeFor(cfg.network.layers[0].neuron, cfg.rule).source} in src/recipes.ts; given: ${givenFlags(p)})`);
  const lock = lockRunFolder(out, 'sqsnn train');
  const stopHandlers = exitOnInterrupt((signal) => trainInterruptLine(signal, out), lock.release);
  let res;
  try {
    res = await trainRun(cfg, out, {
      resume: bool(p, 'resume'),
      quiet,
      onEpoch: (m) => log(`epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)}, train acc ${(100 * m.trainAccuracy).toFixed(2)}%, test acc ${(100 * m.testAccuracy).toFixed(2)}%, ${m.seconds.toFixed(1)} s (${m.samplesPerSecond.toFixed(0)} samples/s), ${m.parameters} parameters`),
    });
  } finally {
    stopHandlers();
    lock.release();
  }
  const last = res.metrics[res.metrics.length - 1];
  if (bool(p, 'json')) process.stdout.write(JSON.stringify({ metrics: res.metrics, out }) + '\n');
  else if (last) process.stdout.write(`test accuracy ${(100 * last.testAccuracy).toFixed(2)}% after ${last.epoch} epoch(s); checkpoint in ${out}\n`);
  res.network.dispose();
}
