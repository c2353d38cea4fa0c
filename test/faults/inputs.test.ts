/**
 * Issue 11, rows 7–12: bad labels, dishonest device scores, experiment configs with names that do
 * not exist, strict arguments — plus the plain bad inputs that already had a clear answer. Each is
 * exit 2 with one line naming the problem, and nothing is written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { IDX_NAMES, bandDataset, expectUserError, idxBytes, makeTmp, removeTmp, runCli, tree, writeIdxDataset } from './helpers';

let root: string;
let idxDir: string;
let n = 0;
const fresh = (label: string) => path.join(root, `${label}${n++}`);
const DS = bandDataset({ nTrain: 24, nTest: 14, seed: 3 });
const TINY = ['--hidden', '4', '--T', '2', '--batch', '8', '--epochs', '1', '--quiet'];

beforeAll(() => {
  root = makeTmp('faults-inputs');
  idxDir = path.join(root, 'idx');
  writeIdxDataset(idxDir, DS);
});
afterAll(() => removeTmp(root));

/** A copy of the good IDX folder with one labels file replaced. */
function withLabels(file: 'trainLabels' | 'testLabels', labels: number[]): string {
  const d = fresh('idx');
  fs.cpSync(idxDir, d, { recursive: true });
  fs.writeFileSync(path.join(d, IDX_NAMES[file]), idxBytes([labels.length], labels));
  return d;
}

describe('labels are checked against the class count at load', () => {
  test('a test label 255 (2 classes in training): names file, index and value', async () => {
    const labels = Array.from(DS.testLabels);
    labels[5] = 255;
    const d = withLabels('testLabels', labels);
    const out = fresh('out');
    expectUserError(await runCli(['train', '--dataset', `idx:${d}`, ...TINY, '--out', out]), 'train', path.join(d, IDX_NAMES.testLabels), /label 255 at index 5 is out of range \(expected 0\.\.1/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a training label 255 would make 256 classes, most without an example: refused', async () => {
    const labels = Array.from(DS.trainLabels);
    labels[3] = 255;
    const d = withLabels('trainLabels', labels);
    expectUserError(await runCli(['train', '--dataset', `idx:${d}`, ...TINY, '--out', fresh('out')]), 'train', /label 255 at index 3 implies 256 classes, but class 2 has no training example/);
  });

  test('already handled: label count ≠ image count, a truncated file, a missing file', async () => {
    const d = withLabels('trainLabels', Array.from(DS.trainLabels).slice(1));
    expectUserError(await runCli(['train', '--dataset', `idx:${d}`, ...TINY, '--out', fresh('out')]), 'train', /label count 23 ≠ image count 24/);
    const t = fresh('idx');
    fs.cpSync(idxDir, t, { recursive: true });
    const f = path.join(t, IDX_NAMES.testImages);
    fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 40));
    expectUserError(await runCli(['train', '--dataset', `idx:${t}`, ...TINY, '--out', fresh('out')]), 'train', f, /truncated/);
    fs.rmSync(f);
    expectUserError(await runCli(['train', '--dataset', `idx:${t}`, ...TINY, '--out', fresh('out')]), 'train', /file not found/);
  });
});

