/**
 * docs/cli.md and docs/config.md are generated (`npm run docs`) from the commander program and the
 * zod schemas; this fails when a command, flag, default, schema field or description changed
 * without regenerating them, and checks that the pages really cover what they claim to.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildProgram } from '../src/cli';
import { cliReference, configReference } from '../src/cli/docs';
import { trainConfigSchema } from '../src/schemas';

const docs = path.join(__dirname, '..', 'docs');
const read = (name: string) => fs.readFileSync(path.join(docs, name), 'utf8');

test('docs/cli.md is what the commander program gives (run `npm run docs` after changing a command)', () => {
  expect(read('cli.md')).toBe(cliReference(buildProgram()) + '\n');
});

test('docs/config.md is what the zod schemas give (run `npm run docs` after changing a schema)', () => {
  expect(read('config.md')).toBe(configReference() + '\n');
});

test('docs/cli.md names every command and subcommand and every flag of each, with its default', () => {
  const text = cliReference(buildProgram());
  const visit = (cmd: ReturnType<typeof buildProgram>, prefix: string): void => {
    for (const c of cmd.commands.filter((x) => x.name() !== 'help')) {
      const name = `${prefix} ${c.name()}`;
      expect(text).toContain(`\`${name}\``);
      for (const o of c.options) expect(text).toContain(`\`${o.flags.replace(/\|/g, '\\|')}\``);
      visit(c, name);
    }
  };
  visit(buildProgram(), 'sqsnn');
  expect(text).toMatch(/\| `--epochs <e>` \| passes over the training set \|  \| 1 \|/);
  expect(text).toMatch(/\| `--optimizer <kind>` \| optimizer \| adam, sgd \| the recipe's/);
});

test('docs/config.md lists every train-config field with its type and default', () => {
  const text = configReference();
  for (const key of Object.keys(trainConfigSchema.shape)) expect(text).toContain(`| \`${key}`);
  expect(text).toContain('| `epochs` | integer ≥ 1 | 1 | passes over the training set |');
  expect(text).toContain('| `ruleConfig.optimizer.kind` | "adam" or "sgd" | the recipe\'s (src/recipes.ts) |');
  expect(text).toContain('`encoding.pMax`');
  expect(text).toContain('SQS layer options');
});
