/**
 * Rebuild a grid folder's finished cells from a committed results.csv, so a grid whose run folder is
 * gone (a new machine, a wiped disk) resumes where its report left off instead of training again.
 *
 * Each CSV row is matched to a cell of the plan by its id column (reports since the column exists) or,
 * for older reports, by phase, dataset, model, rule, budget, seed and (tuning cells) lr. A restored
 * result.json says where it came from (`restoredFrom`); what an older CSV lacks stays empty (the
 * per-epoch curve, a tuning cell's test accuracy, which reports never show).
 */
import * as fs from 'fs';
import * as path from 'path';
import { executionsPerInference } from './executions';
import { LayerConfig } from './neurons/layer';
import { CellResult, CellSpec, cellDir, cellIdentity, ExperimentConfig, ExperimentError, expandGrid, prepareOutDir, readResult } from './experiment';

export interface RestoreSummary {
  restored: CellSpec[];
  /** Cells that already had a result.json (left as they are). */
  kept: CellSpec[];
  /** CSV rows that match no cell of the plan (another config?), by line number. */
  unmatched: number[];
}

/** Split one CSV line (fields quoted with "…" may hold commas). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

const numbers = (s: string): number[] => (s.trim() ? s.trim().split(/\s+/).map(Number) : []);
const optional = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));

/** The result a CSV row records, for the plan cell it belongs to. */
function rowResult(row: Record<string, string>, cell: CellSpec, source: string): CellResult {
  const validation = optional(row.validationAccuracy);
  const samples = optional(row.trainingSamples);
  const executions = row.circuitExecutions === '' ? null : optional(row.circuitExecutions);
  const test = optional(row.testAccuracy) ?? NaN; // tuning rows: never reported, so not recorded
  return {
    ...cellIdentity(cell),
    ...(row.lr ? { lr: Number(row.lr) } : {}),
    parameters: Number(row.parameters),
    hidden: numbers(row.hidden),
    testAccuracy: test,
    ...(validation !== undefined ? { validationAccuracy: validation } : {}),
    bestTestAccuracy: optional(row.bestTestAccuracy) ?? test,
    trainSeconds: Number(row.trainSeconds),
    epochs: Number(row.epochs),
    ...(samples !== undefined ? { trainingSamples: samples } : {}),
    circuitExecutions: executions ?? null,
    circuitExecutionsEstimated: row.circuitExecutionsEstimated !== undefined ? row.circuitExecutionsEstimated === 'true' : estimatedCount(cell),
    curve: numbers(row.curve ?? ''),
    restoredFrom: source,
  };
}

/** Whether a cell's execution count is an estimate (it depends on the neuron kind and its shots only). */
function estimatedCount(cell: CellSpec): boolean {
  try {
    return executionsPerInference({ layers: [{ ...cell.model.neuron, size: 1 } as LayerConfig] }, 1).estimated;
  } catch {
    return false;
  }
}

const sameNumber = (a: string, b: number | undefined) => b !== undefined && a !== '' && Math.abs(Number(a) - b) <= 1e-12 * Math.max(1, Math.abs(b));

/** Write result.json for every row of `csvFile` into the grid folder `outDir` of `cfg`. */
export function restoreFromCsv(cfg: ExperimentConfig, outDir: string, csvFile: string): RestoreSummary {
  if (!fs.existsSync(csvFile)) throw new ExperimentError(`${csvFile}: no such file`);
  const lines = fs.readFileSync(csvFile, 'utf8').split('\n').filter((l) => l.trim());
  const header = splitCsvLine(lines[0] ?? '');
  for (const need of ['phase', 'dataset', 'model', 'rule', 'budget', 'seed', 'lr', 'parameters', 'testAccuracy', 'epochs'])
    if (!header.includes(need)) throw new ExperimentError(`${csvFile} is not an experiment report's results.csv (no ${need} column)`);
  const cells = expandGrid(cfg);
  prepareOutDir(cfg, outDir);
  const summary: RestoreSummary = { restored: [], kept: [], unmatched: [] };
  const source = path.basename(path.dirname(path.resolve(csvFile))) + '/' + path.basename(csvFile);
  lines.slice(1).forEach((line, i) => {
    const fields = splitCsvLine(line);
    if (fields.length !== header.length) throw new ExperimentError(`${csvFile} line ${i + 2}: ${fields.length} fields, the header has ${header.length}`);
    const row = Object.fromEntries(header.map((h, k) => [h, fields[k]]));
    const cell = row.id
      ? cells.find((c) => c.id === row.id)
      : cells.find((c) => c.phase === row.phase && c.label === row.dataset && c.model.name === row.model && c.rule === row.rule && c.budget === Number(row.budget) && c.seed === Number(row.seed) && (c.phase === 'final' || sameNumber(row.lr, c.lr)));
    if (!cell) return void summary.unmatched.push(i + 2);
    if (readResult(outDir, cell)) return void summary.kept.push(cell);
    const dir = cellDir(outDir, cell);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `result.json.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(rowResult(row, cell, source), null, 1));
    fs.renameSync(tmp, path.join(dir, 'result.json'));
    summary.restored.push(cell);
  });
  return summary;
}
