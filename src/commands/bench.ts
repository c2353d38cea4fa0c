/**
 * `sqsnn bench neuron|train|local`: throughput benchmarks, each a commander subcommand with its own
 * --help (every flag, its meaning and default; docs/cli.md).
 */
import { Command, Option } from 'commander';
import { backendOption, choiceOption, jsonOption, numberOption, runCommand, UsageError } from '../cli/options';
import { initBackend } from '../backend';
import { runDensityScan } from '../../bench/density-scan';
import { runLocalBench } from '../../bench/local';
import { StepCounts } from '../../bench/step-counts';
import { TrainBenchResult, runTrainBench } from '../../bench/train';
import { BenchInputs, BenchMode, LargestRegister, NeuronBenchResult, runMemoryScan, runNeuronBench, ScanRow } from '../../bench/neuron';

export function benchCommand(): Command {
  return new Command('bench')
    .description('throughput benchmarks: bench neuron, bench train, bench local')
    .addCommand(benchNeuronCommand())
    .addCommand(benchTrainCommand())
    .addCommand(benchLocalCommand());
}

export const run = (argv: string[]): Promise<void> => runCommand(benchCommand(), argv);

interface NeuronOptions {
  batch: number;
  neurons: number;
  T: number;
  memoryQubits: number;
  ioQubits: number;
  backend?: string;
  mode: BenchMode;
  reps?: number;
  warmup: number;
  inputs: BenchInputs;
  uniforms: 'seed' | 'tensor';
  baseline: boolean;
  seed: number;
  json?: boolean;
  scan?: boolean;
  density?: boolean;
  maxMemoryQubits: number;
  maxSeconds: number;
  largest: boolean;
  largestBatch: number;
  generic?: boolean;
  scalar?: boolean;
}

function benchNeuronCommand(): Command {
  return new Command('neuron')
    .description('neuron-steps per second of one SQS step (fused kernel vs composed ops); --scan over N_M')
    .addOption(numberOption('--batch <b>', 'samples per step', { integer: true, min: 1, default: 256 }))
    .addOption(numberOption('--neurons <h>', 'neurons in the layer', { integer: true, min: 1, default: 1000 }))
    .addOption(numberOption('--T <t>', 'time steps per run', { integer: true, min: 1, default: 5 }))
    .addOption(numberOption('--memory-qubits <m>', 'memory qubits N_M per neuron', { integer: true, min: 0, max: 23, default: 1 }))
    .addOption(numberOption('--io-qubits <n>', 'IO qubits N per neuron', { integer: true, min: 1, max: 23, default: 1 }))
    .addOption(backendOption())
    .addOption(choiceOption('--mode <mode>', 'the step to time: the fused kernel, the composed tfjs ops, or what the layer picks', ['fused', 'composed', 'auto'] as const, { default: 'auto' }))
    .addOption(numberOption('--reps <r>', 'timed runs (the median is reported)', { integer: true, min: 1, defaultText: '7; 3 with --scan' }))
    .addOption(numberOption('--warmup <w>', 'untimed runs first', { integer: true, min: 0, default: 2 }))
    .addOption(choiceOption('--inputs <kind>', 'input currents: spikes, continuous values, or a mix', ['mixed', 'spikes', 'continuous'] as const, { default: 'mixed' }))
    .addOption(choiceOption('--uniforms <source>', 'random draws of the fused kernel: an in-kernel seeded hash or a tf.randomUniform tensor', ['seed', 'tensor'] as const, { default: 'seed' }))
    .addOption(new Option('--no-baseline', 'skip the composed-ops baseline in the same process'))
    .addOption(numberOption('--seed <k>', 'seed of inputs and draws', { integer: true, default: 1 }))
    .addOption(new Option('--scan', 'time N = 1 neurons for N_M = 1, 2, … (composed vs fused), then the largest register one neuron can run'))
    .addOption(numberOption('--max-memory-qubits <m>', 'with --scan: the largest N_M', { integer: true, min: 1, max: 23, default: 10 }))
    .addOption(numberOption('--max-seconds <s>', 'with --scan: stop growing the register when a step takes longer', { min: 0, default: 5 }))
    .addOption(new Option('--density', 'with --scan: time the density-matrix mode (ρ gate by gate, as for likelihoods and noise) instead of the statevector'))
    .addOption(new Option('--no-largest', 'with --scan: skip the largest-register search'))
    .addOption(numberOption('--largest-batch <b>', 'with --scan: batch of the largest-register search', { integer: true, min: 1, default: 1 }))
    .addOption(new Option('--generic', 'also time the fused kernel with its general loop only (no unrolled N = 1 loops), as a ratio'))
    .addOption(new Option('--scalar', 'also time the fused kernel with its scalar JS loop (no WebAssembly SIMD; the paper neuron), as a ratio'))
    .addOption(jsonOption())
    .action(benchNeuron);
}

