/**
 * Minimal strict flag parser: `--name value`, `--name=value`, bare `--flag` (true), positionals.
 * A flag given twice is an error (which one was meant?); `checkKnown` also refuses positionals.
 */
import { SqsnnError } from '../kernels/errors';
export class UsageError extends SqsnnError {}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | boolean>;
}

export function parseArgs(argv: string[], booleanFlags: string[] = []): Parsed {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!name) throw new UsageError(`'${a}' is not an option`);
      if (name in flags) throw new UsageError(`--${name} is given more than once`);
      if (eq > 0) flags[name] = a.slice(eq + 1);
      else if (booleanFlags.includes(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags[name] = true;
      else flags[name] = argv[++i];
    } else positional.push(a);
  }
  return { positional, flags };
}

export function str(p: Parsed, name: string, fallback?: string): string | undefined {
  const v = p.flags[name];
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function num(p: Parsed, name: string, fallback?: number, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  if (opts.integer && !Number.isInteger(x)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  if (opts.min !== undefined && x < opts.min) throw new UsageError(`--${name} must be ≥ ${opts.min}, got ${x}`);
  if (opts.max !== undefined && x > opts.max) throw new UsageError(`--${name} must be ≤ ${opts.max}, got ${x}`);
  return x;
}

export function bool(p: Parsed, name: string): boolean {
  const v = p.flags[name];
  return v === true || v === 'true' || v === '1';
}

/** A comma-separated list (`--hidden 64,32`): every element must be present and pass `parse`. */
export function list<T>(p: Parsed, name: string, parse: (element: string) => T | undefined, what: string): T[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  return v.split(',').map((e, i) => {
    const x = e.trim() === '' ? undefined : parse(e.trim());
    if (x === undefined) throw new UsageError(`--${name} must be ${what}, got '${v}' (element ${i + 1} is ${e.trim() === '' ? 'empty' : `'${e}'`})`);
    return x;
  });
}

/** Reject flags a command does not know, naming them, and arguments that are not flags. */
export function checkKnown(p: Parsed, known: string[], opts: { positionals?: number } = {}): void {
  const extra = p.positional.slice(opts.positionals ?? 0);
  if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.map((a) => `'${a}'`).join(' ')} (options are written --name value)`);
  const bad = Object.keys(p.flags).filter((k) => !known.includes(k));
  if (bad.length) throw new UsageError(`unknown option(s): ${bad.map((b) => '--' + b).join(' ')}; known: ${known.map((k) => '--' + k).join(' ')}`);
}
