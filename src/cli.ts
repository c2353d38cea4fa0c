#!/usr/bin/env node
/**
 * The `sqsnn` command. Each subcommand lives in src/commands/<name>.ts and exports `run(argv)`;
 * user errors (bad flags, bad input files) print one line and exit 2, never a stack trace.
 */
import { SqsnnError } from '../kernels/errors';
import { fileSystemError } from './run-folder';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<void> }> }> = {
  'neuron-trace': { summary: 'simulate one SQS neuron from a JSON spec (--spec FILE|-)', load: () => import('./commands/neuron-trace') },
  'neuron-grad': { summary: 'local eligibilities ∂log p/∂θ of one neuron (--spec FILE|-)', load: () => import('./commands/neuron-grad') },
  train: { summary: 'train an SQSNN (or baseline) on a dataset', load: () => import('./commands/train') },
  eval: { summary: 'evaluate a checkpoint: accuracy and confusion matrix', load: () => import('./commands/eval') },
  'export-qasm': { summary: 'OpenQASM 2/3 program of a neuron or layer for a device (--spec FILE|- or --checkpoint DIR)', load: () => import('./commands/export-qasm') },
  likelihood: { summary: 'log-likelihood of device spike records under the model (--spec FILE --shots FILE)', load: () => import('./commands/likelihood') },
  bench: { summary: 'throughput benchmarks: bench neuron, bench local', load: () => import('./commands/bench') },
  experiment: { summary: 'grid of models × datasets × budgets × rules × seeds: plan, run (--jobs, --cell, --shard), slurm, report', load: () => import('./commands/experiment') },
  schema: { summary: 'JSON Schema of an input: train-config, experiment-config, neuron-spec, device-records', load: () => import('./commands/schema') },
  info: { summary: 'backend in use, versions, and why other backends were skipped', load: () => import('./commands/info') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(14)} ${v.summary}`);
  return `usage: sqsnn <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nCommon options: --backend tensorflow|wasm|cpu (or SQSNN_BACKEND), --seed N`;
}

/** Errors whose message is the whole story for a user (as opposed to bugs, which keep their stack). */
export function isUserError(e: unknown): e is SqsnnError {
  return e instanceof SqsnnError;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage() + '\n');
    return cmd ? 0 : 2;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`sqsnn: unknown command '${cmd}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    const mod = await entry.load();
    await mod.run(rest);
    return 0;
  } catch (e) {
    // A file-system fault met while writing (disk full, read-only, …) is the user's to fix, too.
    const user = isUserError(e) ? e : fileSystemError(e);
    if (user) {
      process.stderr.write(`sqsnn ${cmd}: ${user.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`sqsnn: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
