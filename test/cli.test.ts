/**
 * `sqsnn train` and `sqsnn eval` end to end, in-process through `main(argv)` with stdout/stderr
 * captured: training on tiny IDX files written here (`--dataset idx:DIR`), eval's JSON output,
 * resume, and bad input — every user error is exit code 2 with one line on stderr naming the file
 * or flag and the problem, and an existing checkpoint is never modified by a failed run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { setupBackend } from './helpers';
import { buildProgram } from '../src/cli';
import { optionDefault } from '../src/cli/options';
import { packageVersion } from '../src/paths';
import { CHECKPOINT_FILE, loadCheckpoint } from '../src/checkpoint';
import type { TrainConfig } from '../src/train';
import { CliResult, IDX_NAMES, bandDataset, idxBytes, makeTmp, removeTmp, runCli, snapshot, weightsFileOf, writeIdxDataset } from './fixtures-train';

let root: string;
let idxDir: string;
let trained: string; // a finished 1-epoch run, shared by the eval tests and the refusal tests
let n = 0;
const DS = bandDataset({ nTrain: 24, nTest: 14, seed: 3 });
const BASE = ['--hidden', '4', '--T', '3', '--batch', '8', '--lr', '0.05', '--seed', '2', '--quiet'];

function fresh(label = 'x'): string {
  return path.join(root, `${label}${n++}`);
}

/** A copy of the good IDX folder, to be damaged by a test. */
function idxCopy(): string {
  const d = fresh('idx');
  fs.cpSync(idxDir, d, { recursive: true });
  return d;
}

function expectUserError(r: CliResult, cmd: string, ...parts: (string | RegExp)[]): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  // One line: the command, then the message; no stack trace.
  expect(r.stderr).toMatch(new RegExp(`^sqsnn ${cmd}: [^\\n]+\\n$`));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(r.stderr).toMatch(typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
}

beforeAll(async () => {
  await setupBackend();
  root = makeTmp('cli');
  idxDir = path.join(root, 'idx');
  writeIdxDataset(idxDir, DS);
  trained = path.join(root, 'trained');
  const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '1', '--out', trained]);
  if (r.code !== 0) throw new Error(`set-up training run failed: ${r.stderr}`);
});
afterAll(() => removeTmp(root));

