/**
 * What every `sqsnn` command shares on top of commander: option factories whose values are checked
 * when parsed (a bad value is one line naming the flag and what it accepts), strict parsing (an
 * unknown option, a flag given twice or a stray argument is a UsageError), and the mapping of
 * commander's own errors onto UsageError so the CLI exits 2 through the same `instanceof SqsnnError`
 * path as every other user error.
 */
import { Command, CommanderError, Option } from 'commander';
import { SqsnnError } from '../../kernels/errors';

/** A bad command line: unknown option, bad value, missing or stray argument. */
export class UsageError extends SqsnnError {}

export interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound (`--lr` must be > 0). */
  above?: number;
  max?: number;
}

/** `text` as a number obeying `rule`, or a UsageError naming `flag` (e.g. `--T`). */
export function checkNumber(flag: string, text: string, rule: NumberRule = {}): number {
  const x = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(x)) throw new UsageError(`${flag} must be a number, got '${text}'`);
  if (rule.integer && !Number.isInteger(x)) throw new UsageError(`${flag} must be an integer, got '${text}'`);
  if (rule.above !== undefined && !(x > rule.above)) throw new UsageError(`${flag} must be > ${rule.above}, got ${x}`);
  if (rule.min !== undefined && x < rule.min) throw new UsageError(`${flag} must be ≥ ${rule.min}, got ${x}`);
  if (rule.max !== undefined && x > rule.max) throw new UsageError(`${flag} must be ≤ ${rule.max}, got ${x}`);
  return x;
}

/** "a or b" / "one of a, b, c": what a choice flag accepts, for messages. */
export function allowed(values: readonly string[]): string {
  return values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
}

export function checkChoice<T extends string>(flag: string, text: string, values: readonly T[]): T {
  if (!values.includes(text as T)) throw new UsageError(`${flag} must be ${allowed(values)}, got '${text}'`);
  return text as T;
}

interface Default<T> {
  /** The value used when the flag is absent (commander fills it in). */
  default?: T;
  /** Shown as "(default: …)" in help when the default is not a plain value (e.g. "the recipe's"). */
  defaultText?: string;
}

function withDefault<T>(o: Option, d: Default<T>): Option {
  if (d.default !== undefined || d.defaultText !== undefined) o.default(d.default, d.defaultText);
  return o;
}

/** `--name <n>` holding a number checked against `rule`. */
export function numberOption(flags: string, description: string, rule: NumberRule & Default<number> = {}): Option {
  const o = new Option(flags, description);
  const flag = o.long as string;
  return withDefault(o.argParser((text: string) => checkNumber(flag, text, rule)), rule);
}

/** `--name <v>` holding one of `values` (listed in help). */
export function choiceOption<T extends string>(flags: string, description: string, values: readonly T[], d: Default<T> = {}): Option {
  const o = new Option(flags, description).choices(values);
  const flag = o.long as string;
  // Our parser replaces commander's (same check, our one-line message); the choices stay for help.
  return withDefault(o.argParser((text: string) => checkChoice(flag, text, values)), d);
}

/** `--name <v>` holding a string. */
export function stringOption(flags: string, description: string, d: Default<string> = {}): Option {
  return withDefault(new Option(flags, description), d);
}

/** `--name <a,b,…>`: a comma-separated list; every element must be present and pass `parse`. */
export function listOption<T>(flags: string, description: string, parse: (element: string) => T | undefined, what: string, d: Default<T[]> = {}): Option {
  const o = new Option(flags, description);
  const flag = o.long as string;
  const parser = (text: string): T[] =>
    text.split(',').map((e, i) => {
      const x = e.trim() === '' ? undefined : parse(e.trim());
      if (x === undefined) throw new UsageError(`${flag} must be ${what}, got '${text}' (element ${i + 1} is ${e.trim() === '' ? 'empty' : `'${e}'`})`);
      return x;
    });
  return withDefault(o.argParser(parser), d);
}

/** True when the user gave option `key` (attribute name, e.g. `limitTrain`) on the command line. */
export function given(cmd: Command, key: string): boolean {
  return cmd.getOptionValueSource(key) === 'cli';
}

/** The flags (`--lr --batch`) the user gave on the command line: all, or those among `keys` in their order. */
export function givenFlags(cmd: Command, keys?: string[]): string[] {
  const flagOf = new Map(cmd.options.map((o) => [o.attributeName(), o.long as string]));
  return (keys ?? [...flagOf.keys()]).filter((k) => flagOf.has(k) && given(cmd, k)).map((k) => flagOf.get(k) as string);
}

