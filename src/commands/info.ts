import { initBackend } from '../backend';
import { checkKnown, parseArgs, str } from '../args';
import { packageVersion } from '../paths';

export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  checkKnown(p, ['backend', 'json']);
  const rep = await initBackend(str(p, 'backend'));
  const info = { ...rep, node: process.version, sqsnn: packageVersion() };
  if (p.flags.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
    return;
  }
  const lines = [
    `sqsnn ${info.sqsnn}, node ${info.node}, tfjs ${rep.tfjsVersion}`,
    `backend: ${rep.backend}${rep.nodePackage ? ` (${rep.nodePackage})` : ''}`,
    ...rep.skipped.map((s) => `  skipped ${s.backend}: ${s.reason}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
