/**
 * Checking JSON inputs against zod schemas, with one-line errors that name the path and the problem
 * (`network.layers[0].sizee: unknown key`). The schemas themselves live next to what they describe
 * (src/schemas.ts, src/spec.ts, each neuron kind's `configSchema`).
 */
import { z } from 'zod';
import { SqsnnError } from '../kernels/errors';

export class SchemaError extends SqsnnError {}

function pathText(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

/** Where an issue is and what it says; a union reports the alternative that got furthest. */
export function explain(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'unrecognized_keys') return { path: [...issue.path, issue.keys[0]], message: `unknown key${issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).join(', ')})` : ''}` };
  if (issue.code === 'invalid_union') {
    const all = issue.errors.flat();
    const deeper = all.find((i) => i.code === 'unrecognized_keys') ?? all.find((i) => i.path.length > 0);
    if (deeper) {
      const inner = explain(deeper);
      return { path: [...issue.path, ...inner.path], message: inner.message };
    }
    return { path: [...issue.path], message: 'not one of the accepted forms' };
  }
  return { path: [...issue.path], message: plainMessage(issue) };
}

function plainMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}` : `must be ${issue.inclusive === false ? '>' : '≥'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `takes at most ${issue.maximum} entries` : `must be ${issue.inclusive === false ? '<' : '≤'} ${issue.maximum}`;
    case 'invalid_type':
      return issue.message.includes('received undefined') ? `is required (${issue.expected})` : `must be ${issue.expected === 'int' ? 'an integer' : `a(n) ${issue.expected}`}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/** One line for a problem: `network.layers[0].sizee: unknown key`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const { path, message } = explain(issue);
  return `${path.length ? pathText(path) : 'top level'}: ${message}`;
}

/** Parse `raw` with `schema`, or throw a SchemaError (or `ErrorClass`) naming `what`, the path and the problem. */
export function validate<T extends z.ZodType>(schema: T, raw: unknown, what: string, ErrorClass: new (message: string) => SqsnnError = SchemaError): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new ErrorClass(`${what}: ${describeIssue(r.error.issues[0])}`);
}
