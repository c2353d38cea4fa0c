import { checkKnown, num, parseArgs, str, UsageError } from '../args';
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { evaluate, networkFromCheckpoint } from '../train';

/** `sqsnn eval --checkpoint DIR [--dataset NAME] [--json]`: accuracy and confusion matrix. */
export async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['json']);
  checkKnown(p, ['checkpoint', 'dataset', 'backend', 'json', 'limit-test', 'batch', 'split']);
  const dir = str(p, 'checkpoint');
  if (!dir) throw new UsageError('--checkpoint DIR is required');
  await initBackend(str(p, 'backend'));
  const { net, config } = networkFromCheckpoint(dir);
  const split = (str(p, 'split') ?? 'test') as 'test' | 'train';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got '${split}'`);
  const ds = loadDataset(str(p, 'dataset') ?? config.dataset, { limitTest: num(p, 'limit-test', config.limitTest, { integer: true, min: 1 }), limitTrain: split === 'train' ? config.limitTrain : 1 });
  if (ds.classes !== net.classes) throw new UsageError(`the checkpoint has ${net.classes} outputs but ${ds.name} has ${ds.classes} classes`);
  const r = evaluate(net, ds, split, { ...config, evalBatch: num(p, 'batch', 256, { integer: true, min: 1 }) });
  net.dispose();
  if (p.flags.json) {
    process.stdout.write(JSON.stringify({ accuracy: r.accuracy, confusion: r.confusion, dataset: ds.name, split, samples: split === 'test' ? ds.nTest : ds.nTrain }) + '\n');
    return;
  }
  const w = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
  const rows = r.confusion.map((row, i) => `${String(i).padStart(3)} |${row.map((v) => String(v).padStart(w)).join('')}`);
  process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% on ${ds.name} ${split} (${split === 'test' ? ds.nTest : ds.nTrain} samples)\nconfusion (rows: true, columns: predicted)\n${rows.join('\n')}\n`);
}
