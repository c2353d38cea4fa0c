/**
 * `sqsnn bench <name>`: throughput benchmarks.
 *
 *   sqsnn bench neuron [--batch B --neurons H --T T --memory-qubits M --io-qubits N --backend X
 *                       --mode fused|composed|auto --reps R --warmup W --inputs mixed|spikes|continuous
 *                       --uniforms seed|tensor --no-baseline --generic] [--json]
 *   sqsnn bench neuron --scan [--max-memory-qubits 10 --max-seconds 5 --no-largest] [--json]
 */
import { bool, checkKnown, num, parseArgs, Parsed, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { runLocalBench } from '../../bench/local';
import { StepCounts } from '../../bench/step-counts';
import { TrainBenchResult, runTrainBench } from '../../bench/train';
import { BenchInputs, BenchMode, LargestRegister, NeuronBenchResult, runMemoryScan, runNeuronBench, ScanRow } from '../../bench/neuron';

const NEURON_FLAGS = [
  'batch', 'neurons', 'T', 'memory-qubits', 'io-qubits', 'backend', 'mode', 'reps', 'warmup', 'inputs', 'uniforms',
  'no-baseline', 'json', 'scan', 'max-memory-qubits', 'max-seconds', 'no-largest', 'largest-batch', 'seed', 'generic',
];
const BOOLEAN_FLAGS = ['json', 'scan', 'no-baseline', 'no-largest', 'generic'];

const SUBCOMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<void> }> = {
  neuron: { summary: 'neuron-steps per second of one SQS step (fused kernel vs composed ops); --scan over N_M', run: benchNeuron },
  train: { summary: 'BPTT training samples/s, 784-1000-10, T=5, batch 256, rate-coded Fashion-MNIST-shaped inputs; composed autodiff as baseline', run: benchTrain },
  local: { summary: 'training samples/s of the local rule on the paper network (256-2-2 + skip, T=10, mnist-1v7-16, 500 samples)', run: benchLocal },
};

function usage(): string {
  const rows = Object.entries(SUBCOMMANDS).map(([k, v]) => `  ${k.padEnd(10)} ${v.summary}`);
  const neuron = [
    '',
    'sqsnn bench neuron [--batch 256 --neurons 1000 --T 5 --memory-qubits 1 --io-qubits 1 --backend cpu|wasm|tensorflow',
    '                    --mode fused|composed|auto --reps 7 --warmup 2 --inputs mixed|spikes|continuous',
    '                    --uniforms seed|tensor --no-baseline --seed 1 --generic] [--json]',
    '                    --generic: also time the fused kernel with its general loop only (no unrolled N = 1 loops)',
    'sqsnn bench neuron --scan [--max-memory-qubits 10 --max-seconds 5 --no-largest --largest-batch 1] [--json]',
    'sqsnn bench train [--backend cpu|wasm|tensorflow --batch 256 --hidden 1000 --T 5 --reps 4 --warmup 1 --lr 5e-4 --seed 1',
    '                   --no-baseline --counts --generic] [--json]',
    '                   --generic: also time the fused path with the general loops only (no unrolled D = 4 loops)',
  ];
  return `usage: sqsnn bench <benchmark> [options]\n\nbenchmarks:\n${rows.join('\n')}\n${neuron.join('\n')}`;
}

export async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name) throw new UsageError('name a benchmark: ' + Object.keys(SUBCOMMANDS).join(', ') + ' (sqsnn bench --help)');
  if (name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) throw new UsageError(`unknown benchmark '${name}'; known: ${Object.keys(SUBCOMMANDS).join(', ')}`);
  await sub.run(rest);
}

function choice<T extends string>(p: Parsed, name: string, options: readonly T[], fallback: T): T {
  const v = str(p, name, fallback) as string;
  if (!options.includes(v as T)) throw new UsageError(`--${name} must be one of ${options.join(', ')}, got '${v}'`);
  return v as T;
}

const fmtRate = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : `${x.toFixed(1)}  `);

