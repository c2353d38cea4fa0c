/**
 * The report of an experiment grid from whatever cells are finished: results.csv (one row per
 * cell), results.md (mean ± std per dataset, model, rule and budget, with the learning rate used,
 * the grid it was selected from, epochs, training samples and circuit executions per inference;
 * the tuning table; missing and failed cells) and SVG plots. Rows are in plan order, so two runs of
 * the same grid give the same report whichever workers ran which cells, apart from the times.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../kernels/tf';
import { Dataset } from './data';
import { encodeImages } from './inputs';
import { EXACT_QLIF_SHOT_ESTIMATE } from './executions';
import { CellResult, CellSpec, ExperimentDataset, cellDir, datasetCache, expandGrid, readExperiment, readResult, resultStanding, selectLearningRate, taskLogPath } from './experiment';
import { lineChart, rasterChart, Series } from './plot';
import { Rng } from './random';
import { networkFromCheckpoint } from './train';

export interface CellStatus {
  finished: { cell: CellSpec; result: CellResult }[];
  failed: { cell: CellSpec; error: string; log: string | null }[];
  /** Not finished and not failed: never started, running, or interrupted. */
  missing: { cell: CellSpec; log: string | null; running: boolean; stale?: string; waitsFor?: number[] }[];
}

export function cellStatus(outDir: string, cells: CellSpec[]): CellStatus {
  const status: CellStatus = { finished: [], failed: [], missing: [] };
  for (const cell of cells) {
    const { result, stale, waitsFor } = resultStanding(outDir, cells, cell);
    const logFile = taskLogPath(outDir, cell.index);
    const log = fs.existsSync(logFile) ? logFile : null;
    const failedFile = path.join(cellDir(outDir, cell), 'failed.json');
    if (result) status.finished.push({ cell, result });
    else if (fs.existsSync(failedFile)) status.failed.push({ cell, error: (JSON.parse(fs.readFileSync(failedFile, 'utf8')) as { error: string }).error, log });
    else status.missing.push({ cell, log, running: fs.existsSync(path.join(cellDir(outDir, cell), 'lock')), ...(stale ? { stale } : {}), ...(waitsFor ? { waitsFor: waitsFor.map((c) => c.index) } : {}) });
  }
  return status;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

export interface SummaryRow {
  dataset: string;
  model: string;
  rule: string;
  budget: number;
  parameters: number;
  seeds: number;
  accuracy: { mean: number; std: number };
  /** Learning rates the seeds trained with (one, unless the config changed between runs). */
  lr: number[];
  tunedOver?: number[];
  lrFrom?: 'config' | 'recipe';
  epochs: number;
  trainingSamples: number | null;
  circuitExecutions: number | null;
  circuitExecutionsEstimated: boolean;
  seconds: number;
}

/** Mean ± std over seeds of final cells, per dataset, model, rule and budget (tuning cells excluded). */
export function summarize(results: CellResult[]): SummaryRow[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results.filter((x) => x.phase !== 'tune')) {
    const k = `${r.dataset}|${r.model}|${r.rule}|${r.budget}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => ({
    dataset: rs[0].dataset,
    model: rs[0].model,
    rule: rs[0].rule,
    budget: rs[0].budget,
    parameters: Math.round(meanStd(rs.map((r) => r.parameters)).mean),
    seeds: rs.length,
    accuracy: meanStd(rs.map((r) => r.testAccuracy)),
    lr: [...new Set(rs.map((r) => r.lr).filter((x): x is number => x !== undefined))],
    ...(rs[0].tunedOver ? { tunedOver: rs[0].tunedOver } : {}),
    ...(rs[0].lrFrom ? { lrFrom: rs[0].lrFrom } : {}),
    epochs: Math.max(...rs.map((r) => r.epochs)),
    trainingSamples: rs[0].trainingSamples ?? null,
    circuitExecutions: rs[0].circuitExecutions ?? null,
    circuitExecutionsEstimated: rs.some((r) => r.circuitExecutionsEstimated),
    seconds: meanStd(rs.map((r) => r.trainSeconds)).mean,
  }));
}

const CSV_COLUMNS = ['phase', 'dataset', 'model', 'rule', 'budget', 'seed', 'lr', 'parameters', 'hidden', 'trainingSamples', 'epochs', 'circuitExecutions', 'validationAccuracy', 'testAccuracy', 'bestTestAccuracy', 'trainSeconds', 'id', 'curve', 'circuitExecutionsEstimated'] as const;

function csvRow(r: CellResult): string {
  return CSV_COLUMNS.map((c) => {
    // Tuning cells are judged on validation accuracy only; their test accuracy is not reported.
    if (r.phase === 'tune' && (c === 'testAccuracy' || c === 'bestTestAccuracy' || c === 'curve')) return '';
    const v = c === 'phase' ? (r.phase ?? 'final') : r[c];
    return Array.isArray(v) ? `"${v.join(' ')}"` : v === undefined || v === null ? '' : String(v);
  }).join(',');
}

const pct = (x: number) => (100 * x).toFixed(2);
const lrText = (xs: number[]) => xs.map((x) => String(x)).join(', ');

function executionsText(r: SummaryRow): string {
  if (r.circuitExecutions === null) return '?';
  return r.circuitExecutionsEstimated ? `≈ ${r.circuitExecutions} ¹` : String(r.circuitExecutions);
}

export interface ReportOptions {
  /** Dataset loader for the spike raster (default: load from the config). */
  data?: (d: ExperimentDataset) => Dataset;
  /** Skip the plots (the spike raster loads a dataset). */
  plots?: boolean;
}

/** Write results.csv, results.md and plots for the finished cells of the grid in `outDir`. */
export function writeReport(outDir: string, opts: ReportOptions = {}): CellStatus {
  const cfg = readExperiment(outDir);
  const cells = expandGrid(cfg);
  const status = cellStatus(outDir, cells);
  const results = status.finished.map((f) => f.result);
  writeAtomic(path.join(outDir, 'results.csv'), [CSV_COLUMNS.join(','), ...results.map(csvRow)].join('\n') + '\n');
  const rows = summarize(results);
  const md: string[] = ['# Results', ''];
  md.push(
    '| dataset | model | rule | budget | parameters | seeds | test accuracy (mean ± std) | lr | epochs | training samples | circuit executions per inference | training time per cell |',
    '|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.dataset} | ${r.model} | ${r.rule} | ${r.budget} | ${r.parameters} | ${r.seeds} | ${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)} % | ${lrText(r.lr)}${r.tunedOver ? ` (selected from ${lrText(r.tunedOver)})` : r.lrFrom === 'recipe' ? ' (recipe)' : ' (fixed)'} | ${r.epochs} | ${r.trainingSamples ?? '?'} | ${executionsText(r)} | ${r.seconds.toFixed(1)} s |`),
    '',
    'Circuit executions per inference: the circuit runs one test input costs on a device. SQS: one single-shot run per neuron per step (T × SQS neurons); QLIF: shots × T per neuron; classical neurons: 0.',
  );
  if (rows.some((r) => r.circuitExecutionsEstimated))
    md.push(`¹ QLIF simulated with exact probabilities (shots = 0): counted as if each probability were estimated from ${EXACT_QLIF_SHOT_ESTIMATE} shots, an assumed figure.`);
  md.push(...tuningSection(outDir, cells));
  md.push(...statusSection(status, cells.length));
  const restored = [...new Set(results.map((r) => r.restoredFrom).filter((x): x is string => !!x))];
  if (restored.length)
    md.push('', `${results.filter((r) => r.restoredFrom).length} of these cells were restored from an earlier report (${restored.join(', ')}; \`sqsnn experiment restore\`) after their run folder was lost: their figures are that report's, their per-epoch curves (in reports older than the curve column) and checkpoints are not kept.`);
  const written = opts.plots === false || !results.length ? [] : plots(results, rows, outDir, cells, opts.data ?? datasetCache());
  if (written.length) md.push('', `Plots: ${written.map((p) => `[${p}](${p})`).join(', ')}`);
  writeAtomic(path.join(outDir, 'results.md'), md.join('\n') + '\n');
  return status;
}

