/**
 * `experiment restore`: a grid whose run folder is lost resumes from its committed results.csv. The
 * report of the restored folder equals the original's, tuning selections carry over (final cells do
 * not retrain), and an older CSV without the id and curve columns is matched by its fields.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CellResult, ExperimentConfig, expandGrid, readResult, runExperiment, selectLearningRate } from '../src/experiment';
import { writeReport } from '../src/experiment-report';
import { restoreFromCsv } from '../src/experiment-restore';
import { tinyDataset } from './experiment-data';
import { setupBackend } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const config: ExperimentConfig = {
  models: [
    { name: 'SQS', neuron: { neuron: 'sqs' }, tune: { lr: [0.001, 0.05], validation: 0.25, seeds: [1] } },
    { name: 'QLIF', neuron: { neuron: 'qlif' }, lr: 0.05 },
  ],
  datasets: [{ dataset: 'tiny', steps: 2, epochs: 2, batch: 40 }],
  budgets: [1500],
  seeds: [1, 2],
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-restore-'));
const table = (dir: string) => fs.readFileSync(path.join(dir, 'results.md'), 'utf8').split('\n').filter((l) => l.startsWith('|')).join('\n');

test('a grid restored from its results.csv reports the same table and selection, and does not train again', async () => {
  const out = tmp();
  await runExperiment(config, out, { loadData: tinyDataset, log: () => {}, report: false });
  writeReport(out, { plots: false });
  const csv = path.join(out, 'results.csv');

  const again = tmp();
  const summary = restoreFromCsv(config, again, csv);
  const cells = expandGrid(config);
  expect(summary.restored.map((c) => c.index)).toEqual(cells.map((c) => c.index));
  expect(summary.unmatched).toEqual([]);
  for (const c of cells) {
    const a = readResult(out, c) as CellResult;
    const b = readResult(again, c) as CellResult;
    expect(b.restoredFrom).toMatch(/results\.csv$/);
    expect(b.validationAccuracy).toBe(a.validationAccuracy);
    expect(b.circuitExecutionsEstimated).toBe(a.circuitExecutionsEstimated);
    if (c.phase === 'final') expect({ ...b, restoredFrom: undefined }).toEqual({ ...a, restoredFrom: undefined });
  }
  expect(selectLearningRate(again, cells, cells[0].group).lr).toBe(selectLearningRate(out, cells, cells[0].group).lr);
  writeReport(again, { plots: false });
  expect(table(again)).toBe(table(out));
  expect(fs.readFileSync(path.join(again, 'results.md'), 'utf8')).toMatch(/6 of these cells were restored from an earlier report/);

  // Nothing left to train: every cell is skipped as done.
  const logs: string[] = [];
  await runExperiment(config, again, { loadData: () => { throw new Error('no data should be loaded'); }, log: (s) => logs.push(s), report: false });
  expect(logs.filter((l) => /done earlier, skipped/.test(l))).toHaveLength(cells.length);

  // A second restore keeps what is there.
  expect(restoreFromCsv(config, again, csv).kept).toHaveLength(cells.length);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(again, { recursive: true, force: true });
});

test('an older results.csv (no id or curve column) is matched by its fields; rows of another grid are named', () => {
  const dir = tmp();
  const csv = path.join(dir, 'old.csv');
  fs.writeFileSync(
    csv,
    [
      'phase,dataset,model,rule,budget,seed,lr,parameters,hidden,trainingSamples,epochs,circuitExecutions,validationAccuracy,testAccuracy,bestTestAccuracy,trainSeconds',
      'tune,tiny,SQS,bptt,1500,1,0.05,590,"10",60,2,24,0.75,,,1.5',
      'final,tiny,QLIF,bptt,1500,2,0.05,598,"12",80,2,49152,,0.625,0.65,2.5',
      'final,tiny,LIF,bptt,1500,1,0.05,598,"12",80,2,0,,0.5,0.5,1',
    ].join('\n'),
  );
  const out = path.join(dir, 'grid');
  const r = restoreFromCsv(config, out, csv);
  expect(r.restored.map((c) => c.id)).toEqual(['tiny__SQS__bptt__p1500__s1__tune-lr0.05', 'tiny__QLIF__bptt__p1500__s2']);
  expect(r.unmatched).toEqual([4]);
  const q = readResult(out, r.restored[1]) as CellResult;
  expect(q).toMatchObject({ testAccuracy: 0.625, bestTestAccuracy: 0.65, hidden: [12], lrFrom: 'config', circuitExecutions: 49152, circuitExecutionsEstimated: true, curve: [] });
  expect(() => restoreFromCsv(config, out, path.join(dir, 'none.csv'))).toThrow(/none\.csv: no such file/);
  fs.writeFileSync(csv, 'a,b\n1,2\n');
  expect(() => restoreFromCsv(config, out, csv)).toThrow(/not an experiment report's results\.csv \(no phase column\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});