async function benchNeuron(argv: string[]): Promise<void> {
  const p = parseArgs(argv, BOOLEAN_FLAGS);
  checkKnown(p, NEURON_FLAGS);
  if (p.positional.length) throw new UsageError(`unexpected argument(s): ${p.positional.join(' ')}`);
  const json = bool(p, 'json');
  const backend = str(p, 'backend');
  if (bool(p, 'scan')) {
    const maxM = num(p, 'max-memory-qubits', 10, { integer: true, min: 1, max: 23 }) as number;
    const say = (s: string) => {
      if (!json) process.stdout.write(s + '\n');
    };
    say('N = 1; N_M scan: composed ops (dense unitary or gate by gate, as preferDense picks) vs the fused kernel');
    say(' N_M     D  neurons  batch  composed path   ms/step  neuron-steps/s |  fused ms/step  neuron-steps/s  ×composed');
    const res = await runMemoryScan({
      backend,
      batch: num(p, 'batch', 256, { integer: true, min: 1 }),
      T: num(p, 'T', 5, { integer: true, min: 1 }),
      neurons: num(p, 'neurons', 1000, { integer: true, min: 1 }),
      reps: num(p, 'reps', 3, { integer: true, min: 1 }),
      maxMemoryQubits: maxM,
      maxSeconds: num(p, 'max-seconds', 5, { min: 0 }),
      largest: !bool(p, 'no-largest'),
      largestBatch: num(p, 'largest-batch', 1, { integer: true, min: 1 }),
      onRow: (r: ScanRow) =>
        say(
          `${String(r.memoryQubits).padStart(4)} ${String(r.dim).padStart(5)} ${String(r.neurons).padStart(8)} ${String(r.batch).padStart(6)}  ` +
            `${r.composed.path.padEnd(15)} ${r.composed.msPerStep.toFixed(2).padStart(8)} ${fmtRate(r.composed.neuronStepsPerSecond).padStart(15)} | ` +
            (r.fused
              ? `${r.fused.msPerStep.toFixed(2).padStart(14)} ${fmtRate(r.fused.neuronStepsPerSecond).padStart(15)} ${(r.speedup as number).toFixed(1).padStart(9)}×`
              : `${'—'.padStart(14)} ${'(D > 64)'.padStart(15)}`),
        ),
      onLargest: (t) => {
        if (t.memoryQubits === 1) say('\nlargest register: one neuron, gate by gate, batch ' + (num(p, 'largest-batch', 1) as number));
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
    batch: num(p, 'batch', 256, { integer: true, min: 1 }),
    neurons: num(p, 'neurons', 1000, { integer: true, min: 1 }),
    T: num(p, 'T', 5, { integer: true, min: 1 }),
    memoryQubits: num(p, 'memory-qubits', 1, { integer: true, min: 0, max: 23 }),
    ioQubits: num(p, 'io-qubits', 1, { integer: true, min: 1, max: 23 }),
    backend,
    mode: choice<BenchMode>(p, 'mode', ['fused', 'composed', 'auto'], 'auto'),
    reps: num(p, 'reps', 7, { integer: true, min: 1 }),
    warmup: num(p, 'warmup', 2, { integer: true, min: 0 }),
    inputs: choice<BenchInputs>(p, 'inputs', ['mixed', 'spikes', 'continuous'], 'mixed'),
    uniforms: choice(p, 'uniforms', ['seed', 'tensor'] as const, 'seed'),
    baseline: !bool(p, 'no-baseline'),
    seed: num(p, 'seed', 1, { integer: true }),
    generic: bool(p, 'generic'),
  }).catch((e) => {
    // Configuration errors are the user's, not bugs.
    if (/fused kernel does not run/.test((e as Error).message)) throw new UsageError((e as Error).message);
    throw e;
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
      (r.path === 'fused' ? `  (threads ${r.threads}, uniforms: ${r.uniforms === 'seed' ? 'in-kernel seeded hash' : 'tf.randomUniform tensor'})` : ''),
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
  lines.push(
    `  median of ${r.runsMs.length} runs of T steps (warm-up excluded); random draws included; tf.randomUniform [${r.neurons}, ${r.batch}] alone: ${r.randomUniformMs.toFixed(2)} ms` +
      (Number.isFinite(r.unitaryMs) ? `; unitary build (once per forward pass, not counted): ${r.unitaryMs.toFixed(1)} ms` : ''),
  );
  lines.push(`  machine: ${r.cores} cores, 1-min load average ${r.loadAverage.toFixed(2)} at the start (other processes share the cores: compare ratios)`);
  return lines.join('\n');
}

const LOCAL_FLAGS = ['batch', 'epochs', 'samples', 'T', 'lr', 'seed', 'shots', 'spsa', 'spsa-eps', 'baseline-samples', 'backend', 'json'];

/** `sqsnn bench local [--batch B --spsa K --shots S ...] [--json]`. */
async function benchLocal(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['json']);
  checkKnown(p, LOCAL_FLAGS);
  const rep = await initBackend(str(p, 'backend'));
  const local: Record<string, number> = {};
  const spsa = num(p, 'spsa', 0, { integer: true, min: 0 }) as number;
  if (spsa) local.spsa = spsa;
  const shots = num(p, 'shots', 0, { integer: true, min: 0 }) as number;
  if (shots) local.shots = shots;
  const eps = num(p, 'spsa-eps', undefined, { min: 0 });
  if (eps !== undefined) local.spsaEpsilon = eps;
  const r = runLocalBench({
    batch: num(p, 'batch', 100, { integer: true, min: 1 }),
    epochs: num(p, 'epochs', 3, { integer: true, min: 1 }),
    samples: num(p, 'samples', 500, { integer: true, min: 1 }),
    steps: num(p, 'T', 10, { integer: true, min: 1 }),
    lr: num(p, 'lr', 0.02, { min: 0 }),
    seed: num(p, 'seed', 1, { integer: true }),
    baselineSamples: num(p, 'baseline-samples', 50, { integer: true, min: 0 }),
    local,
  });
  if (bool(p, 'json')) {
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

const TRAIN_FLAGS = ['backend', 'batch', 'hidden', 'T', 'reps', 'warmup', 'lr', 'seed', 'no-baseline', 'counts', 'json', 'generic'];

/** `sqsnn bench train [--backend B] [--counts] [--json]`. */
async function benchTrain(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['json', 'no-baseline', 'counts', 'generic']);
  checkKnown(p, TRAIN_FLAGS);
  if (p.positional.length) throw new UsageError(`unexpected argument(s): ${p.positional.join(' ')}`);
  await initBackend(str(p, 'backend'));
  const r = await runTrainBench({
    batch: num(p, 'batch', 256, { integer: true, min: 1 }),
    hidden: num(p, 'hidden', 1000, { integer: true, min: 1 }),
    steps: num(p, 'T', 5, { integer: true, min: 1 }),
    reps: num(p, 'reps', 4, { integer: true, min: 1 }),
    warmup: num(p, 'warmup', 1, { integer: true, min: 0 }),
    lr: num(p, 'lr', 5e-4, { min: 0 }),
    seed: num(p, 'seed', 1, { integer: true }),
    baseline: !bool(p, 'no-baseline'),
    counts: bool(p, 'counts'),
    generic: bool(p, 'generic'),
  });
  if (bool(p, 'json')) {
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
