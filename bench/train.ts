/**
 * `sqsnn bench train`: BPTT training throughput (samples/s) of the paper neuron on a
 * Fashion-MNIST-sized network, 784-1000-10, T = 5, batch 256, Adam, straight-through surrogate.
 * Inputs are rate-coded (p_max 0.5) synthetic images shaped like Fashion-MNIST: 28×28, about 60 %
 * dark pixels, so ~15 % of the input spikes are ones, as on the real data. Every timed step encodes
 * its batch, runs forward and backward through all T steps, and applies the update, as `train` does.
 *
 * The baseline, timed in the same process, is the composed-autodiff path (option fusedGrad off): the
 * tfjs ops a GPU runs. On a GPU build of `tensorflow` that is the only path, so the main figure is the
 * baseline; tfjs-node (host memory) runs the fused kernels too (option fusedOnTensorflow).
 */
import * as os from 'os';
import { fusedGradSupported, withSqsStepOptions } from '../kernels/sqs-step';
import { tf } from '../kernels/tf';
import { rateEncode } from '../src/data';
import { bpttStep } from '../src/learn/bptt';
import { createRule } from '../src/learn/registry';
import { Optimizer } from '../src/learn/optimizer';
import { Network, NetworkConfig } from '../src/network';
import { SqsLayer } from '../src/neurons/sqs';
import { Rng } from '../src/random';
import { layeredNetwork } from '../src/train';
import { PAPER_LOCAL_NETWORK } from './local';
import { StepCounts, countStep } from './step-counts';

export interface TrainBenchOptions {
  batch?: number;
  hidden?: number;
  steps?: number;
  /** Timed training steps (batches) and untimed warm-up steps. */
  reps?: number;
  warmup?: number;
  lr?: number;
  seed?: number;
  /** Also time the composed-autodiff path when the main path is the fused one (default true). */
  baseline?: boolean;
  /** Also count kernel launches and host syncs of one BPTT step and one local-rule step. */
  counts?: boolean;
  /** Also time the fused path with the general loops only (no unrolled D = 4 loops), in this process. */
  generic?: boolean;
  /** Data-parallel BPTT: shards per batch (src/learn/shards.ts), run on spare threads; default 1. */
  shards?: number;
}

export interface TrainTiming {
  path: 'fused-grad' | 'composed';
  samplesPerSecond: number;
  msPerStep: number;
  /** Wall time of every timed step, ms. */
  stepsMs: number[];
}

export interface TrainBenchResult extends TrainTiming {
  backend: string;
  network: string;
  batch: number;
  T: number;
  /** Fraction of input spikes that are ones. */
  inputDensity: number;
  /** Seconds for a 60,000-sample epoch at this rate. */
  epochSeconds: number;
  baseline?: TrainTiming;
  speedup?: number;
  /** The fused path with the general loops only (`generic`), and main / generic throughput. */
  generic?: TrainTiming;
  specialisedGain?: number;
  counts?: { bptt: StepCounts; local: StepCounts };
  cores: number;
  loadAverage: number;
}

const PIXELS = 28 * 28;
const CLASSES = 10;
const DARK_FRACTION = 0.6;

/** `n` synthetic 28×28 images: a pixel is dark with probability 0.6, else uniform in (0, 1). */
export function syntheticImages(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n * PIXELS);
  for (let i = 0; i < out.length; i++) out[i] = rng.next() < DARK_FRACTION ? 0 : rng.next();
  return out;
}

