/**
 * Fair tuning in the experiment runner: tuning cells train on the training set minus a seeded
 * validation split, final cells take the lr with the best mean validation accuracy (never the test
 * accuracy) and wait for their group's tuning; the report names the grid and the selection.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CellResult, ExperimentConfig, cellDir, currentResult, expandGrid, runExperiment, selectLearningRate } from '../src/experiment';
import { cellStatus, gridEdgeNote } from '../src/experiment-report';
import { holdOut } from '../src/validation-split';
import { tinyDataset } from './experiment-data';
import { setupBackend } from './helpers';

beforeAll(async () => {
  await setupBackend();
});

const LRS = [0.001, 0.05];
const config: ExperimentConfig = {
  models: [
    { name: 'SQS', neuron: { neuron: 'sqs' }, tune: { lr: LRS, validation: 0.25 } },
    { name: 'LIF', neuron: { neuron: 'lif' }, lr: 0.05 },
  ],
  datasets: [{ dataset: 'tiny', steps: 3, epochs: 2, batch: 20 }],
  budgets: [1500],
  seeds: [1, 2],
};

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-tune-'));
const read = (dir: string, id: string) => JSON.parse(fs.readFileSync(path.join(dir, 'cells', id, 'result.json'), 'utf8')) as CellResult;

test('tuning cells come first, one per seed and candidate; final cells keep their ids', () => {
  const cells = expandGrid(config);
  expect(cells.map((c) => c.phase)).toEqual(['tune', 'tune', 'tune', 'tune', 'final', 'final', 'final', 'final']);
  expect(cells.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(cells.filter((c) => c.phase === 'tune').map((c) => [c.seed, c.lr])).toEqual([[1, 0.001], [1, 0.05], [2, 0.001], [2, 0.05]]);
  expect(cells[4].id).toBe('tiny__SQS__bptt__p1500__s1');
  expect(new Set(cells.slice(0, 6).map((c) => c.group))).toEqual(new Set(['tiny__SQS__bptt__p1500']));
});

test('the validation split is carved from the training set by a seeded split', () => {
  const ds = tinyDataset();
  const a = holdOut(ds, 0.25, 1);
  expect(a.validation.nTest).toBe(20);
  expect(a.train.nTrain).toBe(60);
  expect(a.train.testImages).toBe(ds.testImages); // the test set is untouched
  // Every held-out and every kept example is a training example, each used exactly once.
  const rows = (x: Float32Array, n: number) => Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * 16, i * 16 + 16)).join(','));
  const all = rows(ds.trainImages, 80).sort();
  expect([...rows(a.validation.testImages, 20), ...rows(a.train.trainImages, 60)].sort()).toEqual(all);
  expect(rows(holdOut(ds, 0.25, 1).validation.testImages, 20)).toEqual(rows(a.validation.testImages, 20));
  expect(rows(holdOut(ds, 0.25, 2).validation.testImages, 20)).not.toEqual(rows(a.validation.testImages, 20));
  expect(() => holdOut(ds, 0.001, 1)).toThrow(/leaves 0 for validation/);
});

test('selection uses mean validation accuracy over seeds, not test accuracy', () => {
  const out = tmp();
  const cells = expandGrid(config);
  // lr 0.001 wins on validation (mean 0.7 vs 0.6) although 0.05 has the better test accuracy.
  const fake: Record<string, [number, number]> = { '1/0.001': [0.8, 0.5], '2/0.001': [0.6, 0.5], '1/0.05': [0.6, 0.99], '2/0.05': [0.6, 0.99] };
  const tuning = cells.filter((c) => c.phase === 'tune');
  for (const c of tuning.slice(0, 3)) {
    fs.mkdirSync(cellDir(out, c), { recursive: true });
    const [v, t] = fake[`${c.seed}/${c.lr}`];
    fs.writeFileSync(path.join(cellDir(out, c), 'result.json'), JSON.stringify({ id: c.id, phase: 'tune', validationAccuracy: v, testAccuracy: t }));
  }
  const partial = selectLearningRate(out, cells, tuning[0].group);
  expect(partial.lr).toBeUndefined();
  expect(partial.unfinished.map((c) => c.index)).toEqual([3]);
  const c = tuning[3];
  fs.mkdirSync(cellDir(out, c), { recursive: true });
  fs.writeFileSync(path.join(cellDir(out, c), 'result.json'), JSON.stringify({ id: c.id, phase: 'tune', validationAccuracy: 0.6, testAccuracy: 0.99 }));
  const sel = selectLearningRate(out, cells, tuning[0].group);
  expect(sel.lr).toBe(0.001);
  expect(sel.candidates.map((k) => k.meanValidationAccuracy)).toEqual([expect.closeTo(0.7, 9), expect.closeTo(0.6, 9)]);
  fs.rmSync(out, { recursive: true, force: true });
});

test('a tuned grid: final cells wait for tuning, train at the selected lr on all training data, and the report names the grid', async () => {
  const out = tmp();
  const logs: string[] = [];
  const opts = { loadData: tinyDataset, log: (s: string) => logs.push(s), report: false };
  // Final cells alone cannot run before their group's tuning: they are not run (not failed), and the
  // run and the report name the tuning cells they need.
  await expect(runExperiment(config, out, { ...opts, select: (c) => c.phase === 'final' && c.model.name === 'SQS' })).rejects.toThrow(
    /2 final cell\(s\) not run because their tuning is unfinished: 4 \(needs 0, 1, 2, 3\); 5 \(needs 0, 1, 2, 3\)/,
  );
  expect(fs.existsSync(path.join(out, 'cells', 'tiny__SQS__bptt__p1500__s1', 'failed.json'))).toBe(false);
  const waiting = cellStatus(out, expandGrid(config)).missing.find((m) => m.cell.id === 'tiny__SQS__bptt__p1500__s1');
  expect(waiting?.waitsFor).toEqual([0, 1, 2, 3]);
  expect(logs.some((l) => l.includes('not run: its tuning cell(s) 0, 1, 2, 3 have no result yet'))).toBe(true);

  const results = await runExperiment(config, out, { ...opts, report: true });
  expect(results).toHaveLength(8);
  const cells = expandGrid(config);
  const tune = cells.filter((c) => c.phase === 'tune').map((c) => read(out, c.id));
  for (const r of tune) {
    expect(r.trainingSamples).toBe(60);
    expect(r.validationAccuracy).toBeGreaterThanOrEqual(0);
  }
  const mean = (lr: number) => tune.filter((r) => r.lr === lr).reduce((s, r) => s + (r.validationAccuracy as number), 0) / 2;
  const best = mean(LRS[1]) > mean(LRS[0]) ? LRS[1] : LRS[0];
  for (const seed of [1, 2]) {
    const r = read(out, `tiny__SQS__bptt__p1500__s${seed}`);
    expect(r.lr).toBe(best);
    expect(r.tunedOver).toEqual(LRS);
    expect(r.trainingSamples).toBe(80);
    expect(r.circuitExecutions).toBe(3 * (r.hidden[0] + 2)); // T × SQS neurons
    expect(fs.existsSync(path.join(out, 'cells', r.id, 'failed.json'))).toBe(false);
  }
  expect(read(out, 'tiny__LIF__bptt__p1500__s1')).toMatchObject({ lr: 0.05, circuitExecutions: 0 });
  expect(read(out, 'tiny__LIF__bptt__p1500__s1').tunedOver).toBeUndefined();

  const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
  expect(md).toContain(`| tiny | SQS | bptt | 1500 | lr ∈ {0.001, 0.05} | 25.00 % of training, seeds 1, 2 |`);
  expect(md).toMatch(new RegExp(`\\| tiny \\| SQS \\| bptt \\| 1500 \\| \\d+ \\| 2 \\| [\\d.]+ ± [\\d.]+ % \\| ${best} \\(selected from 0.001, 0.05\\) \\| 2 \\| 80 \\|`));
  expect(md).toMatch(/\| tiny \| LIF \| bptt \| 1500 \| \d+ \| 2 \| .* \| 0.05 \(fixed\) \| 2 \| 80 \| 0 \|/);
  expect(md).toContain('8 of 8 finished, 0 failed, 0 missing');
  const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
  expect(csv).toHaveLength(9);
  // Tuning rows report validation accuracy and leave the test columns empty.
  expect(csv[1]).toMatch(/^tune,tiny,SQS,bptt,1500,1,0.001,\d+,"\d+",60,2,\d+,[\d.]+,,,[\d.]+,tiny__SQS__bptt__p1500__s1__tune-lr0.001,,false$/);
  fs.rmSync(out, { recursive: true, force: true });
});

test('a final cell waits for tuning cells another worker is running, then trains at their selection', async () => {
  const out = tmp();
  const cells = expandGrid(config);
  const tuning = cells.filter((c) => c.phase === 'tune');
  // Another worker (a live lock: this process) holds tuning cell 0; the other three are finished.
  const writeTune = (c: (typeof tuning)[number], v: number) => {
    fs.mkdirSync(cellDir(out, c), { recursive: true });
    fs.writeFileSync(path.join(cellDir(out, c), 'result.json'), JSON.stringify({ id: c.id, phase: 'tune', lr: c.lr, validationAccuracy: v, testAccuracy: 0 }));
  };
  for (const c of tuning.slice(1)) writeTune(c, c.lr === 0.05 ? 0.9 : 0.1);
  fs.mkdirSync(cellDir(out, tuning[0]), { recursive: true });
  const lockFile = path.join(cellDir(out, tuning[0]), 'lock');
  fs.writeFileSync(lockFile, JSON.stringify({ host: os.hostname(), pid: process.pid, token: 'other', started: new Date().toISOString() }));
  const logs: string[] = [];
  setTimeout(() => {
    writeTune(tuning[0], 0.1);
    fs.rmSync(lockFile);
  }, 300);
  const results = await runExperiment(config, out, { loadData: tinyDataset, log: (s) => logs.push(s), report: false, pollMs: 50, select: (c) => c.id === 'tiny__SQS__bptt__p1500__s1' });
  expect(logs.some((l) => l.includes('waits for tuning cell(s) 0, running elsewhere'))).toBe(true);
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ id: 'tiny__SQS__bptt__p1500__s1', lr: 0.05 });
  fs.rmSync(out, { recursive: true, force: true });
});

test('a failing cell is recorded and listed in the report while the others finish', async () => {
  const out = tmp();
  const broken: ExperimentConfig = { ...config, models: [config.models[1]], datasets: [...config.datasets, { dataset: 'broken', steps: 3, epochs: 1, batch: 20 }] };
  const loadData = (d: { dataset: string }) => {
    if (d.dataset === 'broken') throw new Error('disk on fire');
    return tinyDataset();
  };
  await expect(runExperiment(broken, out, { loadData, log: () => {} })).rejects.toThrow(/2 cell\(s\) failed: 2 \(broken__LIF__bptt__p1500__s1: disk on fire\)/);
  const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
  expect(md).toContain('2 of 4 finished, 2 failed, 0 missing');
  expect(md).toContain('- cell 3 `broken__LIF__bptt__p1500__s2`: disk on fire');
  fs.rmSync(out, { recursive: true, force: true });
});

test('the report flags a selected lr at the edge of a grid of three or more (the optimum may lie outside)', () => {
  const grid = [0.0005, 0.001, 0.002, 0.005];
  expect(gridEdgeNote(0.005, grid)).toMatch(/largest in the grid/);
  expect(gridEdgeNote(0.0005, grid)).toMatch(/smallest in the grid/);
  expect(gridEdgeNote(0.002, grid)).toBe('');
  expect(gridEdgeNote(0.05, [0.001, 0.05])).toBe(''); // two candidates: every choice is an edge
  expect(gridEdgeNote(null, grid)).toBe('');
});

test('a tuning grid extended after the finals ran: a final whose lr is no longer selected is stale, set aside and trained again; one whose lr still wins stands', async () => {
  const out = tmp();
  const one: ExperimentConfig = { models: [{ ...config.models[0], tune: { lr: [0.05], validation: 0.25 } }], datasets: config.datasets, budgets: config.budgets, seeds: [1] };
  const opts = { loadData: tinyDataset, log: () => {}, report: false };
  await runExperiment(one, out, opts);
  const finalId = 'tiny__SQS__bptt__p1500__s1';
  const tuneId = `${finalId}__tune-lr0.05`;
  expect(read(out, finalId).lr).toBe(0.05);
  const tuneBefore = fs.readFileSync(path.join(out, 'cells', tuneId, 'result.json'), 'utf8');

  // The grid gains 0.02, which loses on validation: the final stands and names the grid it now won.
  const withLoser: ExperimentConfig = { ...one, models: [{ ...one.models[0], tune: { lr: [0.02, 0.05], validation: 0.25 } }] };
  const loser = expandGrid(withLoser).find((c) => c.lr === 0.02) as ReturnType<typeof expandGrid>[number];
  // Until the new candidate has run, the final reports the grid it was selected from.
  const finalCell = expandGrid(withLoser).find((c) => c.id === finalId) as ReturnType<typeof expandGrid>[number];
  expect(currentResult(out, expandGrid(withLoser), finalCell)).toMatchObject({ lr: 0.05, tunedOver: [0.05] });
  fs.mkdirSync(cellDir(out, loser), { recursive: true });
  fs.writeFileSync(path.join(cellDir(out, loser), 'result.json'), JSON.stringify({ id: loser.id, phase: 'tune', lr: 0.02, validationAccuracy: -1, testAccuracy: 0 }));
  fs.rmSync(path.join(out, 'experiment.json')); // the folder's grid is replaced by the extended one
  const kept = await runExperiment(withLoser, out, opts);
  expect(kept.find((r) => r.id === finalId)).toMatchObject({ lr: 0.05, tunedOver: [0.02, 0.05] });
  expect(fs.existsSync(path.join(out, 'cells', finalId, 'stale-lr0.05'))).toBe(false);

  // Now 0.001 joins and wins on validation: the final trained at 0.05 is stale.
  const extended: ExperimentConfig = { ...one, models: [{ ...one.models[0], tune: { lr: [0.001, 0.02, 0.05], validation: 0.25 } }] };
  const winner = expandGrid(extended).find((c) => c.lr === 0.001) as ReturnType<typeof expandGrid>[number];
  fs.mkdirSync(cellDir(out, winner), { recursive: true });
  fs.writeFileSync(path.join(cellDir(out, winner), 'result.json'), JSON.stringify({ id: winner.id, phase: 'tune', lr: 0.001, validationAccuracy: 2, testAccuracy: 0 }));
  fs.rmSync(path.join(out, 'experiment.json'));
  const status = cellStatus(out, expandGrid(extended));
  expect(status.missing.map((m) => [m.cell.id, m.stale])).toEqual([[finalId, 'trained at lr 0.05, but 0.001 is selected now']]);
  const again = await runExperiment(extended, out, opts);
  expect(again.find((r) => r.id === finalId)).toMatchObject({ lr: 0.001, tunedOver: [0.001, 0.02, 0.05] });
  expect(read(out, finalId).lr).toBe(0.001);
  // The stale run is kept aside, and no tuning cell was trained again.
  expect((JSON.parse(fs.readFileSync(path.join(out, 'cells', finalId, 'stale-lr0.05', 'result.json'), 'utf8')) as CellResult).lr).toBe(0.05);
  expect(fs.readFileSync(path.join(out, 'cells', tuneId, 'result.json'), 'utf8')).toBe(tuneBefore);
  fs.rmSync(out, { recursive: true, force: true });
});