describe('device scores are honest', () => {
  const paper = { ioQubits: 1, memoryQubits: 1, ansatz: 'paper', params: { ent: 0, in: 0, mem: 0 }, currents: [[0], [0], [0]] };

  test('half the records impossible: log-likelihood −∞ (null) with a flag and a count; z infinite (null)', async () => {
    const spec = fresh('spec') + '.json';
    const shots = fresh('shots') + '.json';
    fs.writeFileSync(spec, JSON.stringify(paper));
    // The silent neuron never spikes: the 5 shots with a spike at step 1 cannot happen.
    fs.writeFileSync(shots, JSON.stringify({ counts: { '000': 5, '010': 5 } }));
    const r = await runCli(['likelihood', '--spec', spec, '--shots', shots, '--reference-samples', '0']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.averageLogLikelihood).toBeNull();
    expect(rep.impossible).toBe(true);
    expect(rep.impossibleShots).toBe(5);
    expect(rep.averageLogLikelihoodPerStep[1]).toBeNull();
    expect(rep.maxAbsZ).toBeNull();
    expect(rep.zeroVarianceMismatches).toBe(1);
    expect(rep.observedSpikeRate[1][0]).toBe(0.5); // every record counts in the rates
  });

  test('records that all fit keep a finite score', async () => {
    const spec = fresh('spec') + '.json';
    const shots = fresh('shots') + '.json';
    fs.writeFileSync(spec, JSON.stringify(paper));
    fs.writeFileSync(shots, JSON.stringify({ counts: { '000': 10 } }));
    const rep = JSON.parse((await runCli(['likelihood', '--spec', spec, '--shots', shots, '--reference-samples', '0'])).stdout);
    expect(rep.impossible).toBe(false);
    expect(rep.averageLogLikelihood).toBeCloseTo(0, 5);
    expect(rep.maxAbsZ).toBe(0);
  });

  test('already handled: a record of the wrong width, an unknown field', async () => {
    const spec = fresh('spec') + '.json';
    fs.writeFileSync(spec, JSON.stringify(paper));
    const shots = fresh('shots') + '.json';
    fs.writeFileSync(shots, JSON.stringify({ counts: { '0000': 1 } }));
    expectUserError(await runCli(['likelihood', '--spec', spec, '--shots', shots]), 'likelihood', /has 4 bits but the register c has 3/);
    fs.writeFileSync(shots, JSON.stringify({ counts: { '000': 1 }, shotz: 1 }));
    expectUserError(await runCli(['likelihood', '--spec', spec, '--shots', shots]), 'likelihood', 'records: shotz: unknown key');
  });
});

