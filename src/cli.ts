#!/usr/bin/env node
/**
 * The `sqsnn` command: one commander program whose commands live in src/commands/<name>.ts (each
 * declares its options, with meaning and default, and its action). Every command has --help;
 * docs/cli.md is generated from this program (scripts/gen-docs.js). User errors — bad flags and
 * values (UsageError), bad input files, impossible configs (all SqsnnError) — print one line and
 * exit 2, never a stack trace; a run stopped by Ctrl-C / SIGTERM exits 130 / 143.
 */
import { Command } from 'commander';
import { SqsnnError } from '../kernels/errors';
import { Interrupted } from './cli/interrupt';
import { runCommand } from './cli/options';
import { benchCommand } from './commands/bench';
import { evalCommand } from './commands/eval';
import { experimentCommand } from './commands/experiment';
import { exportQasmCommand } from './commands/export-qasm';
import { infoCommand } from './commands/info';
import { likelihoodCommand } from './commands/likelihood';
import { neuronGradCommand } from './commands/neuron-grad';
import { neuronTraceCommand } from './commands/neuron-trace';
import { schemaCommand } from './commands/schema';
import { trainCommand } from './commands/train';
import { packageVersion } from './paths';
import { fileSystemError } from './run-folder';

/** The whole CLI as a commander program (built fresh per parse: commander keeps values on it). */
export function buildProgram(): Command {
  return new Command('sqsnn')
    .description('stochastic quantum spiking neural networks: simulate, train, benchmark, export to devices')
    .usage('<command> [options]')
    .version(packageVersion(), '-V, --version', 'print the sqsnn version')
    .helpOption('-h, --help', 'show help (also: sqsnn <command> --help)')
    .enablePositionalOptions()
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(experimentCommand())
    .addCommand(benchCommand())
    .addCommand(neuronTraceCommand())
    .addCommand(neuronGradCommand())
    .addCommand(exportQasmCommand())
    .addCommand(likelihoodCommand())
    .addCommand(schemaCommand())
    .addCommand(infoCommand());
}

/** Errors whose message is the whole story for a user (as opposed to bugs, which keep their stack). */
export function isUserError(e: unknown): e is SqsnnError {
  return e instanceof SqsnnError;
}

/** Run the CLI on `argv` (without `node sqsnn`); the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Messages name the command the user typed: `sqsnn train: …`.
  const command = program.commands.find((c) => c.name() === argv[0]);
  const prefix = command ? `sqsnn ${command.name()}` : 'sqsnn';
  try {
    await runCommand(program, argv);
    return 0;
  } catch (e) {
    if (e instanceof Interrupted) {
      process.stderr.write(e.message + '\n');
      return e.exitCode;
    }
    // A file-system fault met while writing (disk full, read-only, …) is the user's to fix, too.
    const user = isUserError(e) ? e : fileSystemError(e);
    if (user) {
      process.stderr.write(`${prefix}: ${user.message}\n`);
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
