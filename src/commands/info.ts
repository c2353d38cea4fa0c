/** `sqsnn info`: the backend in use, versions, and why other backends were skipped. */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { backendOption, jsonOption, runCommand } from '../cli/options';
import { packageVersion } from '../paths';

export function infoCommand(): Command {
  return new Command('info')
    .description('backend in use, versions, and why other backends were skipped')
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (o: { backend?: string; json?: boolean }) => {
      const rep = await initBackend(o.backend);
      const info = { ...rep, node: process.version, sqsnn: packageVersion() };
      if (o.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
        return;
      }
      const lines = [
        `sqsnn ${info.sqsnn}, node ${info.node}, tfjs ${rep.tfjsVersion}`,
        `backend: ${rep.backend}${rep.nodePackage ? ` (${rep.nodePackage})` : ''}`,
        ...rep.skipped.map((s) => `  skipped ${s.backend}: ${s.reason}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(infoCommand(), argv);
