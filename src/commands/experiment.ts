import { bool, checkKnown, parseArgs, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { ExperimentConfig, expandGrid, runExperiment } from '../experiment';
import { readJsonInput } from '../spec';

/** `sqsnn experiment --config FILE --out DIR [--dry-run]`: run (or list) a grid of training runs. */
export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['quiet', 'dry-run']);
  checkKnown(p, ['config', 'out', 'backend', 'quiet', 'dry-run']);
  const cfg = readJsonInput(str(p, 'config'), '--config') as ExperimentConfig;
  const out = str(p, 'out');
  if (!out) throw new UsageError('--out DIR is required');
  const cells = expandGrid(cfg);
  if (bool(p, 'dry-run')) {
    process.stdout.write(cells.map((c) => c.id).join('\n') + `\n${cells.length} cells\n`);
    return;
  }
  const backend = await initBackend(str(p, 'backend'));
  process.stderr.write(`sqsnn experiment: ${cells.length} cells, backend ${backend.backend}, results in ${out}\n`);
  const results = await runExperiment(cfg, out, { quiet: bool(p, 'quiet') });
  process.stdout.write(`${results.length} cells; see ${out}/results.md\n`);
}
