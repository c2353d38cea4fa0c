/**
 * The reference pages docs/cli.md and docs/config.md, generated from what the code declares: the
 * commander program (every command, option, meaning, accepted values, default) and the zod schemas
 * of the input files (every field, type, default, description). `npm run docs` writes them
 * (scripts/gen-docs.js); test/docs.test.ts fails when a committed page differs from what these give.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { sqsNeuron } from '../neurons/sqs';
import { SCHEMAS } from '../schemas';
import { optionDefault } from './options';

const GENERATED = (source: string) => `<!-- Generated from ${source} by \`npm run docs\` (scripts/gen-docs.js); do not edit by hand. -->`;

/** A markdown table cell: pipes escaped, no line breaks. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function optionRow(o: Option): string[] {
  const accepts = o.argChoices ? o.argChoices.join(', ') : o.isBoolean() ? 'flag (no value)' : '';
  return [`\`${o.flags}\``, o.description, accepts, optionDefault(o) ?? ''];
}

function commandSection(cmd: Command, depth: number): string[] {
  const path = commandPath(cmd);
  const subcommands = cmd.commands.filter((c) => c.name() !== 'help');
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ');
  const options = cmd.options.filter((o) => !o.hidden);
  const out = [`${'#'.repeat(depth)} \`${path}\``, '', cmd.description(), ''];
  out.push('```', `${path}${subcommands.length ? ' <command>' : ''}${args ? ` ${args}` : ''}${options.length ? ' [options]' : ''}`, '```', '');
  if (subcommands.length) out.push(`Commands: ${subcommands.map((c) => `\`${c.name()}\``).join(', ')}.`, '');
  if (options.length) out.push(table(['option', 'meaning', 'accepts', 'default'], options.map(optionRow)), '');
  for (const c of subcommands) out.push(...commandSection(c, depth + 1));
  return out;
}

/** docs/cli.md: every command and flag of `program`. */
export function cliReference(program: Command): string {
  const commands = program.commands.filter((c) => c.name() !== 'help');
  return [
    GENERATED('the commander program in src/cli.ts and src/commands/'),
    '',
    '# The `sqsnn` command',
    '',
    `${program.description()}.`,
    '',
    'Every command prints this help with `sqsnn <command> --help` (or `-h`); `sqsnn --version` prints the version.',
    'A bad flag or value, an unknown option, a flag given twice, or a bad input file is one line on stderr',
    'and exit code 2; a run stopped by Ctrl-C or SIGTERM writes a resumable checkpoint and exits 130 / 143.',
    'Input files are described in [config.md](config.md).',
    '',
    table(['command', 'what it does'], commands.map((c) => [`[\`sqsnn ${c.name()}\`](#sqsnn-${c.name()})`, c.description()])),
    '',
    ...commands.flatMap((c) => commandSection(c, 2)),
  ].join('\n');
}

type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
};

function bounds(s: JsonSchema): string {
  const b: string[] = [];
  const finite = (x: number | undefined): x is number => x !== undefined && Math.abs(x) < Number.MAX_SAFE_INTEGER;
  if (finite(s.minimum)) b.push(`≥ ${s.minimum}`);
  if (finite(s.exclusiveMinimum)) b.push(`> ${s.exclusiveMinimum}`);
  if (finite(s.maximum)) b.push(`≤ ${s.maximum}`);
  if (finite(s.exclusiveMaximum)) b.push(`< ${s.exclusiveMaximum}`);
  return b.length ? ` ${b.join(', ')}` : '';
}

/** A field's type in a few words: `integer ≥ 1`, `"adam" or "sgd"`, `number[]`. */
function typeText(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' or ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeText).join(' or ');
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.type + bounds(s);
    case 'array': {
      if (s.prefixItems) return `[${s.prefixItems.map(typeText).join(', ')}]`;
      const item = s.items ? typeText(s.items) : 'any';
      const list = `${/ /.test(item) ? `(${item})` : item}[]`;
      return s.minItems ? `${list} (at least ${s.minItems})` : list;
    }
    case 'object': {
      // A variant of a discriminated union reads by its tag: {kind: "rate"}.
      const tag = Object.entries(s.properties ?? {}).find(([, p]) => p.const !== undefined);
      if (tag) return `{${tag[0]}: ${JSON.stringify(tag[1].const)}}`;
      if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length)
        return `{ name: ${typeText(s.additionalProperties)} }`;
      return 'object';
    }
    case undefined:
      return 'any';
    default:
      return s.type;
  }
}

interface FieldRow {
  path: string;
  type: string;
  default: string;
  description: string;
}

/** Rows for `s` and the fields below it (objects, arrays of objects, variants of a union). */
function fieldRows(s: JsonSchema, path: string, required: boolean, note = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  if (path) {
    // "…; default: X" in a description is the default of a field whose default is not a value.
    const text = s.description ?? '';
    const m = /^(.*?);?\s*default:?\s+(.+)$/.exec(text);
    rows.push({
      path,
      type: typeText(s),
      default: s.default !== undefined ? JSON.stringify(s.default) : m ? m[2] : '',
      description: `${required ? '**required.** ' : ''}${note}${m ? m[1] : text}`,
    });
  }
  const below = (t: JsonSchema, p: string, n = ''): FieldRow[] =>
    Object.entries(t.properties ?? {}).flatMap(([k, v]) => (v.const !== undefined ? [] : fieldRows(v, p ? `${p}.${k}` : k, (t.required ?? []).includes(k) && v.default === undefined, n)));
  if (s.properties) rows.push(...below(s, path));
  else if (s.type === 'array' && s.items && s.items.properties) rows.push(...below(s.items, `${path}[]`));
  for (const v of s.anyOf ?? s.oneOf ?? []) {
    // A discriminated variant: its fields, labelled with the discriminator's value.
    const tag = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
    rows.push(...below(v, path, tag ? `(${tag[0]} ${JSON.stringify(tag[1].const)}) ` : ''));
  }
  return rows;
}

function schemaSection(title: string, schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
  const rows = fieldRows(json, '', false);
  const out = [`## ${title}`, ''];
  if (json.description) out.push(json.description, '');
  if (!json.properties && (json.anyOf ?? json.oneOf)) out.push(`Accepted forms: ${typeText(json)}.`, '');
  if (rows.length) out.push(table(['field', 'type', 'default', 'description'], rows.map((r) => [`\`${r.path}\``, r.type, r.default, r.description])), '');
  return out;
}

/** docs/config.md: every field of every input file the engine reads. */
export function configReference(): string {
  return [
    GENERATED('the zod schemas in src/schemas.ts'),
    '',
    '# Input files',
    '',
    'Every JSON input is checked against a strict schema: an unknown key (`{"epochz": 3}`) is an error naming',
    'its path. `sqsnn schema <name>` prints the JSON Schema of each, for editors that complete and check JSON.',
    'Defaults that depend on the neuron kind and the learning rule come from the recipes (src/recipes.ts,',
    '[recipes.md](recipes.md)). The command-line flags are in [cli.md](cli.md).',
    '',
    ...Object.entries(SCHEMAS).flatMap(([name, schema]) => schemaSection(`\`${name}\``, schema)),
    ...schemaSection('SQS layer options (`network.layers[]` with `neuron` sqs or sqs-compat)', sqsNeuron.configSchema as z.ZodType),
  ].join('\n');
}