/** `sqsnn bench neuron`: the command's name with its parents'. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names[0] === 'sqsnn' ? names.join(' ') : ['sqsnn', ...names].join(' ');
}

/** What an option holds when absent, for help and docs; undefined for flags (true/false). */
export function optionDefault(o: Option): string | undefined {
  if (o.isBoolean() || o.negate) return undefined;
  if (o.defaultValueDescription !== undefined) return o.defaultValueDescription;
  if (o.defaultValue === undefined) return undefined;
  return Array.isArray(o.defaultValue) ? o.defaultValue.join(',') : String(o.defaultValue);
}

/** An option's help text: its meaning, then what it accepts and its default. */
export function describeOption(o: Option): string {
  const extra = [o.argChoices ? `${o.argChoices.join(', ')}` : '', optionDefault(o) !== undefined ? `default: ${optionDefault(o)}` : ''].filter(Boolean);
  return extra.length ? `${o.description} (${extra.join('; ')})` : o.description;
}

/**
 * Make `root` and every command below it strict and quiet: commander throws instead of exiting and
 * prints no error of its own (the caller prints one line); a flag given twice is refused (which one
 * was meant?); arguments a command does not declare are refused, naming them.
 */
export function makeStrict(root: Command): Command {
  const visit = (cmd: Command): void => {
    cmd.exitOverride((e) => {
      throw fromCommanderError(e, cmd);
    });
    cmd.configureOutput({ outputError: () => undefined });
    cmd.configureHelp({ optionDescription: describeOption, sortSubcommands: false });
    cmd.showSuggestionAfterError(true);
    cmd.allowExcessArguments(true); // checked below, to name the arguments
    const seen = new Set<string>();
    for (const o of cmd.options) {
      const name = o.name();
      cmd.on(`option:${name}`, () => {
        if (seen.has(name)) throw new UsageError(`${o.long} is given more than once`);
        seen.add(name);
      });
    }
    cmd.commands.forEach(visit);
  };
  visit(root);
  root.hook('preAction', (_root, action) => {
    const extra = action.args.slice(action.registeredArguments.length);
    // A command with subcommands that also runs on its own (the old form of `experiment`): a bare
    // word first is a mistyped subcommand.
    const subcommands = action.commands.map((c) => c.name()).filter((n) => n !== 'help');
    if (subcommands.length && extra.length && givenFlags(action).length === 0)
      throw new UsageError(`unknown subcommand '${extra[0]}': use ${allowed(subcommands).replace(/^one of /, '')} (see ${commandPath(action)} --help)`);
    if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.map((a) => `'${a}'`).join(' ')} (options are written --name value; see ${commandPath(action)} --help)`);
  });
  return root;
}

/**
 * Commander's error raised by `cmd` as ours: a UsageError with commander's message on one line and
 * where to find help; help and --version stay CommanderErrors (exit 0), except help shown because
 * no subcommand was named (a usage error).
 */
function fromCommanderError(e: CommanderError, cmd: Command): Error {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return e;
  const help = `see ${commandPath(cmd)} --help`;
  if (e.code === 'commander.help') return e.exitCode === 0 ? e : new UsageError(`name a command: ${cmd.commands.map((c) => c.name()).join(', ')} (${help})`);
  const text = e.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
    .replace(/^unknown option '([^']*)'/, 'unknown option $1')
    .replace(/\n/g, '; ');
  return new UsageError(`${text}; ${help}`);
}

/**
 * Parse `argv` with `cmd` (built fresh: commander keeps parsed values on the command) and run its
 * action. Bad command lines throw a UsageError; help and --version return normally.
 */
export async function runCommand(cmd: Command, argv: string[]): Promise<void> {
  makeStrict(cmd);
  try {
    await cmd.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // What is left is help or --version, already printed.
  }
}

/** `--backend`: which tfjs backend to use (checked by initBackend, which knows what is installed). */
export function backendOption(): Option {
  return new Option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu (or the SQSNN_BACKEND variable)').default(undefined, 'the fastest one installed');
}

/** `--json`: machine-readable output. */
export function jsonOption(what = 'print the result as one JSON object on stdout'): Option {
  return new Option('--json', what);
}

/** Throw a UsageError (usable where an expression is needed). */
export function usage(message: string): never {
  throw new UsageError(message);
}