export function benchNetwork(hidden: number): NetworkConfig {
  return layeredNetwork(PIXELS, [hidden], CLASSES);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** A BPTT training loop over synthetic batches; `step()` trains on the next batch. */
export function bpttTrainer(o: Required<Pick<TrainBenchOptions, 'batch' | 'hidden' | 'steps' | 'lr' | 'seed'>> & { shards?: number }) {
  const net = new Network(benchNetwork(o.hidden), o.seed);
  const opt = new Optimizer(net.namedVariables(), { kind: 'adam', lr: o.lr });
  const rng = new Rng(`${o.seed}/bench-train`);
  const images = syntheticImages(o.batch, rng);
  const labels = tf.tensor1d(Int32Array.from({ length: o.batch }, () => Math.floor(rng.next() * CLASSES)), 'int32');
  return {
    net,
    step(): void {
      const x = rateEncode(images, o.batch, PIXELS, o.steps, 0.5, rng);
      bpttStep(net, opt, x, labels, rng, { surrogate: 'straight-through', shards: o.shards ?? 1 });
      x.dispose();
    },
    /** Fraction of ones in an encoding of the batch (its own random stream: the run is unchanged). */
    density(): number {
      const x = rateEncode(images, o.batch, PIXELS, o.steps, 0.5, new Rng(`${o.seed}/bench-train/density`));
      const d = tf.tidy(() => tf.mean(x).dataSync()[0]);
      x.dispose();
      return d;
    },
    dispose(): void {
      labels.dispose();
      opt.dispose();
      net.dispose();
    },
  };
}

/** Run `f` with the fused gradient kernels (and host kernels on tensorflow) switched off when `composed`. */
async function onPath<R>(composed: boolean, f: () => R | Promise<R>): Promise<R> {
  return withSqsStepOptions(composed ? { fusedGrad: false, fusedOnTensorflow: false } : {}, async () => f());
}

function timePath(o: Required<TrainBenchOptions>, path: TrainTiming['path']): Promise<TrainTiming & { density: number }> {
  return onPath(path === 'composed', () => {
    const trainer = bpttTrainer(o);
    try {
      for (let i = 0; i < o.warmup; i++) trainer.step();
      const stepsMs: number[] = [];
      for (let i = 0; i < o.reps; i++) {
        const t0 = process.hrtime.bigint();
        trainer.step();
        stepsMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const msPerStep = median(stepsMs);
      return { path, samplesPerSecond: (1000 * o.batch) / msPerStep, msPerStep, stepsMs, density: trainer.density() };
    } finally {
      trainer.dispose();
    }
  });
}

/**
 * Launches and syncs of one BPTT step (this benchmark's network, or `hidden` smaller) and of one
 * local-rule step (the paper's local network, T = 10, batch 100), both on the composed path.
 */
export function trainingStepCounts(opts: { hidden?: number; batch?: number; steps?: number; seed?: number } = {}): Promise<{ bptt: StepCounts; local: StepCounts }> {
  const seed = opts.seed ?? 1;
  return onPath(true, async () => {
    const trainer = bpttTrainer({ batch: opts.batch ?? 256, hidden: opts.hidden ?? 1000, steps: opts.steps ?? 5, lr: 5e-4, seed });
    trainer.step(); // first-call set-up (kernel registration, shape caches) is not a per-step cost
    const bptt = await countStep(() => trainer.step());
    trainer.dispose();

    const net = new Network(PAPER_LOCAL_NETWORK, seed);
    const rule = createRule('local', net, { optimizer: { kind: 'adam', lr: 0.02 }, bptt: { surrogate: 'straight-through' } });
    const rng = new Rng(`${seed}/bench-local-counts`);
    const b = 100;
    const images = new Float32Array(b * 256).map(() => rng.next());
    const labels = tf.tensor1d(Int32Array.from({ length: b }, () => Math.floor(rng.next() * 2)), 'int32');
    const localStep = () => {
      const x = rateEncode(images, b, 256, 10, 0.5, rng);
      rule.trainBatch(x, labels, rng);
      x.dispose();
    };
    localStep();
    const local = await countStep(localStep);
    labels.dispose();
    rule.dispose();
    net.dispose();
    return { bptt, local };
  });
}

export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const o: Required<TrainBenchOptions> = {
    batch: opts.batch ?? 256,
    hidden: opts.hidden ?? 1000,
    steps: opts.steps ?? 5,
    reps: opts.reps ?? 4,
    warmup: opts.warmup ?? 1,
    lr: opts.lr ?? 5e-4,
    seed: opts.seed ?? 1,
    baseline: opts.baseline ?? true,
    counts: opts.counts ?? false,
    generic: opts.generic ?? false,
    shards: opts.shards ?? 1,
  };
  const loadAverage = os.loadavg()[0];
  const probe = new SqsLayer({ size: 1 });
  const fused = fusedGradSupported(probe.circuit);
  probe.dispose();
  const main = await timePath(o, fused ? 'fused-grad' : 'composed');
  const { density, ...timing } = main;
  const res: TrainBenchResult = {
    ...timing,
    backend: tf.getBackend(),
    network: `${PIXELS}-${o.hidden}-${CLASSES}`,
    batch: o.batch,
    T: o.steps,
    inputDensity: density,
    epochSeconds: 60000 / main.samplesPerSecond,
    cores: os.cpus().length,
    loadAverage,
  };
  if (fused && o.baseline) {
    const { density: _unused, ...base } = await timePath(o, 'composed');
    res.baseline = base;
    res.speedup = main.samplesPerSecond / base.samplesPerSecond;
  }
  if (fused && o.generic) {
    const { density: _unused, ...generic } = await withSqsStepOptions({ specialise: false }, () => timePath(o, 'fused-grad'));
    res.generic = generic;
    res.specialisedGain = main.samplesPerSecond / generic.samplesPerSecond;
  }
  if (o.counts) res.counts = await trainingStepCounts({ hidden: o.hidden, batch: o.batch, steps: o.steps, seed: o.seed });
  return res;
}
