/** `sqsnn schema NAME`: the JSON Schema of an input file, for editors that complete and check JSON. */
import { Command } from 'commander';
import { z } from 'zod';
import { runCommand, UsageError } from '../cli/options';
import { SCHEMAS } from '../schemas';

export function schemaCommand(): Command {
  const names = Object.keys(SCHEMAS);
  return new Command('schema')
    .description(`JSON Schema of an input file: ${names.join(', ')}`)
    .argument('[name]', `which input: ${names.join(', ')}`)
    .action(async (name: string | undefined) => {
      if (!name || !(name in SCHEMAS)) throw new UsageError(`name one schema: ${names.join(', ')}${name ? ` (got '${name}')` : ''}`);
      // Refinements (per-kind layer options, cross-field checks) are not expressible: they stay open.
      // `input`: fields with defaults are optional in a file.
      const json = z.toJSONSchema(SCHEMAS[name as keyof typeof SCHEMAS], { unrepresentable: 'any', io: 'input' });
      process.stdout.write(JSON.stringify(json, null, 1) + '\n');
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(schemaCommand(), argv);
