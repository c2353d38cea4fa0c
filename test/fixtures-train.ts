/**
 * Shared helpers of the training-stack tests (train, bptt, checkpoint, cli): a tiny separable
 * dataset, tiny training configs, IDX writers, temp folders, file snapshots and in-process CLI
 * runs with captured output. Everything here is deliberately small so the tests stay fast.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Dataset } from '../src/data';
import type { TrainConfig } from '../src/train';

export function makeTmp(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sqsnn-${label}-`));
}

export function removeTmp(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A small deterministic PRNG for building data without touching the engine's Rng. */
import { mulberry32 as prng } from './reference/sim64';
export { prng };

/**
 * A linearly separable image task: class c lights up band c of the image (horizontal bands of
 * equal height) with pixels near 1 and leaves the rest near 0, plus a little noise. Pixels are
 * multiples of 1/255 so the same data written as uint8 IDX reads back exactly.
 */
export function bandDataset(opts: { nTrain: number; nTest: number; h?: number; w?: number; classes?: number; seed?: number; name?: string }): Dataset {
  const h = opts.h ?? 4;
  const w = opts.w ?? 4;
  const classes = opts.classes ?? 2;
  const rand = prng(opts.seed ?? 7);
  const P = h * w;
  const make = (n: number, offset: number) => {
    const images = new Float32Array(n * P);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = (i + offset) % classes;
      labels[i] = c;
      for (let y = 0; y < h; y++) {
        const band = Math.min(classes - 1, Math.floor((y * classes) / h));
        for (let x = 0; x < w; x++) {
          const v = band === c ? 0.85 + 0.15 * rand() : 0.1 * rand();
          images[i * P + y * w + x] = Math.round(v * 255) / 255;
        }
      }
    }
    return { images, labels };
  };
  const tr = make(opts.nTrain, 0);
  const te = make(opts.nTest, 0);
  return {
    name: opts.name ?? 'bands', height: h, width: w, classes, source: 'test fixture',
    trainImages: tr.images, trainLabels: tr.labels, nTrain: opts.nTrain,
    testImages: te.images, testLabels: te.labels, nTest: opts.nTest,
  };
}

/** A tiny BPTT training config for `inputs` features and `classes` outputs. */
export function tinyConfig(over: Partial<TrainConfig> & { hidden?: number[]; inputs?: number; classes?: number } = {}): TrainConfig {
  const { hidden = [4], inputs = 16, classes = 2, ...rest } = over;
  const layers = [...hidden, classes].map((size) => ({ neuron: 'sqs', size }));
  return {
    dataset: 'bands',
    network: { inputs, layers },
    steps: 3,
    epochs: 2,
    batch: 8,
    seed: 3,
    rule: 'bptt',
    encoding: { kind: 'rate', pMax: 0.5 },
    ruleConfig: { optimizer: { kind: 'adam', lr: 0.05 }, bptt: { surrogate: 'straight-through' } },
    ...rest,
  };
}

/** IDX bytes (uint8 data) built by hand: 00 00 08 ndims, big-endian dims, data. */
export function idxBytes(dims: number[], values: ArrayLike<number>): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Array.from(values))]);
}

export const IDX_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Writes a Dataset (pixels multiples of 1/255) as the four standard MNIST-format IDX files. */
export function writeIdxDataset(dir: string, ds: Dataset): void {
  fs.mkdirSync(dir, { recursive: true });
  const px = (a: Float32Array) => Array.from(a, (v) => Math.round(v * 255));
  fs.writeFileSync(path.join(dir, IDX_NAMES.trainImages), idxBytes([ds.nTrain, ds.height, ds.width], px(ds.trainImages)));
  fs.writeFileSync(path.join(dir, IDX_NAMES.trainLabels), idxBytes([ds.nTrain], ds.trainLabels));
  fs.writeFileSync(path.join(dir, IDX_NAMES.testImages), idxBytes([ds.nTest, ds.height, ds.width], px(ds.testImages)));
  fs.writeFileSync(path.join(dir, IDX_NAMES.testLabels), idxBytes([ds.nTest], ds.testLabels));
}

/** sha256 of every file in a folder (non-recursive), by name: "was anything touched?" checks. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sqsnn ARGV` in-process through `main`, with stdout and stderr captured. */
export async function runCli(argv: string[]): Promise<CliResult> {
  const { main } = await import('../src/cli');
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  }) as never);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  }) as never);
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Float32 copies of every named variable (for bitwise comparisons after disposal). */
export function copyVars(vars: Record<string, { dataSync(): ArrayLike<number> }>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = Float32Array.from(v.dataSync());
  return out;
}

/** Largest absolute difference over two sets of named arrays with the same names. */
export function maxDiffNamed(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let m = 0;
  for (const k of Object.keys(a)) {
    expect(a[k].length).toBe(b[k].length);
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  }
  return m;
}

/** The weights file the checkpoint in `dir` points to (full path). */
export function weightsFileOf(dir: string): string {
  return path.join(dir, JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).weightsFile);
}

/** The files of a checkpoint folder with the weights file's name generalised to `weights-*.bin`. */
export function checkpointListing(dir: string): string[] {
  return fs.readdirSync(dir).map((f) => (/^weights-.*\.bin$/.test(f) ? 'weights-*.bin' : f)).sort();
}
