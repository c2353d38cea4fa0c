/** The experiment runner: a small grid runs end to end, writes its reports, and is skipped on rerun. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { countParameters } from '../src/budget';
import { ExperimentConfig, cellNetwork, expandGrid, runExperiment } from '../src/experiment';
import { tinyDataset } from './experiment-data';
import { setupBackend } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const config: ExperimentConfig = {
  models: [
    { name: 'SQS', neuron: { neuron: 'sqs' }, lr: 0.05, rules: ['bptt', 'local'] },
    { name: 'LIF', neuron: { neuron: 'lif' }, lr: 0.05 },
  ],
  datasets: [{ dataset: 'tiny', steps: 3, epochs: 2, batch: 20 }],
  budgets: [1500, 4000],
  seeds: [1, 2],
};

test('cells are sized to the budget within 1 %', () => {
  const ds = tinyDataset();
  for (const cell of expandGrid(config)) {
    const n = countParameters(cellNetwork(cell, ds));
    expect(Math.abs(n - cell.budget) / cell.budget).toBeLessThanOrEqual(0.01);
  }
});

test('a small grid runs end to end, writes results and plots, and is skipped on rerun', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-exp-'));
  const lines: string[] = [];
  const opts = { loadData: tinyDataset, log: (s: string) => lines.push(s) };
  const results = await runExperiment(config, out, opts);
  expect(results).toHaveLength(expandGrid(config).length);
  expect(results).toHaveLength(12);
  for (const f of ['results.csv', 'results.md', 'accuracy-vs-parameters-tiny.svg', 'training-curves-tiny.svg', 'raster-sqs.svg'])
    expect(fs.existsSync(path.join(out, f))).toBe(true);
  const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
  expect(csv).toHaveLength(13);
  const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
  expect(md).toMatch(/\| tiny \| SQS \| local \| 4000 \|/);
  expect(fs.readFileSync(path.join(out, 'raster-sqs.svg'), 'utf8')).toMatch(/^<svg/);
  // The task is separable: the trained models are above chance on average.
  const mean = results.reduce((s, r) => s + r.testAccuracy, 0) / results.length;
  expect(mean).toBeGreaterThan(0.6);

  lines.length = 0;
  const again = await runExperiment(config, out, opts);
  expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(12);
  expect(again.map((r) => r.testAccuracy)).toEqual(results.map((r) => r.testAccuracy));

  // An interrupted cell (checkpoint, no result, the lock of a process that is gone) is taken over and resumed.
  const cell = expandGrid(config)[5];
  fs.rmSync(path.join(out, 'cells', cell.id, 'result.json'));
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  fs.writeFileSync(path.join(out, 'cells', cell.id, 'lock'), JSON.stringify({ host: os.hostname(), pid: gone, token: 't' }));
  lines.length = 0;
  const resumed = await runExperiment(config, out, opts);
  expect(lines.filter((l) => l.includes('training'))).toEqual([expect.stringContaining(`[cell 5] ${cell.id}: training`)]);
  expect(resumed[5]).toEqual({ ...results[5], trainSeconds: expect.any(Number) });
  expect(fs.existsSync(path.join(out, 'cells', cell.id, 'lock'))).toBe(false);
  fs.rmSync(out, { recursive: true, force: true });
});