describe('sqsnn train --dataset idx:DIR', () => {
  test('trains, prints the final accuracy, and writes a checkpoint whose config records the IDX dataset', async () => {
    const out = fresh('run');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(''); // --quiet
    expect(r.stdout).toMatch(new RegExp(`^test accuracy \\d+\\.\\d\\d% after 2 epoch\\(s\\); checkpoint in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
    const state = loadCheckpoint(out).meta.state as { config: TrainConfig; epoch: number };
    expect(state.epoch).toBe(2);
    expect(state.config.dataset).toBe(`idx:${idxDir}`);
    expect(state.config.network.inputs).toBe(16);
    expect(state.config.network.layers.map((l) => l.size)).toEqual([4, 2]);
    expect([state.config.steps, state.config.batch, state.config.seed, state.config.ruleConfig.optimizer.lr]).toEqual([3, 8, 2, 0.05]);
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  test('--json prints the metrics; without --quiet stderr has the run header and one line per epoch', async () => {
    const out = fresh('run');
    const args = BASE.filter((a) => a !== '--quiet');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...args, '--epochs', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.out).toBe(out);
    expect(j.metrics).toHaveLength(1);
    expect(Object.keys(j.metrics[0]).sort()).toEqual(['epoch', 'parameters', 'samplesPerSecond', 'seconds', 'testAccuracy', 'trainAccuracy', 'trainLoss']);
    expect(r.stderr).toMatch(/^sqsnn train: idx:.*network 16-4-2, rule bptt, T 3, seed 2/);
    expect(r.stderr).toMatch(/\nrecipe: adam lr 0\.05, batch 8, .*θ init N\(0, 0\.1²\) \(defaults: sqs\/bptt in src\/recipes\.ts; given: --lr --batch\)/);
    expect(r.stderr).toMatch(/\nepoch 1: train loss \d+\.\d+, train acc [\d.]+%, test acc [\d.]+%/);
  });

  test('gzip-compressed IDX files work the same', async () => {
    const d = fresh('idxgz');
    fs.mkdirSync(d);
    const zlib = await import('zlib');
    for (const f of Object.values(IDX_NAMES)) fs.writeFileSync(path.join(d, `${f}.gz`), zlib.gzipSync(fs.readFileSync(path.join(idxDir, f))));
    const a = fresh('run');
    const b = fresh('run');
    expect((await runCli(['train', '--dataset', `idx:${d}`, ...BASE, '--epochs', '1', '--out', a])).code).toBe(0);
    expect((await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '1', '--out', b])).code).toBe(0);
    expect(fs.readFileSync(weightsFileOf(a))).toEqual(fs.readFileSync(weightsFileOf(b)));
  });

  test('--resume continues a run to more epochs', async () => {
    const out = fresh('run');
    fs.cpSync(trained, out, { recursive: true });
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', out, '--resume']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/after 2 epoch\(s\)/);
    expect((loadCheckpoint(out).meta.state as { epoch: number }).epoch).toBe(2);
    // The first epoch's line is kept as it was.
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(fs.readFileSync(path.join(trained, 'metrics.jsonl'), 'utf8').trim());
    expect(lines).toHaveLength(2);
  });

  test('--surrogate pq trains (regression: the p(1−p) surrogate used to crash in the backward pass)', async () => {
    const out = fresh('out');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--surrogate', 'pq', '--epochs', '1', '--out', out]);
    expect(r.code).toBe(0);
    expect((loadCheckpoint(out).meta.state as { config: TrainConfig }).config.ruleConfig.bptt.surrogate).toBe('pq');
  });

  test("--rule local: the output memory follows the outputs' own shots by the recipe; --output-memory forced restores teacher forcing", async () => {
    const outputMemoryOf = async (extra: string[]) => {
      const out = fresh('out');
      const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--rule', 'local', '--epochs', '1', '--out', out, ...extra]);
      expect(r.code).toBe(0);
      return (loadCheckpoint(out).meta.state as { config: TrainConfig }).config.ruleConfig.local?.outputMemory;
    };
    expect(await outputMemoryOf([])).toBe('sampled');
    expect(await outputMemoryOf(['--output-memory', 'forced'])).toBe('forced');
  });

  test('a --config file can give the whole network', async () => {
    const cfgFile = path.join(fresh('cfg') + '.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ dataset: `idx:${idxDir}`, network: { inputs: 16, layers: [{ neuron: 'sqs', size: 2 }] }, steps: 2, epochs: 1, batch: 12 }));
    const out = fresh('run');
    const r = await runCli(['train', '--config', cfgFile, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const cfg = (loadCheckpoint(out).meta.state as { config: TrainConfig }).config;
    expect(cfg.network.layers.map((l) => l.size)).toEqual([2]);
    expect([cfg.steps, cfg.batch]).toEqual([2, 12]);
  });
});

describe('sqsnn eval', () => {
  test('--json: {accuracy, confusion} with confusion rows summing to the test counts per class', async () => {
    const r = await runCli(['eval', '--checkpoint', trained, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toEqual(expect.objectContaining({ accuracy: expect.any(Number), confusion: expect.any(Array), split: 'test', samples: DS.nTest, dataset: `idx:${idxDir}` }));
    expect(j.confusion).toHaveLength(2);
    for (const row of j.confusion) expect(row).toHaveLength(2);
    const perClass = [0, 1].map((c) => Array.from(DS.testLabels).filter((l) => l === c).length);
    expect(j.confusion.map((row: number[]) => row.reduce((a, b) => a + b, 0))).toEqual(perClass);
    expect(j.accuracy).toBeCloseTo((j.confusion[0][0] + j.confusion[1][1]) / DS.nTest, 12);
    // The same evaluation as the one recorded at the end of training.
    const last = JSON.parse(fs.readFileSync(path.join(trained, 'metrics.jsonl'), 'utf8').trim().split('\n').pop() as string);
    expect(j.accuracy).toBe(last.testAccuracy);
  });

  test('--split train and --limit-test; the text output has the accuracy and the confusion table', async () => {
    const tr = JSON.parse((await runCli(['eval', '--checkpoint', trained, '--json', '--split', 'train'])).stdout);
    expect(tr.samples).toBe(DS.nTrain);
    expect(tr.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(DS.nTrain);
    const lim = JSON.parse((await runCli(['eval', '--checkpoint', trained, '--json', '--limit-test', '6'])).stdout);
    expect(lim.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(6);
    const txt = await runCli(['eval', '--checkpoint', trained]);
    expect(txt.code).toBe(0);
    expect(txt.stdout).toMatch(/^accuracy \d+\.\d\d% on idx:.* test \(14 samples\)\nconfusion \(rows: true, columns: predicted\)\n\s+0 \|.*\n\s+1 \|.*\n$/);
  });

  test('bad input: one line, exit 2', async () => {
    expectUserError(await runCli(['eval', '--json']), 'eval', '--checkpoint DIR is required');
    const empty = fresh('empty');
    fs.mkdirSync(empty);
    expectUserError(await runCli(['eval', '--checkpoint', empty]), 'eval', empty, /no checkpoint/);
    expectUserError(await runCli(['eval', '--checkpoint', trained, '--split', 'validation']), 'eval', /--split must be test or train/);
    // A dataset with another number of classes, or another image size, than the checkpoint's network.
    const three = fresh('idx3');
    writeIdxDataset(three, bandDataset({ nTrain: 6, nTest: 6, classes: 3 }));
    expectUserError(await runCli(['eval', '--checkpoint', trained, '--dataset', `idx:${three}`]), 'eval', /2 outputs but .* has 3 classes/);
    const big = fresh('idx5');
    writeIdxDataset(big, bandDataset({ nTrain: 4, nTest: 4, h: 5, w: 5 }));
    expectUserError(await runCli(['eval', '--checkpoint', trained, '--dataset', `idx:${big}`]), 'eval', /16 input features, got 25/);
  });

  test('a corrupt weights file: one line naming it; nothing is modified', async () => {
    const dir = fresh('corrupt');
    fs.cpSync(trained, dir, { recursive: true });
    const w = weightsFileOf(dir);
    const b = fs.readFileSync(w);
    b[0] ^= 1;
    fs.writeFileSync(w, b);
    const before = snapshot(dir);
    expectUserError(await runCli(['eval', '--checkpoint', dir]), 'eval', w, /corrupt/);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('sqsnn train: bad data files (exit 2, one line naming the file and the problem, nothing written)', () => {
  async function expectDataFailure(dataset: string, ...parts: (string | RegExp)[]): Promise<void> {
    const out = fresh('out');
    expectUserError(await runCli(['train', '--dataset', dataset, ...BASE, '--epochs', '1', '--out', out]), 'train', ...parts);
    expect(fs.existsSync(out)).toBe(false);
  }

  test('unknown dataset name', async () => {
    await expectDataFailure('cifar-10', "unknown dataset 'cifar-10'", 'mnist', 'idx:DIR');
    // N-MNIST event folders are read by loadNMnist but are not a training dataset name.
    await expectDataFailure(`nmnist:${idxDir}`, /unknown dataset 'nmnist:/);
    await expectDataFailure('idx:', /needs a folder/);
  });

  test('a missing folder and a missing file', async () => {
    const nowhere = path.join(root, 'does-not-exist');
    await expectDataFailure(`idx:${nowhere}`, nowhere, /not found/);
    const d = idxCopy();
    fs.rmSync(path.join(d, IDX_NAMES.testLabels));
    await expectDataFailure(`idx:${d}`, path.join(d, IDX_NAMES.testLabels), /not found/);
  });

  test('a truncated images file', async () => {
    const d = idxCopy();
    const f = path.join(d, IDX_NAMES.trainImages);
    fs.truncateSync(f, fs.statSync(f).size - 5);
    await expectDataFailure(`idx:${d}`, f, /truncated/);
    fs.truncateSync(f, 6); // inside the header
    await expectDataFailure(`idx:${d}`, f, /truncated/);
  });

  test('a wrong magic number', async () => {
    const d = idxCopy();
    const f = path.join(d, IDX_NAMES.testImages);
    const b = fs.readFileSync(f);
    b[0] = 0x42;
    fs.writeFileSync(f, b);
    await expectDataFailure(`idx:${d}`, f, /wrong magic number 42 00 08 03/);
  });

  test('label count ≠ image count', async () => {
    const d = idxCopy();
    const f = path.join(d, IDX_NAMES.trainLabels);
    fs.writeFileSync(f, idxBytes([DS.nTrain - 1], DS.trainLabels.subarray(1)));
    await expectDataFailure(`idx:${d}`, f, `label count ${DS.nTrain - 1} ≠ image count ${DS.nTrain}`, path.join(d, IDX_NAMES.trainImages));
  });

  test('train and test images of different sizes', async () => {
    const d = idxCopy();
    const other = bandDataset({ nTrain: 2, nTest: 3, h: 5, w: 5 });
    fs.writeFileSync(path.join(d, IDX_NAMES.testImages), idxBytes([3, 5, 5], Array.from(other.testImages, (v) => Math.round(v * 255))));
    fs.writeFileSync(path.join(d, IDX_NAMES.testLabels), idxBytes([3], other.testLabels));
    await expectDataFailure(`idx:${d}`, path.join(d, IDX_NAMES.testImages), /5×5/, /4×4/);
  });
});

describe('sqsnn train: bad flags and impossible configs (exit 2, one line, nothing written)', () => {
  const IDX = () => ['--dataset', `idx:${idxDir}`];
  async function expectFlagFailure(args: string[], ...parts: (string | RegExp)[]): Promise<void> {
    const out = fresh('out');
    expectUserError(await runCli(['train', ...args, '--quiet', '--out', out]), 'train', ...parts);
    expect(fs.existsSync(out)).toBe(false);
  }

  test('missing --out', async () => {
    expectUserError(await runCli(['train', ...IDX(), ...BASE]), 'train', '--out DIR is required');
  });

  test('--hidden 0 and other malformed layer sizes', async () => {
    await expectFlagFailure([...IDX(), '--hidden', '0'], /--hidden must be comma-separated layer sizes .*got '0'/);
    await expectFlagFailure([...IDX(), '--hidden', '4,,2'], /--hidden .*got '4,,2' \(element 2 is empty\)/);
    await expectFlagFailure([...IDX(), '--hidden', '4,-2'], /--hidden must be/);
    await expectFlagFailure([...IDX(), '--hidden', '4,x'], /--hidden must be/);
    await expectFlagFailure([...IDX(), '--hidden', '2.5'], /--hidden must be/);
  });

  test('impossible numbers', async () => {
    await expectFlagFailure([...IDX(), '--T', '0'], /--T must be ≥ 1, got 0/);
    await expectFlagFailure([...IDX(), '--epochs', '0'], /--epochs must be ≥ 1/);
    await expectFlagFailure([...IDX(), '--batch', '0'], /--batch must be ≥ 1/);
    await expectFlagFailure([...IDX(), '--batch', '1.5'], /--batch must be an integer/);
    await expectFlagFailure([...IDX(), '--lr', '-0.1'], /--lr must be > 0/);
    await expectFlagFailure([...IDX(), '--lr', 'fast'], /--lr must be a number, got 'fast'/);
    await expectFlagFailure([...IDX(), '--limit-train', '0'], /--limit-train must be ≥ 1/);
  });

  test('unknown or malformed options', async () => {
    await expectFlagFailure([...IDX(), '--hiden', '4'], /unknown option --hiden \(did you mean --hidden\?\); see sqsnn train --help/);
    await expectFlagFailure([...IDX(), '--rule', 'magic'], /--rule must be .*bptt.*, got 'magic'/);
    await expectFlagFailure([...IDX(), '--surrogate', 'sigmoid'], /--surrogate must be straight-through or pq/);
    await expectFlagFailure([...IDX(), '--encoding', 'latency'], /--encoding must be rate or events/);
    await expectFlagFailure([...IDX(), '--neuron', 'banana'], /unknown neuron kind 'banana'/);
    await expectFlagFailure([...IDX(), '--ansatz', 'fancy'], /--ansatz must be paper or heL/);
    await expectFlagFailure([...IDX(), '--memory-qubits', '2', '--ansatz', 'paper'], /paper ansatz has ioQubits = 1 and memoryQubits = 1/);
    await expectFlagFailure([...IDX(), '--backend', 'quantum'], /unknown backend 'quantum'/);
  });

  test('a --config file with impossible sizes, or that is missing or not JSON', async () => {
    const write = (obj: unknown) => {
      const f = fresh('cfg') + '.json';
      fs.writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
      return f;
    };
    const ds = `idx:${idxDir}`;
    await expectFlagFailure(['--config', write({ dataset: ds, network: { inputs: 16, layers: [{ neuron: 'sqs', size: 0 }, { neuron: 'sqs', size: 2 }] } })], /network\.layers\[0\]\.size: must be ≥ 1/);
    await expectFlagFailure(['--config', write({ dataset: ds, network: { inputs: 16, layers: [{ neuron: 'sqs', size: 3 }] } })], /output layer has 3 outputs but .* has 2 classes/);
    await expectFlagFailure(['--config', write({ dataset: ds, network: { inputs: 20, layers: [{ neuron: 'sqs', size: 2 }] } })], /network has 20 inputs but .* gives 16/);
    await expectFlagFailure(['--config', write({ dataset: ds, hidden: [0] })], /hidden\[0\]: must be ≥ 1/);
    await expectFlagFailure(['--config', write({ dataset: ds, hidden: [4], steps: 0 })], /steps: must be ≥ 1/);
    await expectFlagFailure(['--config', write({ dataset: ds, hidden: [4], batch: -3 })], /batch: must be ≥ 1/);
    await expectFlagFailure(['--config', write({ dataset: ds, hidden: [4], epochz: 3 })], /epochz: unknown key/);
    const bad = write('{"dataset": ');
    await expectFlagFailure(['--config', bad], bad, /not valid JSON/);
    const missing = path.join(root, 'no-such-config.json');
    await expectFlagFailure(['--config', missing], missing, /no such file/);
  });
});

describe('sqsnn train: an existing checkpoint is never overwritten by a refused or failed run', () => {
  function copyTrained(): { dir: string; before: Record<string, string> } {
    const dir = fresh('keep');
    fs.cpSync(trained, dir, { recursive: true });
    return { dir, before: snapshot(dir) };
  }

  test('without --resume: refused, naming the directory', async () => {
    const { dir, before } = copyTrained();
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', dir]);
    expectUserError(r, 'train', dir, /already holds a checkpoint/, /--resume/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('--resume with corrupt weights: names the file; the files are left exactly as found', async () => {
    const { dir } = copyTrained();
    const w = weightsFileOf(dir);
    const b = fs.readFileSync(w);
    b[b.length >> 1] ^= 0x80;
    fs.writeFileSync(w, b);
    const before = snapshot(dir);
    expectUserError(await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', dir, '--resume']), 'train', w, /corrupt/, /checksum/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('--resume with a corrupt checkpoint.json: names it; nothing changes', async () => {
    const { dir } = copyTrained();
    const f = path.join(dir, CHECKPOINT_FILE);
    fs.writeFileSync(f, '{"format": "sqsnn-checkpoint", "vers');
    const before = snapshot(dir);
    expectUserError(await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', dir, '--resume']), 'train', f, /corrupt/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('--resume with a checkpoint of a different network: names the tensor; nothing changes', async () => {
    const { dir } = copyTrained();
    const f = path.join(dir, CHECKPOINT_FILE);
    const meta = JSON.parse(fs.readFileSync(f, 'utf8'));
    meta.tensors = meta.tensors.filter((t: { name: string }) => t.name !== 'layer.1.theta');
    fs.writeFileSync(f, JSON.stringify(meta));
    const before = snapshot(dir);
    expectUserError(await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '2', '--out', dir, '--resume']), 'train', dir, "'layer.1.theta'");
    expect(snapshot(dir)).toEqual(before);
  });

  test('--resume when the run\'s dataset files have gone bad: names the data file; nothing changes', async () => {
    const d = idxCopy();
    const dir = fresh('keep');
    expect((await runCli(['train', '--dataset', `idx:${d}`, ...BASE, '--epochs', '1', '--out', dir])).code).toBe(0);
    const before = snapshot(dir);
    const f = path.join(d, IDX_NAMES.trainImages);
    fs.truncateSync(f, 100);
    expectUserError(await runCli(['train', '--dataset', `idx:${d}`, ...BASE, '--epochs', '2', '--out', dir, '--resume']), 'train', f, /truncated/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('--resume without a checkpoint: refused, nothing created', async () => {
    const dir = fresh('none');
    expectUserError(await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--out', dir, '--resume']), 'train', dir, /no checkpoint/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('sqsnn help, --version, info --json', () => {
  /** Every command path: ['train'], ['bench', 'neuron'], … */
  function commandPaths(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
    return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...commandPaths(c, [...prefix, c.name()])]);
  }

  test('every command and subcommand: --help and -h exit 0 and list each flag with its meaning and default', async () => {
    const paths = commandPaths(buildProgram());
    expect(paths.map((p) => p.path.join(' '))).toEqual(expect.arrayContaining(['train', 'eval', 'bench neuron', 'bench train', 'bench local', 'experiment plan', 'experiment run', 'experiment slurm', 'experiment report', 'info']));
    for (const { path: p, cmd } of paths) {
      const long = await runCli([...p, '--help']);
      expect({ p, code: long.code, stderr: long.stderr }).toEqual({ p, code: 0, stderr: '' });
      expect(long.stdout).toMatch(new RegExp(`^Usage: sqsnn ${p.join(' ')} `));
      const flat = long.stdout.replace(/\s+/g, ' ');
      for (const o of cmd.options) {
        expect(flat).toContain(`${o.flags} ${o.description.replace(/\s+/g, ' ')}`);
        const d = optionDefault(o);
        if (d !== undefined) expect(flat).toContain(`default: ${d}`);
      }
      expect((await runCli([...p, '-h'])).stdout).toBe(long.stdout);
    }
  });

  test('-h among other flags shows help and runs nothing', async () => {
    const out = fresh('help');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, '--out', out, '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: sqsnn train /);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('--version prints the package version; info --json is one JSON object', async () => {
    const v = await runCli(['--version']);
    expect(v).toEqual({ code: 0, stdout: packageVersion() + '\n', stderr: '' });
    const info = await runCli(['info', '--json']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toEqual(expect.objectContaining({ sqsnn: packageVersion(), backend: expect.any(String), node: process.version }));
  });

  test('no command: the usage on stderr and exit 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: sqsnn <command> \[options\]/);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^sqsnn: name a command: train, eval, /);
  });
});

describe('sqsnn dispatch', () => {
  test('unknown command: exit 2, one line with a suggestion and where the help is', async () => {
    const r = await runCli(['trian']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("sqsnn: unknown command 'trian' (did you mean train?); see sqsnn --help\n");
  });
});

// ---------------------------------------------------------------------------------------------
// BUGS (deliberately failing until fixed). Each should be exit 0 or a one-line exit-2 error; today
// they escape main() as internal errors (the promise rejects; the real CLI prints a stack, exit 1)
// or are silently ignored.
describe('regression (was a bug): CLI inputs that are not handled', () => {
  test('--lr 0 is a user error (exit 2), not an internal error', async () => {
    // num(…, {min: 0}) accepts 0, then `new Optimizer` throws a plain Error("learning rate must be
    // > 0"), which main() does not treat as a user error. Fix: parse --lr with a strict lower bound
    // (reject ≤ 0 with UsageError), and/or make Optimizer throw ConfigError.
    const out = fresh('out');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--lr', '0', '--epochs', '1', '--out', out]).catch((e: Error) => ({ code: -1, stdout: '', stderr: `rejected: ${e.constructor.name}: ${e.message}` }));
    expectUserError(r, 'train', /lr|learning rate/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('--io-qubits is accepted but ignored: it must take effect or be rejected', async () => {
    // TRAIN_FLAGS lists io-qubits (and local-lr-scale), so checkKnown accepts them, but
    // trainConfigFromArgs never reads them: the run silently trains 1-IO-qubit neurons. Fix: read
    // it into the neuron config (with output size = classes / ioQubits), or drop it from TRAIN_FLAGS.
    const out = fresh('out');
    const base = BASE.filter((a, i) => a !== '--hidden' && BASE[i - 1] !== '--hidden');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...base, '--io-qubits', '2', '--ansatz', 'he1', '--hidden', '2', '--epochs', '1', '--out', out]);
    if (r.code === 0) {
      const cfg = (loadCheckpoint(out).meta.state as { config: TrainConfig }).config;
      expect(cfg.network.layers.map((l) => l.ioQubits)).toEqual([2, 2]);
    } else expectUserError(r, 'train', /io-qubits/);
  });

  test('a --config network with no layers (or no layer list) is a user error, not a TypeError', async () => {
    // trainRun calls checkConfig, which reads cfg.network.layers[last].ioQubits, before the
    // network config is validated (validateNetworkConfig runs later, in the Network constructor):
    // "Cannot read properties of undefined (reading 'ioQubits')". Fix: call
    // validateNetworkConfig(cfg.network) first thing in checkConfig.
    for (const network of [{ inputs: 16, layers: [] }, { inputs: 16 }]) {
      const f = fresh('cfg') + '.json';
      fs.writeFileSync(f, JSON.stringify({ dataset: `idx:${idxDir}`, network }));
      const out = fresh('out');
      const r = await runCli(['train', '--config', f, '--quiet', '--out', out]).catch((e: Error) => ({ code: -1, stdout: '', stderr: `rejected: ${e.constructor.name}: ${e.message}` }));
      expectUserError(r, 'train', /layer/);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  test('--out naming an existing regular file is a user error naming it, and the file is untouched', async () => {
    // trainRun calls fs.mkdirSync(outDir, {recursive: true}), which throws a bare EEXIST (or
    // ENOTDIR/EACCES for other unusable paths): an internal error with a stack. Fix: check --out up
    // front (exists and is not a directory, or cannot be created) and throw a ConfigError/UsageError
    // naming it — before loading data and building the model.
    const f = fresh('file');
    fs.writeFileSync(f, 'precious');
    const r = await runCli(['train', '--dataset', `idx:${idxDir}`, ...BASE, '--epochs', '1', '--out', f]).catch((e: Error) => ({ code: -1, stdout: '', stderr: `rejected: ${e.constructor.name}: ${e.message}` }));
    expectUserError(r, 'train', f);
    expect(fs.readFileSync(f, 'utf8')).toBe('precious');
  });

  test('eval of a checkpoint.json that is valid JSON but not a checkpoint object: one line, exit 2', async () => {
    // See checkpoint.test.ts "BUG: checkpoint.json that parses but is not an object …".
    const dir = fresh('nullck');
    fs.cpSync(trained, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, CHECKPOINT_FILE), 'null');
    const r = await runCli(['eval', '--checkpoint', dir]).catch((e: Error) => ({ code: -1, stdout: '', stderr: `rejected: ${e.constructor.name}: ${e.message}` }));
    expectUserError(r, 'eval', CHECKPOINT_FILE);
  });
});
