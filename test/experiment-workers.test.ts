/**
 * Running a grid with many workers: the per-cell lock, cell/shard selection on the command line,
 * Slurm array specs and scripts, and the circuit-execution count of each neuron kind.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../src/cli';
import { STALE_AFTER_MS, tryLock } from '../src/cell-lock';
import { EXACT_QLIF_SHOT_ESTIMATE, executionsPerInference } from '../src/executions';
import { expandGrid, ExperimentConfig } from '../src/experiment';
import { arraySpec, writeSlurmScripts } from '../src/experiment-slurm';
import { capture } from './helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-workers-'));

test('a cell lock is exclusive, released, and taken over only when stale', () => {
  const dir = tmp();
  const file = path.join(dir, 'lock');
  const held = tryLock(file);
  expect(held).not.toBeNull();
  expect(tryLock(file)).toBeNull(); // live owner (this process)
  held?.release();
  expect(fs.existsSync(file)).toBe(false);

  // Owner on this host that is no longer running.
  const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
  fs.writeFileSync(file, JSON.stringify({ host: os.hostname(), pid: dead, token: 'old' }));
  const taken = tryLock(file);
  expect(taken).not.toBeNull();
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
  taken?.release();

  // Owner on another host: alive while refreshed, stale once not refreshed for STALE_AFTER_MS.
  fs.writeFileSync(file, JSON.stringify({ host: 'elsewhere', pid: 1, token: 'other' }));
  expect(tryLock(file)).toBeNull();
  const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
  fs.utimesSync(file, old, old);
  const again = tryLock(file);
  expect(again).not.toBeNull();
  again?.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tiny = path.join(__dirname, '..', 'examples', 'experiment-tiny.json');

test('--cell, --shard and --phase pick cells by their plan number', async () => {
  const out = tmp();
  const pick = async (...flags: string[]) => {
    const r = await capture(async () => void (await main(['experiment', 'run', '--config', tiny, '--out', out, '--dry-run', ...flags])));
    return r.out.trim().split('\n').slice(0, -1).map((l) => Number(l.split(' ')[0]));
  };
  expect(await pick()).toEqual([0, 1, 2, 3]);
  expect(await pick('--shard', '1/2')).toEqual([1, 3]);
  expect(await pick('--shard', '0/3')).toEqual([0, 3]);
  expect(await pick('--cell', '2')).toEqual([2]);
  expect(await pick('--phase', 'tune')).toEqual([]);
  const bad = await capture(async () => {
    expect(await main(['experiment', 'run', '--config', tiny, '--out', out, '--shard', '2/2'])).toBe(2);
  });
  expect(bad.err).toMatch(/--shard must be I\/N with 0 ≤ I < N, got '2\/2'/);
  const plan = await capture(async () => void (await main(['experiment', 'plan', '--config', tiny, '--json'])));
  const rows = JSON.parse(plan.out) as { index: number; phase: string; cost: number; parameters: number }[];
  expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
  for (const r of rows) expect(r.cost).toBe(2 * 400 * 5 * r.parameters);
  fs.rmSync(out, { recursive: true, force: true });
});

test('Slurm arrays hold the unfinished cells of each phase', () => {
  expect(arraySpec([0, 1, 2, 3])).toBe('0-3');
  expect(arraySpec([7, 0, 2, 3, 9, 10], 4)).toBe('0,2-3,7,9-10%4');
  const cfg: ExperimentConfig = {
    models: [{ name: 'A', neuron: { neuron: 'lif' }, tune: { lr: [0.001, 0.01] } }],
    datasets: [{ dataset: 'mnist', steps: 2, epochs: 1, batch: 8 }],
    budgets: [8000],
    seeds: [1, 2],
  };
  const cells = expandGrid(cfg);
  const out = tmp();
  fs.mkdirSync(path.join(out, 'cells', cells[1].id), { recursive: true });
  fs.writeFileSync(path.join(out, 'cells', cells[1].id, 'result.json'), '{}');
  const plan = writeSlurmScripts(out, cells, { partition: 'cpu', time: '2:00:00', maxParallel: 3 });
  expect(plan.arrays.map((a) => [a.phase, a.spec])).toEqual([['tune', '0,2-3%3'], ['final', '4-5%3']]);
  const sbatch = fs.readFileSync(plan.script, 'utf8');
  expect(sbatch).toContain('#SBATCH --partition=cpu');
  expect(sbatch).toContain('#SBATCH --time=2:00:00');
  expect(sbatch).toContain(`#SBATCH --output=${path.join(out, 'slurm', 'logs', 'cell-%a.out')}`);
  expect(sbatch).toMatch(/experiment run --config '.*experiment\.json' --out '.*' --cell "\$SLURM_ARRAY_TASK_ID"/);
  expect(fs.readFileSync(plan.submitScript, 'utf8')).toContain('--array=4-5%3 "${dep[@]}"');
  fs.rmSync(out, { recursive: true, force: true });
});

test('circuit executions per inference, per neuron kind', () => {
  const net = (layers: Record<string, unknown>[]) => ({ layers: layers as { neuron: string; size: number }[] });
  expect(executionsPerInference(net([{ neuron: 'sqs', size: 10 }, { neuron: 'sqs', size: 2 }]), 5)).toEqual({ executions: 60, estimated: false });
  expect(executionsPerInference(net([{ neuron: 'sqs-compat', size: 10 }]), 5)).toEqual({ executions: 50, estimated: false });
  expect(executionsPerInference(net([{ neuron: 'qlif', size: 10, shots: 8 }]), 5)).toEqual({ executions: 400, estimated: false });
  expect(executionsPerInference(net([{ neuron: 'qlif', size: 10 }]), 5)).toEqual({ executions: EXACT_QLIF_SHOT_ESTIMATE * 50, estimated: true });
  expect(executionsPerInference(net([{ neuron: 'lif', size: 10 }, { neuron: 'prob', size: 2 }]), 5)).toEqual({ executions: 0, estimated: false });
  expect(() => executionsPerInference(net([{ neuron: 'mystery', size: 1 }]), 5)).toThrow(/mystery/);
});

test('--jobs 2 runs each cell once, in two processes sharing the locks', () => {
  const out = tmp();
  const cli = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
  expect(fs.existsSync(cli)).toBe(true); // npm run build
  const r = spawnSync(process.execPath, [cli, 'experiment', 'run', '--config', tiny, '--out', out, '--jobs', '2'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const trained = r.stderr.split('\n').filter((l) => /test accuracy/.test(l));
  expect(trained).toHaveLength(4);
  const byWorker = (w: number) => trained.filter((l) => l.startsWith(`[worker ${w}]`)).map((l) => Number(/\[cell (\d+)\]/.exec(l)?.[1]));
  expect([...byWorker(1), ...byWorker(2)].sort()).toEqual([0, 1, 2, 3]);
  expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toContain('4 of 4 finished, 0 failed, 0 missing');
  fs.rmSync(out, { recursive: true, force: true });
}, 300_000);