/**
 * A note when the selected lr is the smallest or largest of a grid of three or more: the best value
 * may lie outside what was searched, so the grid should be widened before the comparison is read.
 */
export function gridEdgeNote(selected: number | null | undefined, grid: number[]): string {
  if (selected === null || selected === undefined || grid.length < 3) return '';
  const lo = Math.min(...grid);
  const hi = Math.max(...grid);
  if (selected === hi) return ' (largest in the grid: widen it upwards)';
  if (selected === lo) return ' (smallest in the grid: widen it downwards)';
  return '';
}

function tuningSection(outDir: string, cells: CellSpec[]): string[] {
  const groups = [...new Map(cells.filter((c) => c.phase === 'tune').map((c) => [c.group, c])).values()];
  if (!groups.length) return [];
  const lines = [
    '',
    '## Learning-rate selection',
    '',
    'Each tuned model trained every candidate on its training set minus a validation split carved from it by a seeded split; the candidate with the best mean validation accuracy over the tuning seeds was selected, and the final cells trained at it on the whole training set. The test set was not consulted.',
    '',
    '| dataset | model | rule | budget | grid searched | validation split | mean validation accuracy per candidate | selected lr |',
    '|---|---|---|---:|---|---|---|---|',
  ];
  for (const c of groups) {
    const sel = selectLearningRate(outDir, cells, c.group);
    const seeds = [...new Set(cells.filter((x) => x.group === c.group && x.phase === 'tune').map((x) => x.seed))];
    const perLr = sel.candidates.map((k) => `${k.lr}: ${k.meanValidationAccuracy === null ? '?' : `${pct(k.meanValidationAccuracy)} %`}`).join(', ');
    lines.push(`| ${c.label} | ${c.model.name} | ${c.rule} | ${c.budget} | lr ∈ {${lrText(c.tune?.lr ?? [])}} | ${pct(c.tune?.validation ?? 0.1)} % of training, seeds ${seeds.join(', ')} | ${perLr} | ${sel.lr ?? `pending (${sel.unfinished.length} tuning cells unfinished)`}${gridEdgeNote(sel.lr, c.tune?.lr ?? [])} |`);
  }
  return lines;
}

