/**
 * `sqsnn experiment plan|run|slurm|report`: a grid of training runs as numbered cells, run here (one
 * process or `--jobs J`), in shards on many machines, or as a Slurm job array. The old form
 * `sqsnn experiment --config FILE --out DIR [--dry-run]` is `run` over the whole grid.
 */
import { spawn } from 'child_process';
import { bool, checkKnown, num, parseArgs, Parsed, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { cellNetwork, CellSpec, datasetCache, expandGrid, ExperimentConfig, ExperimentError, Phase, PHASES, prepareOutDir, readExperiment, runExperiment } from '../experiment';
import { checkDatasetNames } from '../experiment-check';
import { cellStatus, writeReport } from '../experiment-report';
import { cliPath, submitSlurm, writeSlurmScripts } from '../experiment-slurm';
import { countParameters } from '../budget';
import { readJsonInput } from '../spec';
import { exitOnInterrupt } from '../interrupt';

const USAGE = `usage:
  sqsnn experiment plan   --config F [--json]
  sqsnn experiment run    --config F --out DIR [--cell K | --shard I/N] [--phase tune|final] [--jobs J] [--quiet]
                          [--no-report] [--no-wait]   (no report; leave cells other workers hold to them)
  sqsnn experiment slurm  --config F --out DIR [--submit] [--wait] [--partition P] [--time T]
                          [--cpus-per-task C] [--mem M] [--max-parallel K]
  sqsnn experiment report --out DIR`;

const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(s + '\n');

function requireOut(p: Parsed): string {
  const dir = str(p, 'out');
  if (!dir) throw new UsageError('--out DIR is required');
  return dir;
}

/** --config F, or the config saved in DIR by an earlier run. */
function loadConfig(p: Parsed, dir?: string): ExperimentConfig {
  if (str(p, 'config') === undefined && dir) return readExperiment(dir);
  const cfg = readJsonInput(str(p, 'config'), '--config') as ExperimentConfig;
  checkDatasetNames(cfg);
  return cfg;
}

/** The cells `--cell K`, `--shard I/N` and `--phase P` pick (all by default). */
function selection(p: Parsed, cells: CellSpec[]): (c: CellSpec) => boolean {
  const phase = str(p, 'phase');
  if (phase !== undefined && !PHASES.includes(phase as Phase)) throw new UsageError(`--phase must be tune or final, got '${phase}'`);
  const cell = num(p, 'cell', undefined, { integer: true, min: 0, max: cells.length - 1 });
  const shard = str(p, 'shard');
  if (cell !== undefined && shard !== undefined) throw new UsageError('give --cell K or --shard I/N, not both');
  let shardOf: ((c: CellSpec) => boolean) | undefined;
  if (shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 ≤ I < N, got '${shard}'`);
    // Round-robin over plan order, so shards get similar mixes of cheap and costly cells.
    shardOf = (c) => c.index % Number(m[2]) === Number(m[1]);
  }
  return (c) => (phase === undefined || c.phase === phase) && (cell === undefined || c.index === cell) && (!shardOf || shardOf(c));
}

async function plan(p: Parsed): Promise<void> {
  checkKnown(p, ['config', 'json']);
  const cfg = loadConfig(p);
  const cells = expandGrid(cfg);
  const data = datasetCache();
  const rows = cells.map((c) => {
    const ds = data(c.data);
    const parameters = countParameters(cellNetwork(c, ds));
    const held = c.phase === 'tune' ? Math.round((c.tune?.validation ?? 0.1) * ds.nTrain) : 0;
    const trainingSamples = ds.nTrain - held;
    // Cost in parameter·sample·steps: what a training run's arithmetic grows with.
    const cost = c.data.epochs * trainingSamples * c.data.steps * parameters;
    return { index: c.index, id: c.id, phase: c.phase, group: c.group, dataset: c.label, model: c.model.name, rule: c.rule, budget: c.budget, seed: c.seed, ...(c.lr !== undefined ? { lr: c.lr } : {}), parameters, trainingSamples, epochs: c.data.epochs, steps: c.data.steps, cost };
  });
  if (bool(p, 'json')) return out(JSON.stringify(rows, null, 1));
  const total = rows.reduce((s, r) => s + r.cost, 0);
  out('cell  phase  cost (G param·sample·steps)  id');
  for (const r of rows) out(`${String(r.index).padStart(4)}  ${r.phase.padEnd(5)}  ${(r.cost / 1e9).toFixed(3).padStart(26)}  ${r.id}`);
  const tune = rows.filter((r) => r.phase === 'tune').length;
  const range = (a: number, b: number) => (b > a ? `${a}-${b - 1}` : a === b - 1 ? `${a}` : 'none');
  out(`${rows.length} cells: tuning ${range(0, tune)}, final ${range(tune, rows.length)}; total cost ${(total / 1e9).toFixed(3)} G`);
}

function reportSummary(dir: string): void {
  const status = writeReport(dir);
  out(`${status.finished.length} cells finished, ${status.failed.length} failed, ${status.missing.length} missing; see ${dir}/results.md`);
  for (const f of status.failed) out(`failed: cell ${f.cell.index} ${f.cell.id}: ${f.error}${f.log ? ` (log ${f.log})` : ''}`);
  for (const m of status.missing) out(`missing: cell ${m.cell.index} ${m.cell.id}${m.log ? ` (log ${m.log})` : ''}`);
}

/** Run the selected cells of one phase in `jobs` child processes sharing the cell locks. */
function runChildren(dir: string, p: Parsed, phase: Phase, jobs: number): Promise<number[]> {
  const pass = ['cell', 'shard', 'backend'].flatMap((k) => (str(p, k) !== undefined ? [`--${k}`, str(p, k) as string] : []));
  const args = [cliPath(), 'experiment', 'run', '--out', dir, '--phase', phase, ...pass, '--quiet', '--no-report', '--no-wait'];
  return Promise.all(
    Array.from({ length: jobs }, (_, j) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let rest = '';
        child.stderr.on('data', (b: Buffer) => {
          const lines = (rest + b.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) err(`[worker ${j + 1}] ${l}`);
        });
        child.on('close', (code) => resolve(code ?? 1));
      }),
    ),
  );
}

async function runCells(p: Parsed): Promise<void> {
  checkKnown(p, ['config', 'out', 'cell', 'shard', 'phase', 'jobs', 'backend', 'quiet', 'no-report', 'no-wait', 'dry-run']);
  const dir = requireOut(p);
  const cfg = loadConfig(p, dir);
  const cells = expandGrid(cfg);
  const select = selection(p, cells);
  const chosen = cells.filter(select);
  if (bool(p, 'dry-run')) return out(chosen.map((c) => `${c.index} ${c.id}`).join('\n') + `\n${chosen.length} cells`);
  const whole = chosen.length === cells.length;
  const report = !bool(p, 'no-report') && whole;
  // Ctrl-C / SIGTERM: finished cells stay finished and the interrupted one resumes from its last
  // checkpoint (its lock, held by a dead process, is taken over), so say how to continue.
  const again = `sqsnn experiment run --config ${str(p, 'config')} --out ${dir}`;
  exitOnInterrupt((signal) => `sqsnn experiment: stopped by ${signal}; finished cells are kept in ${dir}/cells and an interrupted cell resumes from its last checkpoint; continue with: ${again}`);
  const jobs = num(p, 'jobs', 1, { integer: true, min: 1 }) as number;
  if (jobs > 1) {
    prepareOutDir(cfg, dir);
    err(`sqsnn experiment: ${chosen.length} cells in ${jobs} processes, results in ${dir}`);
    for (const phase of PHASES) if (chosen.some((c) => c.phase === phase)) await runChildren(dir, p, phase, jobs);
    const status = report ? writeReport(dir) : cellStatus(dir, chosen);
    const bad = status.failed.filter((f) => select(f.cell));
    if (bad.length) throw new ExperimentError(`${bad.length} cell(s) failed: ${bad.map((f) => `${f.cell.index} (${f.error})`).join('; ')}`);
    return out(`${chosen.length} cells run${report ? `; see ${dir}/results.md` : ''}`);
  }
  const backend = await initBackend(str(p, 'backend'));
  err(`sqsnn experiment: ${chosen.length} of ${cells.length} cells, backend ${backend.backend}, results in ${dir}`);
  const results = await runExperiment(cfg, dir, { quiet: bool(p, 'quiet'), select, report, waitForOthers: !bool(p, 'no-wait') });
  out(`${results.length} cells${report ? `; see ${dir}/results.md` : ''}`);
}

async function slurm(p: Parsed): Promise<void> {
  checkKnown(p, ['config', 'out', 'submit', 'wait', 'partition', 'time', 'cpus-per-task', 'mem', 'max-parallel']);
  const dir = requireOut(p);
  const cfg = loadConfig(p, dir);
  const cells = expandGrid(cfg);
  prepareOutDir(cfg, dir);
  const planned = writeSlurmScripts(dir, cells, {
    partition: str(p, 'partition'),
    time: str(p, 'time'),
    cpusPerTask: num(p, 'cpus-per-task', undefined, { integer: true, min: 1 }),
    mem: str(p, 'mem'),
    maxParallel: num(p, 'max-parallel', undefined, { integer: true, min: 1 }),
  });
  out(`wrote ${planned.script} and ${planned.submitScript}`);
  for (const a of planned.arrays) out(`${a.phase} cells: --array=${a.spec}`);
  if (!planned.arrays.length) {
    out('every cell is finished; nothing to submit');
    if (bool(p, 'wait')) reportSummary(dir);
    return;
  }
  if (!bool(p, 'submit')) {
    if (bool(p, 'wait')) throw new UsageError('--wait needs --submit');
    return out(`submit with: ${planned.submitScript}`);
  }
  const { jobs } = submitSlurm(planned, { wait: bool(p, 'wait'), log: err });
  out(`submitted job(s) ${jobs.join(', ')}`);
  if (!bool(p, 'wait')) return out(`when they end: sqsnn experiment report --out ${dir}`);
  reportSummary(dir);
  const status = cellStatus(dir, cells);
  if (status.failed.length || status.missing.length) {
    out(`resubmit only the unfinished cells: sqsnn experiment slurm --out ${dir} --submit (or: sbatch --array=${[...status.failed, ...status.missing].map((x) => x.cell.index).join(',')} ${planned.script})`);
    throw new ExperimentError(`${status.failed.length + status.missing.length} of ${cells.length} cells did not finish`);
  }
}

async function report(p: Parsed): Promise<void> {
  checkKnown(p, ['out']);
  reportSummary(requireOut(p));
}

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const subcommands: Record<string, (p: Parsed) => Promise<void>> = { plan, run: runCells, slurm, report };
  const booleans = ['quiet', 'dry-run', 'json', 'submit', 'wait', 'no-report', 'no-wait'];
  if (sub === undefined || sub === '--help' || sub === 'help') return out(USAGE);
  if (sub.startsWith('--')) return runCells(parseArgs(argv, booleans)); // the original form: run the whole grid
  const handler = subcommands[sub];
  if (!handler) throw new UsageError(`unknown subcommand '${sub}': use plan, run, slurm or report`);
  await handler(parseArgs(rest, booleans));
}
