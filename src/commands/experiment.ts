/**
 * `sqsnn experiment plan|run|slurm|report|restore`: a grid of training runs as numbered cells, run here (one
 * process or `--jobs J`), in shards on many machines, or as a Slurm job array. The old form
 * `sqsnn experiment --config FILE --out DIR [--dry-run]` is `run` over the whole grid.
 */
import { spawn } from 'child_process';
import { Command, Option } from 'commander';
import { initBackend } from '../backend';
import { watchInterrupts } from '../cli/interrupt';
import { backendOption, checkNumber, choiceOption, jsonOption, numberOption, runCommand, stringOption, UsageError } from '../cli/options';
import { batchProgress } from '../cli/progress';
import { cellNetwork, CellSpec, datasetCache, expandGrid, ExperimentConfig, ExperimentError, Phase, PHASES, prepareOutDir, readExperiment, runExperiment } from '../experiment';
import { checkDatasetNames } from '../experiment-check';
import { cellStatus, writeReport } from '../experiment-report';
import { restoreFromCsv } from '../experiment-restore';
import { cliPath, submitSlurm, writeSlurmScripts } from '../experiment-slurm';
import { countParameters } from '../budget';
import { readJsonInput } from '../spec';

const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(s + '\n');

interface RunOptions {
  config?: string;
  out?: string;
  cell?: number;
  shard?: string;
  phase?: Phase;
  jobs: number;
  backend?: string;
  quiet?: boolean;
  report: boolean;
  wait: boolean;
  dryRun?: boolean;
}

interface SlurmOptions {
  config?: string;
  out?: string;
  submit?: boolean;
  wait?: boolean;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  maxParallel?: number;
}

const configOption = () => stringOption('--config <file>', 'the experiment config JSON (sqsnn schema experiment-config; docs/config.md)');
const outOption = (what: string) => stringOption('--out <dir>', what);

/** The options of `experiment run` (also those of the old form `sqsnn experiment --config F --out DIR`). */
function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(configOption().default(undefined, 'the experiment.json of --out, when it exists'))
    .addOption(outOption('(required) the grid folder: cells/, results.md, plots'))
    .addOption(numberOption('--cell <k>', 'run only cell K (numbers: sqsnn experiment plan)', { integer: true, min: 0 }))
    .addOption(stringOption('--shard <i/n>', 'run only cells K with K mod N = I (one of N machines)'))
    .addOption(choiceOption('--phase <phase>', 'run only the tuning or the final cells', PHASES, { defaultText: 'both, tuning first' }))
    .addOption(numberOption('--jobs <j>', 'cells trained at once, in J processes', { integer: true, min: 1, default: 1 }))
    .addOption(backendOption())
    .addOption(new Option('--quiet', 'no progress bars'))
    .addOption(new Option('--no-report', 'do not write results.md and the plots at the end'))
    .addOption(new Option('--no-wait', 'leave cells other workers hold to them instead of waiting'))
    .addOption(new Option('--dry-run', 'list the cells that would run, and stop'));
}

