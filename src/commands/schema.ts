import { z } from 'zod';
import { checkKnown, parseArgs, UsageError } from '../args';
import { SCHEMAS } from '../schemas';

/** `sqsnn schema NAME`: the JSON Schema of an input file, for editors that complete and check JSON. */
export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  checkKnown(p, [], { positionals: 1 });
  const name = p.positional[0];
  const names = Object.keys(SCHEMAS);
  if (!name || !(name in SCHEMAS)) throw new UsageError(`name one schema: ${names.join(', ')}${name ? ` (got '${name}')` : ''}`);
  // Refinements (per-kind layer options, cross-field checks) are not expressible: they stay open.
  const json = z.toJSONSchema(SCHEMAS[name as keyof typeof SCHEMAS], { unrepresentable: 'any' });
  process.stdout.write(JSON.stringify(json, null, 1) + '\n');
}
