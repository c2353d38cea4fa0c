/**
 * An experiment grid as a Slurm job array: one array task per cell, `sqsnn experiment run --cell
 * $SLURM_ARRAY_TASK_ID`, log per task in DIR/slurm/logs/cell-K.out. Tuning cells and final cells
 * are two contiguous index ranges (src/experiment.ts); with tuning, the final array depends on the
 * tuning array (`afterany`, so a final cell whose tuning failed fails with a message instead of
 * waiting forever). Only unfinished cells are put in the arrays, so writing/submitting again
 * resubmits exactly the failed and missing cells.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CellSpec, ExperimentError, Phase, PHASES, currentResult } from './experiment';
import { packageRoot } from './paths';

export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  /** At most this many tasks of an array run at once (`--array=…%K`). */
  maxParallel?: number;
}

export interface SlurmPlan {
  script: string;
  submitScript: string;
  /** The unfinished cells of each phase, in submission order (phases without any are left out). */
  arrays: { phase: Phase; indices: number[]; spec: string }[];
}

/** Slurm's array syntax for a set of indices: ranges joined by commas, e.g. "0-3,7,9-10%2". */
export function arraySpec(indices: number[], maxParallel?: number): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',') + (maxParallel ? `%${maxParallel}` : '');
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function cliPath(): string {
  const cli = path.join(packageRoot(), 'dist', 'src', 'cli.js');
  if (!fs.existsSync(cli)) throw new ExperimentError(`${cli} not found: run 'npm run build' first`);
  return cli;
}

/** Write DIR/slurm/experiment.sbatch (one task per cell) and DIR/slurm/submit.sh (the phases in order). */
export function writeSlurmScripts(outDir: string, cells: CellSpec[], opts: SlurmOptions = {}): SlurmPlan {
  const out = path.resolve(outDir);
  const dir = path.join(out, 'slurm');
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const arrays = PHASES.map((phase) => {
    const indices = cells.filter((c) => c.phase === phase && !currentResult(out, cells, c)).map((c) => c.index);
    return { phase, indices, spec: arraySpec(indices, opts.maxParallel) };
  }).filter((a) => a.indices.length);
  const script = path.join(dir, 'experiment.sbatch');
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=sqsnn-${path.basename(out).replace(/[^\w.-]/g, '_')}`,
    `#SBATCH --output=${path.join(dir, 'logs', 'cell-%a.out')}`,
    // The first phase's cells; submit.sh (or --submit) passes each phase's --array explicitly.
    ...(arrays.length ? [`#SBATCH --array=${arrays[0].spec}`] : []),
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    ...(opts.time ? [`#SBATCH --time=${opts.time}`] : []),
    ...(opts.cpusPerTask ? [`#SBATCH --cpus-per-task=${opts.cpusPerTask}`] : []),
    ...(opts.mem ? [`#SBATCH --mem=${opts.mem}`] : []),
    '# One cell per array task; the cell number is the task id. Written by `sqsnn experiment slurm`.',
    'set -euo pipefail',
    `exec ${quote(process.execPath)} ${quote(cliPath())} experiment run --config ${quote(path.join(out, 'experiment.json'))} --out ${quote(out)} --cell "$SLURM_ARRAY_TASK_ID" --quiet`,
  ];
  fs.writeFileSync(script, lines.join('\n') + '\n', { mode: 0o755 });
  const submitScript = path.join(dir, 'submit.sh');
  const submit = ['#!/bin/bash', '# Submits the unfinished cells, phase by phase (written by `sqsnn experiment slurm`).', 'set -euo pipefail', 'dep=()'];
  for (const a of arrays) {
    submit.push(`job=$(sbatch --parsable --array=${a.spec} "\${dep[@]}" ${quote(script)})`, `echo "${a.phase} cells: job \${job%%;*}"`, 'dep=(--dependency=afterany:${job%%;*})');
  }
  fs.writeFileSync(submitScript, submit.join('\n') + '\n', { mode: 0o755 });
  return { script, submitScript, arrays };
}

function sbatch(args: string[]): { status: number; stdout: string } {
  const r = spawnSync('sbatch', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.error) throw new ExperimentError(`cannot run sbatch: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH (is this a Slurm login node?)' : r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout.trim() };
}

/**
 * Submit the arrays of `plan`, each after the previous one. With `wait`, the last submission uses
 * `sbatch --wait`, which returns when its tasks have ended (and so have the earlier phases').
 * Returns the job ids and whether every task of the waited-for array succeeded.
 */
export function submitSlurm(plan: SlurmPlan, opts: { wait?: boolean; log?: (s: string) => void } = {}): { jobs: string[]; succeeded?: boolean } {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const jobs: string[] = [];
  let succeeded: boolean | undefined;
  for (const [i, a] of plan.arrays.entries()) {
    const last = i === plan.arrays.length - 1;
    const waitHere = opts.wait && last;
    const args = ['--parsable', `--array=${a.spec}`, ...(jobs.length ? [`--dependency=afterany:${jobs[jobs.length - 1]}`] : []), ...(waitHere ? ['--wait'] : []), plan.script];
    if (waitHere) log(`sbatch ${args.join(' ')}  (waiting for the job to end)`);
    const r = sbatch(args);
    const id = r.stdout.split('\n')[0].split(';')[0];
    if (!/^\d+$/.test(id)) throw new ExperimentError(`sbatch did not return a job id (exit ${r.status}): '${r.stdout}'`);
    jobs.push(id);
    log(`${a.phase} cells ${a.spec}: job ${id}`);
    if (waitHere) succeeded = r.status === 0;
  }
  return { jobs, succeeded };
}
