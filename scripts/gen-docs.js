#!/usr/bin/env node
/**
 * Write docs/cli.md and docs/config.md from the built package (dist/): the commander program and
 * the zod schemas. `npm run docs` builds first; test/docs.test.ts fails when the pages are stale.
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist', 'src');
if (!fs.existsSync(path.join(dist, 'cli.js'))) {
  process.stderr.write('gen-docs: dist/ is missing; run `npm run build` first (or `npm run docs`, which does)\n');
  process.exit(2);
}
const { buildProgram } = require(path.join(dist, 'cli.js'));
const { cliReference, configReference } = require(path.join(dist, 'cli', 'docs.js'));

const pages = { 'cli.md': cliReference(buildProgram()), 'config.md': configReference() };
for (const [name, text] of Object.entries(pages)) {
  const file = path.join(root, 'docs', name);
  fs.writeFileSync(file, text + '\n');
  process.stdout.write(`wrote ${path.relative(root, file)}\n`);
}