const fmtRate = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : `${x.toFixed(1)}  `);

async function densityScan(o: NeuronOptions): Promise<void> {
  const json = Boolean(o.json);
  const say = (s: string) => {
    if (!json) process.stdout.write(s + '\n');
  };
  say('N = 1; N_M scan, density-matrix mode (ρ [R, D, D, B], gate by gate), sampled outcomes');
  say(' N_M     D  neurons  batch    ms/step  neuron-steps/s');
  const res = await runDensityScan({
    backend: o.backend,
    batch: o.batch,
    T: o.T,
    neurons: o.neurons,
    reps: o.reps ?? 3,
    maxMemoryQubits: Math.min(o.maxMemoryQubits, 6),
    maxSeconds: o.maxSeconds,
    largest: o.largest,
    onRow: (r) =>
      say(`${String(r.memoryQubits).padStart(4)} ${String(r.dim).padStart(5)} ${String(r.neurons).padStart(8)} ${String(r.batch).padStart(6)} ${r.msPerStep.toFixed(2).padStart(10)} ${fmtRate(r.neuronStepsPerSecond).padStart(15)}`),
    onLargest: (t) => {
      if (t.memoryQubits === 1) say('\nlargest density register: one neuron, batch 1');
      say(`  N_M = ${String(t.memoryQubits).padStart(2)} (${t.memoryQubits + 1} qubits): ${t.seconds !== undefined ? t.seconds.toFixed(3) + ' s/step' : 'stopped: ' + t.stopped}`);
    },
  });
  if (json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    say(`backend: ${res.backend}; ${res.cores} cores, 1-min load average ${res.loadAverage.toFixed(2)} at the start`);
    if (res.largest) say(`largest density register within ${o.maxSeconds} s/step: ${res.largest.totalQubits} qubits (${res.largest.seconds.toFixed(2)} s); stopped: ${res.largest.stoppedBecause}`);
  }
}

