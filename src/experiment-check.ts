/**
 * Everything wrong with an experiment grid that can be found before its first cell runs, so a
 * typo or an impossible cell costs a second and writes nothing, instead of failing hours in:
 *
 *   - grid: every dataset a model lists is a dataset label of the grid, every rule is known, and
 *     every model runs on at least one dataset (`checkGrid`, no data needed);
 *   - cells: every dataset loads, every budget can be met, and every cell's training fits the
 *     backend's memory (`checkCells`, with the data shapes).
 */
import { SqsnnError } from '../kernels/errors';
import { DATASETS, datasetNames } from './data';
import { CellSpec, ExperimentConfig, datasetLabel } from './experiment';
import { ruleNames } from './learn/registry';
import { DataShape, assertTrainingFits } from './limits';
import { ConfigError } from './neurons/registry';
import type { TrainConfig } from './train';

/** The checks of names and lists (cheap; run by expandGrid, so also for --dry-run). */
export function checkGrid(cfg: ExperimentConfig): void {
  const labels = cfg.datasets.map(datasetLabel);
  const repeated = labels.find((l, i) => labels.indexOf(l) !== i);
  if (repeated) throw new ConfigError(`experiment config: dataset label '${repeated}' is used twice (give one a "label")`);
  const rules = ruleNames();
  for (const m of cfg.models) {
    for (const r of m.rules ?? ['bptt'])
      if (!rules.includes(r)) throw new ConfigError(`experiment config: model ${m.name}: unknown rule '${r}'; known: ${rules.join(', ')}`);
    if (m.datasets) {
      const unknown = m.datasets.filter((d) => !labels.includes(d));
      if (unknown.length)
        throw new ConfigError(`experiment config: model ${m.name}: datasets lists ${unknown.map((d) => `'${d}'`).join(', ')}, not a dataset label of this grid (labels: ${labels.join(', ')})`);
      if (m.datasets.length === 0) throw new ConfigError(`experiment config: model ${m.name}: its datasets list is empty, so it would never run`);
    }
  }
  for (const d of cfg.datasets) {
    if ((d.budgets ?? cfg.budgets).length === 0) throw new ConfigError(`experiment config: dataset ${datasetLabel(d)} has no budgets (set "budgets")`);
  }
}

/** Dataset ids the loader knows (the CLI checks these; a library caller may bring its own loader). */
export function checkDatasetNames(cfg: ExperimentConfig): void {
  // Runs before the schema may have seen the config: skip what is not a dataset entry yet.
  for (const d of Array.isArray(cfg.datasets) ? cfg.datasets : [])
    if (typeof d?.dataset === 'string' && !DATASETS.some((k) => k.matches(d.dataset)))
      throw new ConfigError(`experiment config: unknown dataset '${d.dataset}'; valid names are ${datasetNames().join(', ')}`);
}

/**
 * Size every cell before the first one runs: `plan` builds a cell's training config and data
 * shape (loading its dataset, sizing its network to the budget). The first user error is thrown,
 * naming the cell.
 */
export function checkCells(cells: CellSpec[], plan: (cell: CellSpec) => { config: TrainConfig; data: DataShape }): void {
  for (const cell of cells) {
    try {
      const { config, data } = plan(cell);
      assertTrainingFits(config, data);
    } catch (e) {
      // Only the user's errors stop the grid here; anything else is left to the cell, which records it as failed.
      if (!(e instanceof SqsnnError)) continue;
      throw new (e.constructor as new (message: string) => SqsnnError)(`cell ${cell.id}: ${e.message}`);
    }
  }
}