describe('experiment configs are checked before any cell folder is written', () => {
  const base = () => ({
    models: [{ name: 'SQS', neuron: { neuron: 'sqs' }, lr: 0.05 } as Record<string, unknown>],
    datasets: [{ dataset: `idx:${idxDir}`, label: 'bands', steps: 2, epochs: 1, batch: 8 } as Record<string, unknown>],
    budgets: [150] as number[],
    seeds: [1],
  });
  const run = async (cfg: unknown, extra: string[] = []) => {
    const file = fresh('exp') + '.json';
    fs.writeFileSync(file, JSON.stringify(cfg));
    const out = fresh('exp-out');
    const r = await runCli(['experiment', '--config', file, '--out', out, '--quiet', ...extra]);
    return { r, out };
  };

  test.each<[string, (c: ReturnType<typeof base>) => void, RegExp]>([
    ['an unknown dataset', (c) => (c.datasets[0].dataset = 'mnsit'), /unknown dataset 'mnsit'; valid names are mnist/],
    ['a typo in a model\'s dataset list', (c) => (c.models[0].datasets = ['band']), /model SQS: datasets lists 'band', not a dataset label of this grid \(labels: bands\)/],
    ['rule magic', (c) => (c.models[0].rules = ['magic']), /model SQS: unknown rule 'magic'; known: bptt, local/],
    ['budget 1e12', (c) => (c.budgets = [1e12]), /cell bands__SQS__bptt__p1000000000000__s1: training with hidden \d+.* needs about .*more than the/],
    ['an unknown key', (c) => ((c as Record<string, unknown>).seedz = [2]), /experiment config: seedz: unknown key/],
    ['a budget no network size can meet', (c) => (c.budgets = [20]), /cell bands__SQS__bptt__p20__s1: sizeHidden/],
  ])('%s: exit 2, one line, no folder', async (_what, change, msg) => {
    const cfg = base();
    change(cfg);
    const { r, out } = await run(cfg);
    expectUserError(r, 'experiment', msg);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('--dry-run catches name errors too', async () => {
    const cfg = base();
    cfg.models[0].datasets = ['band'];
    const { r } = await run(cfg, ['--dry-run']);
    expectUserError(r, 'experiment', /datasets lists 'band'/);
  });
});

describe('strict arguments', () => {
  test.each<[string[], RegExp]>([
    [['train', '--hidden', '4,,2', '--out', 'x'], /--hidden .*got '4,,2' \(element 2 is empty\)/],
    [['train', '--hidden', '4,', '--out', 'x'], /element 2 is empty/],
    [['train', 'stray', '--out', 'x'], /unexpected argument\(s\): 'stray'/],
    [['train', '--epochs', '2', '--epochs', '3', '--out', 'x'], /--epochs is given more than once/],
    [['neuron-trace', 'spec.json'], /unexpected argument\(s\): 'spec.json'/],
    [['eval', '--checkpoint', 'a', '--checkpoint', 'b'], /--checkpoint is given more than once/],
    [['experiment', '--config', 'c.json', '--out', 'o', 'extra'], /unexpected argument\(s\): 'extra'/],
    // Already handled: unknown options and bad numbers.
    [['train', '--hiden', '4', '--out', 'x'], /unknown option --hiden/],
    [['train', '--optimizer', 'adamw', '--out', 'x'], /--optimizer must be adam or sgd, got 'adamw'/],
    [['bench', 'neuron', '--mode', 'fast'], /--mode must be one of fused, composed, auto, got 'fast'/],
    [['experiment', 'fly'], /unknown subcommand 'fly'/],
    [['train', '--lr', 'fast', '--out', 'x'], /--lr must be a number, got 'fast'/],
  ])('%j', async (argv, msg) => {
    const cwd = process.cwd();
    const dir = fresh('cwd');
    fs.mkdirSync(dir);
    process.chdir(dir);
    try {
      expectUserError(await runCli(argv), argv[0], msg);
      expect(tree(dir)).toEqual({});
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  test('a train config file with an unknown key names its path', async () => {
    const file = fresh('cfg') + '.json';
    fs.writeFileSync(file, JSON.stringify({ dataset: `idx:${idxDir}`, hidden: [4], epochz: 3 }));
    expectUserError(await runCli(['train', '--config', file, '--out', fresh('o')]), 'train', `${file}: epochz: unknown key`);
    fs.writeFileSync(file, JSON.stringify({ dataset: `idx:${idxDir}`, network: { inputs: 16, layers: [{ neuron: 'sqs', size: 2, memoryQubitz: 2 }] } }));
    expectUserError(await runCli(['train', '--config', file, '--out', fresh('o')]), 'train', 'network.layers[0].memoryQubitz: unknown key');
  });

  test('a neuron spec with an unknown key names it', async () => {
    const file = fresh('spec') + '.json';
    fs.writeFileSync(file, JSON.stringify({ ioQubits: 1, memoryQubits: 1, params: { ent: 0, in: 0, mem: 0 }, currents: [[0]], nosie: { t1: 3 } }));
    expectUserError(await runCli(['neuron-trace', '--spec', file]), 'neuron-trace', 'spec: nosie: unknown key');
  });
});

test('every config shipped in the repository passes the strict schemas', async () => {
  const { experimentConfigSchema, trainConfigSchema, validate } = await import('../../src/schemas');
  const root = path.join(__dirname, '..', '..');
  const files = ['examples', 'bench/configs'].flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.json')).map((f) => path.join(root, d, f)));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const raw = JSON.parse(fs.readFileSync(f, 'utf8'));
    expect(() => validate(raw.models ? experimentConfigSchema : trainConfigSchema, raw, f)).not.toThrow();
  }
});

test('sqsnn schema NAME prints a JSON Schema that refuses unknown keys; a wrong name is a usage error', async () => {
  const r = await runCli(['schema', 'train-config']);
  expect(r.code).toBe(0);
  const schema = JSON.parse(r.stdout);
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['dataset', 'network', 'epochs', 'ruleConfig']));
  expectUserError(await runCli(['schema', 'trian-config']), 'schema', /name one schema: train-config, experiment-config, neuron-spec, device-records \(got 'trian-config'\)/);
});