async function benchNeuron(o: NeuronOptions): Promise<void> {
  const json = Boolean(o.json);
  const backend = o.backend;
  if (o.scan && o.density) return densityScan(o);
  if (o.scan) {
    const maxM = o.maxMemoryQubits;
    const say = (s: string) => {
      if (!json) process.stdout.write(s + '\n');
    };
    say('N = 1; N_M scan: composed ops (dense unitary or gate by gate, as preferDense picks) vs the fused kernel');
    say(' N_M     D  neurons  batch  composed path   ms/step  neuron-steps/s |  fused ms/step  neuron-steps/s  ×composed');
    const res = await runMemoryScan({
      backend,
      batch: o.batch,
      T: o.T,
      neurons: o.neurons,
      reps: o.reps ?? 3,
      maxMemoryQubits: maxM,
      maxSeconds: o.maxSeconds,
      largest: o.largest,
      largestBatch: o.largestBatch,
      onRow: (r: ScanRow) =>
        say(
          `${String(r.memoryQubits).padStart(4)} ${String(r.dim).padStart(5)} ${String(r.neurons).padStart(8)} ${String(r.batch).padStart(6)}  ` +
            `${r.composed.path.padEnd(15)} ${r.composed.msPerStep.toFixed(2).padStart(8)} ${fmtRate(r.composed.neuronStepsPerSecond).padStart(15)} | ` +
            (r.fused
              ? `${r.fused.msPerStep.toFixed(2).padStart(14)} ${fmtRate(r.fused.neuronStepsPerSecond).padStart(15)} ${(r.speedup as number).toFixed(1).padStart(9)}×`
              : `${'—'.padStart(14)} ${'(D > 64)'.padStart(15)}`),
        ),
      onLargest: (t) => {
        if (t.memoryQubits === 1) say('\nlargest register: one neuron, gate by gate, batch ' + o.largestBatch);
        say(`  N_M = ${String(t.memoryQubits).padStart(2)} (${t.memoryQubits + 1} qubits): ${t.seconds !== undefined ? t.seconds.toFixed(3) + ' s/step' : 'stopped: ' + t.stopped}`);
      },
    });
    if (json) process.stdout.write(JSON.stringify(res) + '\n');
    else {
      say(`backend: ${res.backend}; ${res.cores} cores, 1-min load average ${res.loadAverage.toFixed(2)} at the start`);
      if (res.largest) say(largestLine(res.largest));
    }
    return;
  }
  const res = await runNeuronBench({
    batch: o.batch,
    neurons: o.neurons,
    T: o.T,
    memoryQubits: o.memoryQubits,
    ioQubits: o.ioQubits,
    backend,
    mode: o.mode,
    reps: o.reps ?? 7,
    warmup: o.warmup,
    inputs: o.inputs,
    uniforms: o.uniforms,
    baseline: o.baseline,
    seed: o.seed,
    generic: o.generic,
    scalar: o.scalar,
  });
  if (json) {
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  process.stdout.write(neuronReport(res) + '\n');
}

function largestLine(l: LargestRegister): string {
  return l.memoryQubits > 0
    ? `largest register run: N_M = ${l.memoryQubits} (${l.totalQubits} qubits, D = 2^${l.totalQubits}), ${l.seconds.toFixed(2)} s per step; stopped because ${l.stoppedBecause}`
    : `no register ran: ${l.stoppedBecause}`;
}

export function neuronReport(r: NeuronBenchResult): string {
  const lines = [
    `SQS neuron step, backend ${r.backend}: N = ${r.ioQubits}, N_M = ${r.memoryQubits} (D = ${r.dim}, ${r.circuit}), ` +
      `${r.neurons} neurons × ${r.batch} samples × T = ${r.T}, inputs ${r.inputs}`,
    `  ${r.path.padEnd(15)} ${fmtRate(r.neuronStepsPerSecond).padStart(9)} neuron-steps/s  ${r.msPerStep.toFixed(2).padStart(8)} ms/step` +
      (r.path === 'fused' ? `  (threads ${r.threads}, ${r.simd ? 'WebAssembly SIMD, ' : ''}uniforms: ${r.uniforms === 'seed' ? 'in-kernel seeded hash' : 'tf.randomUniform tensor'})` : ''),
  ];
  if (r.baseline)
    lines.push(
      `  ${r.baseline.path.padEnd(15)} ${fmtRate(r.baseline.neuronStepsPerSecond).padStart(9)} neuron-steps/s  ${r.baseline.msPerStep.toFixed(2).padStart(8)} ms/step  (baseline, same process)`,
      `  speedup ×${(r.speedup as number).toFixed(1)} over the composed ops`,
    );
  if (r.generic)
    lines.push(
      `  ${'fused, generic'.padEnd(15)} ${fmtRate(r.generic.neuronStepsPerSecond).padStart(9)} neuron-steps/s  ${r.generic.msPerStep.toFixed(2).padStart(8)} ms/step  (general loop only, same process)`,
      `  the unrolled loop is ×${(r.specialisedGain as number).toFixed(2)} the general one`,
    );
  if (r.scalar)
    lines.push(
      `  ${'fused, scalar'.padEnd(15)} ${fmtRate(r.scalar.neuronStepsPerSecond).padStart(9)} neuron-steps/s  ${r.scalar.msPerStep.toFixed(2).padStart(8)} ms/step  (JS loop, no SIMD, same process)`,
      `  the fused path is ×${(r.simdGain as number).toFixed(2)} its scalar JS loop`,
    );
  lines.push(
    `  median of ${r.runsMs.length} runs of T steps (warm-up excluded); random draws included; tf.randomUniform [${r.neurons}, ${r.batch}] alone: ${r.randomUniformMs.toFixed(2)} ms` +
      (Number.isFinite(r.unitaryMs) ? `; unitary build (once per forward pass, not counted): ${r.unitaryMs.toFixed(1)} ms` : ''),
  );
  lines.push(`  machine: ${r.cores} cores, 1-min load average ${r.loadAverage.toFixed(2)} at the start (other processes share the cores: compare ratios)`);
  return lines.join('\n');
}

interface LocalOptions {
  batch: number;
  epochs: number;
  samples: number;
  T: number;
  lr: number;
  seed: number;
  shots: number;
  spsa: number;
  spsaEps?: number;
  baselineSamples: number;
  backend?: string;
  json?: boolean;
}

function benchLocalCommand(): Command {
  return new Command('local')
    .description('training samples/s of the local rule on the paper network (256-2-2 + skip, T=10, mnist-1v7-16, 500 samples)')
    .addOption(numberOption('--batch <b>', 'samples per update', { integer: true, min: 1, default: 100 }))
    .addOption(numberOption('--epochs <e>', 'epochs timed, after 10 untimed warm-up epochs', { integer: true, min: 1, default: 20 }))
    .addOption(numberOption('--samples <n>', 'training samples', { integer: true, min: 1, default: 500 }))
    .addOption(numberOption('--T <t>', 'time steps per sample', { integer: true, min: 1, default: 10 }))
    .addOption(numberOption('--lr <lr>', 'learning rate', { above: 0, default: 0.02 }))
    .addOption(numberOption('--seed <k>', 'seed of the run', { integer: true, default: 1 }))
    .addOption(numberOption('--shots <s>', 'estimate probabilities from S shots (0 = exact)', { integer: true, min: 0, default: 0 }))
    .addOption(numberOption('--spsa <k>', 'SPSA eligibilities with K perturbations (0 = parameter shifts)', { integer: true, min: 0, default: 0 }))
    .addOption(numberOption('--spsa-eps <e>', 'SPSA perturbation size', { min: 0, defaultText: "the local rule's" }))
    .addOption(numberOption('--baseline-samples <n>', 'samples of the one-sample-at-a-time baseline (0 = skip it)', { integer: true, min: 0, default: 50 }))
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(benchLocal);
}

/** `sqsnn bench local [--batch B --spsa K --shots S ...] [--json]`. */
async function benchLocal(o: LocalOptions): Promise<void> {
  const rep = await initBackend(o.backend);
  const local: Record<string, number> = {};
  const spsa = o.spsa;
  if (spsa) local.spsa = spsa;
  const shots = o.shots;
  if (shots) local.shots = shots;
  if (o.spsaEps !== undefined) local.spsaEpsilon = o.spsaEps;
  const r = runLocalBench({
    batch: o.batch,
    epochs: o.epochs,
    samples: o.samples,
    steps: o.T,
    lr: o.lr,
    seed: o.seed,
    baselineSamples: o.baselineSamples,
    local,
  });
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const lines = [
    `local rule, paper network 256-2-2 (+skip), T = ${r.config.steps}, mnist-1v7-16, ${r.config.samples} training samples, batch ${r.batch}, backend ${rep.backend}${spsa ? `, SPSA ${spsa}` : ''}${shots ? `, ${shots} shots` : ''}`,
    `  ${r.samplesPerSecond.toFixed(0)} training samples/s; epochs ${r.epochSeconds.map((s) => s.toFixed(2) + ' s').join(', ')}`,
    `  test accuracy per epoch: ${r.testAccuracy.map((a) => (100 * a).toFixed(2) + ' %').join(', ')}`,
  ];
  if (r.baselineSamplesPerSecond)
    lines.push(`  baseline, same rule one sample at a time: ${r.baselineSamplesPerSecond.toFixed(1)} samples/s → ×${(r.speedup as number).toFixed(0)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

interface TrainOptions {
  backend?: string;
  batch: number;
  hidden: number;
  T: number;
  reps: number;
  warmup: number;
  lr: number;
  seed: number;
  baseline: boolean;
  counts?: boolean;
  generic?: boolean;
  shards: number;
  json?: boolean;
}

function benchTrainCommand(): Command {
  return new Command('train')
    .description('BPTT training samples/s, 784-1000-10, T=5, batch 256, rate-coded Fashion-MNIST-shaped inputs; composed autodiff as baseline')
    .addOption(backendOption())
    .addOption(numberOption('--batch <b>', 'samples per training step', { integer: true, min: 1, default: 256 }))
    .addOption(numberOption('--hidden <h>', 'hidden SQS neurons', { integer: true, min: 1, default: 1000 }))
    .addOption(numberOption('--T <t>', 'time steps per sample', { integer: true, min: 1, default: 5 }))
    .addOption(numberOption('--reps <r>', 'timed steps (the median is reported)', { integer: true, min: 1, default: 4 }))
    .addOption(numberOption('--warmup <w>', 'untimed steps first', { integer: true, min: 0, default: 1 }))
    .addOption(numberOption('--lr <lr>', 'Adam learning rate', { above: 0, default: 5e-4 }))
    .addOption(numberOption('--seed <k>', 'seed of the weights and inputs', { integer: true, default: 1 }))
    .addOption(new Option('--no-baseline', 'skip the composed-autodiff baseline in the same process'))
    .addOption(new Option('--counts', 'also count kernel launches and host syncs per step (BPTT and the local rule)'))
    .addOption(new Option('--generic', 'also time the fused path with the general loops only (no unrolled D = 4 loops), as a ratio'))
    .addOption(numberOption('--shards <k>', 'data-parallel BPTT: shards per batch, run on spare threads (SQSNN_THREADS)', { integer: true, min: 1, default: 1 }))
    .addOption(jsonOption())
    .action(benchTrain);
}

/** `sqsnn bench train [--backend B] [--counts] [--json]`. */
async function benchTrain(o: TrainOptions): Promise<void> {
  await initBackend(o.backend);
  const r = await runTrainBench({
    batch: o.batch,
    hidden: o.hidden,
    steps: o.T,
    reps: o.reps,
    warmup: o.warmup,
    lr: o.lr,
    seed: o.seed,
    baseline: o.baseline,
    counts: Boolean(o.counts),
    generic: o.generic,
    shards: o.shards,
  });
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  process.stdout.write(trainReport(r) + '\n');
}

function countsLine(what: string, c: StepCounts): string {
  const top = c.byKernel.slice(0, 6).map(([k, n]) => `${k} ${n}`).join(', ');
  const tfOps = c.tensorflowOps !== undefined ? ` (${c.tensorflowOps} TensorFlow ops, ${c.uploads} host→device tensors)` : '';
  return `  ${what}: ${c.launches} kernel launches${tfOps}, ${c.syncs} host syncs per step; most launched: ${top}`;
}

export function trainReport(r: TrainBenchResult): string {
  const row = (t: { path: string; samplesPerSecond: number; msPerStep: number }, note: string) =>
    `  ${t.path.padEnd(11)} ${t.samplesPerSecond.toFixed(0).padStart(7)} samples/s  ${t.msPerStep.toFixed(1).padStart(8)} ms/step  ${note}`;
  const lines = [
    `BPTT training, backend ${r.backend}: ${r.network}, T = ${r.T}, batch ${r.batch}, rate-coded synthetic Fashion-MNIST-shaped inputs (${(100 * r.inputDensity).toFixed(1)} % ones)`,
    row(r, `→ a 60,000-sample epoch in ${r.epochSeconds.toFixed(0)} s`),
  ];
  if (r.baseline) lines.push(row(r.baseline, '(baseline: composed autodiff, same process)'), `  speedup ×${(r.speedup as number).toFixed(2)} over composed autodiff`);
  if (r.generic) lines.push(row({ ...r.generic, path: 'generic' }, '(fused, general loops only, same process)'), `  the unrolled loops are ×${(r.specialisedGain as number).toFixed(2)} the general ones`);
  if (!r.baseline && r.path === 'composed') lines.push('  (the composed-autodiff path is the only path on this backend: it is the baseline)');
  lines.push(`  median of ${r.stepsMs.length} timed steps (warm-up excluded); each step encodes its batch, runs forward + backward over T, applies Adam`);
  if (r.counts) lines.push('composed path, counts per training step:', countsLine(`BPTT (${r.network}, T = ${r.T}, batch ${r.batch})`, r.counts.bptt), countsLine('local rule (256-2-2 + skip, T = 10, batch 100)', r.counts.local));
  lines.push(`  machine: ${r.cores} cores, 1-min load average ${r.loadAverage.toFixed(2)} at the start (other processes share the cores: compare ratios)`);
  return lines.join('\n');
}