export function experimentCommand(): Command {
  const plan = new Command('plan')
    .description('list the cells of a grid with their cost')
    .addOption(configOption().default(undefined, 'required'))
    .addOption(jsonOption('print the cells as a JSON array'))
    .action(planCells);
  const run = addRunOptions(new Command('run').description('run the cells of a grid here (all, --cell K or --shard I/N), in --jobs J processes')).action(runCells);
  const slurm = new Command('slurm')
    .description('write (and --submit) Slurm job arrays for the cells of a grid')
    .addOption(configOption().default(undefined, 'the experiment.json of --out, when it exists'))
    .addOption(outOption('(required) the grid folder'))
    .addOption(new Option('--submit', 'submit the arrays with sbatch'))
    .addOption(new Option('--wait', 'with --submit: wait for the jobs and write the report'))
    .addOption(stringOption('--partition <p>', 'Slurm partition', { defaultText: "the cluster's" }))
    .addOption(stringOption('--time <t>', 'time limit per task', { defaultText: "the cluster's" }))
    .addOption(numberOption('--cpus-per-task <c>', 'CPUs per task', { integer: true, min: 1, defaultText: "the cluster's" }))
    .addOption(stringOption('--mem <m>', 'memory per task', { defaultText: "the cluster's" }))
    .addOption(numberOption('--max-parallel <k>', 'tasks of an array running at once', { integer: true, min: 1, defaultText: 'no limit' }))
    .action(slurmCells);
  const report = new Command('report')
    .description('write results.md and plots from the finished cells of a grid folder')
    .addOption(outOption('(required) the grid folder'))
    .action(reportCells);
  const restore = new Command('restore')
    .description("rebuild a grid folder's finished cells from a report's results.csv (the run folder was lost), so the grid resumes there")
    .addOption(configOption().default(undefined, 'the experiment.json of --out, when it exists'))
    .addOption(outOption('(required) the grid folder to restore into'))
    .addOption(stringOption('--from <csv>', "(required) the results.csv of the grid's report, e.g. bench/results/paper-fmnist/results.csv"))
    .action(restoreCells);
  // `sqsnn experiment --config F --out DIR` (the form before subcommands) is `run`.
  return addRunOptions(
    new Command('experiment')
      .description('grid of models × datasets × budgets × rules × seeds: plan, run (--jobs, --cell, --shard), slurm, report')
      .enablePositionalOptions(),
  )
    .addCommand(plan)
    .addCommand(run)
    .addCommand(slurm)
    .addCommand(report)
    .addCommand(restore)
    .action(async (o: RunOptions, cmd: Command) => {
      if (!o.config && !o.out) {
        cmd.outputHelp();
        return;
      }
      await runCells(o);
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(experimentCommand(), argv);

function requireOut(o: { out?: string }): string {
  if (!o.out) throw new UsageError('--out DIR is required');
  return o.out;
}

/** --config F, or the config saved in DIR by an earlier run. */
function loadConfig(file: string | undefined, dir?: string): ExperimentConfig {
  if (file === undefined && dir) return readExperiment(dir);
  const cfg = readJsonInput(file, '--config') as ExperimentConfig;
  checkDatasetNames(cfg);
  return cfg;
}

/** The cells `--cell K`, `--shard I/N` and `--phase P` pick (all by default). */
function selection(o: RunOptions, cells: CellSpec[]): (c: CellSpec) => boolean {
  const { phase, cell, shard } = o;
  if (cell !== undefined) checkNumber('--cell', String(cell), { max: cells.length - 1 });
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

async function planCells(o: { config?: string; json?: boolean }): Promise<void> {
  if (!o.config) throw new UsageError('--config FILE is required');
  const cfg = loadConfig(o.config);
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
  if (o.json) return out(JSON.stringify(rows, null, 1));
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
  for (const m of status.missing) out(`missing: cell ${m.cell.index} ${m.cell.id}${m.stale ? ` (stale: ${m.stale})` : ''}${m.waitsFor ? ` (waits for tuning cell(s) ${m.waitsFor.join(', ')})` : ''}${m.log ? ` (log ${m.log})` : ''}`);
}

/**
 * Run the selected cells of one phase in `jobs` child processes sharing the cell locks. An abort
 * passes SIGINT on to them (each stops its cell at a checkpoint).
 */
function runChildren(dir: string, o: RunOptions, phase: Phase, jobs: number, signal: AbortSignal): Promise<number[]> {
  const pass = (['cell', 'shard', 'backend'] as const).flatMap((k) => (o[k] !== undefined ? [`--${k}`, String(o[k])] : []));
  const args = [cliPath(), 'experiment', 'run', '--out', dir, '--phase', phase, ...pass, '--quiet', '--no-report', '--no-wait'];
  return Promise.all(
    Array.from({ length: jobs }, (_, j) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        const stop = () => child.kill('SIGINT');
        signal.addEventListener('abort', stop);
        let rest = '';
        child.stderr.on('data', (b: Buffer) => {
          const lines = (rest + b.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) err(`[worker ${j + 1}] ${l}`);
        });
        child.on('close', (code) => {
          signal.removeEventListener('abort', stop);
          resolve(code ?? 1);
        });
      }),
    ),
  );
}

async function runCells(o: RunOptions): Promise<void> {
  const dir = requireOut(o);
  const cfg = loadConfig(o.config, dir);
  const cells = expandGrid(cfg);
  const select = selection(o, cells);
  const chosen = cells.filter(select);
  if (o.dryRun) return out(chosen.map((c) => `${c.index} ${c.id}`).join('\n') + `\n${chosen.length} cells`);
  const whole = chosen.length === cells.length;
  const report = o.report && whole;
  // Ctrl-C / SIGTERM: the cell in training stops at a checkpoint, finished cells stay finished,
  // and the interrupted one resumes from its checkpoint (its lock is released), so say how to continue.
  const again = `sqsnn experiment run --config ${o.config} --out ${dir}`;
  const interrupts = watchInterrupts((signal) => `sqsnn experiment: stopped by ${signal}; finished cells are kept in ${dir}/cells and an interrupted cell resumes from its last checkpoint; continue with: ${again}`);
  try {
    const jobs = o.jobs;
    if (jobs > 1) {
      prepareOutDir(cfg, dir);
      err(`sqsnn experiment: ${chosen.length} cells in ${jobs} processes, results in ${dir}`);
      for (const phase of PHASES) if (chosen.some((c) => c.phase === phase) && !interrupts.signal.aborted) await runChildren(dir, o, phase, jobs, interrupts.signal);
      interrupts.throwIfInterrupted();
      const status = report ? writeReport(dir) : cellStatus(dir, chosen);
      const bad = status.failed.filter((f) => select(f.cell));
      if (bad.length) throw new ExperimentError(`${bad.length} cell(s) failed: ${bad.map((f) => `${f.cell.index} (${f.error})`).join('; ')}`);
      return out(`${chosen.length} cells run${report ? `; see ${dir}/results.md` : ''}`);
    }
    const backend = await initBackend(o.backend);
    err(`sqsnn experiment: ${chosen.length} of ${cells.length} cells, backend ${backend.backend}, results in ${dir}`);
    const progress = batchProgress(Boolean(o.quiet));
    let results;
    try {
      results = await runExperiment(cfg, dir, { select, report, waitForOthers: o.wait, log: err, onBatch: (cell, p) => progress.draw(p, `cell ${cell.index} `), signal: interrupts.signal });
    } finally {
      progress.end();
    }
    interrupts.throwIfInterrupted();
    out(`${results.length} cells${report ? `; see ${dir}/results.md` : ''}`);
  } finally {
    interrupts.stop();
  }
}

async function slurmCells(o: SlurmOptions): Promise<void> {
  const dir = requireOut(o);
  const cfg = loadConfig(o.config, dir);
  const cells = expandGrid(cfg);
  prepareOutDir(cfg, dir);
  const planned = writeSlurmScripts(dir, cells, {
    partition: o.partition,
    time: o.time,
    cpusPerTask: o.cpusPerTask,
    mem: o.mem,
    maxParallel: o.maxParallel,
  });
  out(`wrote ${planned.script} and ${planned.submitScript}`);
  for (const a of planned.arrays) out(`${a.phase} cells: --array=${a.spec}`);
  if (!planned.arrays.length) {
    out('every cell is finished; nothing to submit');
    if (o.wait) reportSummary(dir);
    return;
  }
  if (!o.submit) {
    if (o.wait) throw new UsageError('--wait needs --submit');
    return out(`submit with: ${planned.submitScript}`);
  }
  const { jobs } = submitSlurm(planned, { wait: o.wait, log: err });
  out(`submitted job(s) ${jobs.join(', ')}`);
  if (!o.wait) return out(`when they end: sqsnn experiment report --out ${dir}`);
  reportSummary(dir);
  const status = cellStatus(dir, cells);
  if (status.failed.length || status.missing.length) {
    out(`resubmit only the unfinished cells: sqsnn experiment slurm --out ${dir} --submit (or: sbatch --array=${[...status.failed, ...status.missing].map((x) => x.cell.index).join(',')} ${planned.script})`);
    throw new ExperimentError(`${status.failed.length + status.missing.length} of ${cells.length} cells did not finish`);
  }
}

async function restoreCells(o: { config?: string; out?: string; from?: string }): Promise<void> {
  const dir = requireOut(o);
  if (!o.from) throw new UsageError('--from CSV is required');
  const r = restoreFromCsv(loadConfig(o.config, dir), dir, o.from);
  out(`restored ${r.restored.length} cell(s) into ${dir}/cells, kept ${r.kept.length} already there` + (r.unmatched.length ? `; ${r.unmatched.length} row(s) match no cell of this config (lines ${r.unmatched.join(', ')})` : ''));
}

async function reportCells(o: { out?: string }): Promise<void> {
  reportSummary(requireOut(o));
}