function statusSection(status: CellStatus, total: number): string[] {
  const lines = ['', `## Cells: ${status.finished.length} of ${total} finished, ${status.failed.length} failed, ${status.missing.length} missing`];
  if (status.failed.length) lines.push('', 'Failed (rerun them with `sqsnn experiment run --cell K`, or resubmit with `sqsnn experiment slurm … --submit`):', ...status.failed.map((f) => `- cell ${f.cell.index} \`${f.cell.id}\`: ${f.error}${f.log ? ` (log: ${f.log})` : ''}`));
  if (status.missing.length) lines.push('', 'Missing:', ...status.missing.map((m) => `- cell ${m.cell.index} \`${m.cell.id}\`${m.stale ? ` (stale: ${m.stale}; run it again)` : ''}${m.waitsFor ? ` (waits for tuning cell(s) ${m.waitsFor.join(', ')})` : ''}${m.running ? ' (locked: running, or interrupted)' : ''}${m.log ? ` (log: ${m.log})` : ''}`));
  return lines;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function plots(results: CellResult[], rows: SummaryRow[], outDir: string, cells: CellSpec[], data: (d: ExperimentDataset) => Dataset): string[] {
  const written: string[] = [];
  const write = (name: string, svg: string) => {
    fs.writeFileSync(path.join(outDir, name), svg);
    written.push(name);
  };
  for (const ds of [...new Set(rows.map((r) => r.dataset))]) {
    const series: Series[] = [];
    for (const key of [...new Set(rows.filter((r) => r.dataset === ds).map((r) => `${r.model} (${r.rule})`))]) {
      const rs = rows.filter((r) => r.dataset === ds && `${r.model} (${r.rule})` === key);
      series.push({ name: key, points: rs.map((r) => ({ x: r.parameters, y: r.accuracy.mean, err: r.accuracy.std })) });
    }
    write(`accuracy-vs-parameters-${ds}.svg`, lineChart(series, { title: `${ds}: test accuracy at fixed parameter budgets`, xLabel: 'trainable parameters', yLabel: 'test accuracy', logX: true }));
    const curves: Series[] = [];
    for (const key of [...new Set(results.filter((r) => r.dataset === ds).map((r) => `${r.model} (${r.rule})`))]) {
      const rs = results.filter((r) => r.phase !== 'tune' && r.dataset === ds && `${r.model} (${r.rule})` === key);
      if (!rs.length) continue;
      const top = Math.max(...rs.map((r) => r.budget));
      const sel = rs.filter((r) => r.budget === top);
      const len = Math.min(...sel.map((r) => r.curve.length));
      if (!len) continue; // cells restored from an older results.csv have no curve
      curves.push({ name: `${key}, ${top}`, points: Array.from({ length: len }, (_, e) => ({ x: e + 1, ...(() => { const s = meanStd(sel.map((r) => r.curve[e])); return { y: s.mean, err: s.std }; })() })) });
    }
    write(`training-curves-${ds}.svg`, lineChart(curves, { title: `${ds}: test accuracy per epoch (largest budget, mean ± std over seeds)`, xLabel: 'epoch', yLabel: 'test accuracy' }));
  }
  // The raster needs a trained network: a cell restored from a CSV has none.
  const sqsCell = cells.find((c) => c.model.neuron.neuron === 'sqs' && fs.existsSync(path.join(outDir, 'cells', c.id, 'result.json')) && !readResult(outDir, c)?.restoredFrom);
  if (sqsCell) write('raster-sqs.svg', spikeRaster(path.join(outDir, 'cells', sqsCell.id), data(sqsCell.data), sqsCell.label));
  return written;
}

/** Raster of the first layer of a trained SQS network for the first test sample. */
export function spikeRaster(checkpointDir: string, ds: Dataset, label: string): string {
  const { net, config } = networkFromCheckpoint(checkpointDir);
  const rng = new Rng(`${config.seed}/raster`);
  const p = ds.height * ds.width;
  const spikes = tf.tidy(() => {
    const x = encodeImages(ds.testImages.subarray(0, p), 1, ds.height, ds.width, config.steps, config.encoding, rng);
    const r = net.forward(x, { ctx: { rng, train: false, surrogate: 'straight-through' }, record: true });
    return tf.stack((r.spikes as tf.Tensor[][])[0].map((s) => tf.reshape(s, [-1])), 1);
  });
  const rows = spikes.arraySync() as number[][];
  spikes.dispose();
  net.dispose();
  const shown = rows.slice(0, 100);
  return rasterChart(shown, { title: `${label}: spikes of ${shown.length} SQS neurons of layer 1, one test sample (label ${ds.testLabels[0]})` });
}
