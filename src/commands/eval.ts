/** `sqsnn eval --checkpoint DIR [--dataset NAME] [--json]`: accuracy and confusion matrix. */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { backendOption, choiceOption, jsonOption, numberOption, runCommand, stringOption, UsageError } from '../cli/options';
import { loadDataset } from '../data';
import { evaluate, networkFromCheckpoint } from '../train';

interface EvalOptions {
  checkpoint?: string;
  dataset?: string;
  split: 'test' | 'train';
  limitTest?: number;
  batch: number;
  backend?: string;
  json?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a checkpoint: accuracy and confusion matrix')
    .addOption(stringOption('--checkpoint <dir>', '(required) the run folder of `sqsnn train --out DIR`'))
    .addOption(stringOption('--dataset <name>', 'dataset to evaluate on', { defaultText: "the checkpoint's" }))
    .addOption(choiceOption('--split <split>', 'which part of the dataset', ['test', 'train'] as const, { default: 'test' }))
    .addOption(numberOption('--limit-test <n>', 'use the first N test samples', { integer: true, min: 1, defaultText: "the checkpoint's limitTest" }))
    .addOption(numberOption('--batch <b>', 'samples per evaluation batch', { integer: true, min: 1, default: 256 }))
    .addOption(backendOption())
    .addOption(jsonOption('print {accuracy, confusion, dataset, split, samples} as JSON'))
    .action(async (o: EvalOptions) => {
      if (!o.checkpoint) throw new UsageError('--checkpoint DIR is required');
      await initBackend(o.backend);
      const { net, config } = networkFromCheckpoint(o.checkpoint);
      const split = o.split;
      const ds = loadDataset(o.dataset ?? config.dataset, { limitTest: o.limitTest ?? config.limitTest, limitTrain: split === 'train' ? config.limitTrain : 1 });
      if (ds.classes !== net.classes) throw new UsageError(`the checkpoint has ${net.classes} outputs but ${ds.name} has ${ds.classes} classes`);
      const r = evaluate(net, ds, split, { ...config, evalBatch: o.batch });
      net.dispose();
      const samples = split === 'test' ? ds.nTest : ds.nTrain;
      if (o.json) {
        process.stdout.write(JSON.stringify({ accuracy: r.accuracy, confusion: r.confusion, dataset: ds.name, split, samples }) + '\n');
        return;
      }
      const w = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
      const rows = r.confusion.map((row, i) => `${String(i).padStart(3)} |${row.map((v) => String(v).padStart(w)).join('')}`);
      process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% on ${ds.name} ${split} (${samples} samples)\nconfusion (rows: true, columns: predicted)\n${rows.join('\n')}\n`);
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(evalCommand(), argv);
