/**
 * Memory of a training run from its shapes alone (hidden sizes, batch, T, qubits), checked against
 * the backend's real limit before the dataset is encoded or a single weight is allocated. The
 * estimate is deliberately coarse and on the safe side: it is there to refuse, in a second and
 * with one line, runs that would otherwise exhaust memory after minutes.
 *
 *   parameters   P · 4 bytes · 4           weights, gradients, two optimiser moments
 *   inputs       T · inputs · B · 4 · 3    one encoded batch and its temporaries
 *   one step     Σ_layers step working set  (kernels/memory.ts: registers × gates × copies; plus
 *                                          currents and spikes of the layer)
 *   bptt         T × one step              the tape keeps every step for the backward pass
 *   local        (1 + 2K + 2N) × one step  every parameter-shifted circuit of a step at once
 *              + T × kept per step         the batched rule keeps each step's eligibilities
 *                                          (∂log p per parameter and current), spikes and
 *                                          signals for the updates summed over all T at the end
 *              + the flip signal's re-run    the output layer once per hidden neuron (a batch of
 *                                          H_hidden·B columns: ~8 float32 arrays of D per column)
 *
 * B is the batch actually used: min(batch, training examples).
 */
import { preferDense } from '../kernels/evolve';
import { assertFits, formatBytes, stepBytes } from '../kernels/memory';
import { countParameters } from './budget';
import { inputFeatures } from './inputs';
import { LayerConfig, neuronKind } from './neurons/registry';
import { hasCircuitAngles } from './recipes';
import type { TrainConfig } from './train';

/** What the estimate needs to know of a dataset. */
export interface DataShape {
  height: number;
  width: number;
  nTrain: number;
}

export interface TrainingMemory {
  parameters: number;
  inputs: number;
  step: number;
  /** Copies of one step held at once (T for bptt). */
  stepsHeld: number;
  /** Local rule: what it keeps of every step until the updates (eligibilities, spikes, signals), and the flip re-run. */
  localKept: number;
  total: number;
  batch: number;
}

/** The fields of a run the estimate reads (the local rule's options: whether the signal is `flip`). */
export type MemoryShape = Pick<TrainConfig, 'network' | 'steps' | 'batch' | 'rule' | 'encoding'> & { ruleConfig?: { [rule: string]: unknown } };

function layerStepBytes(l: LayerConfig, batch: number): { bytes: number; shifts: number; kept: number } {
  const size = l.size;
  const c = neuronKind(l.neuron).circuit?.(l);
  if (c) {
    const n = c.ioQubits;
    // The dense path applies the whole circuit as one matrix: its working set does not grow with gates.
    const reg = { qubits: c.totalQubits, gates: preferDense(c, size) ? 1 : c.ops.length };
    // Kept per step by the local rule: ∂log p per angle (K) and per current (N), spikes, signal, clipped copies.
    const kept = size * batch * 4 * (2 * c.paramNames.length + 4 * n);
    return { bytes: stepBytes(reg, size * batch, 'statevector') + size * n * batch * 4 * 8, shifts: 2 * c.paramNames.length + 2 * n, kept };
  }
  // Classical neurons: a few float32 per neuron and sample (membrane, spikes, currents, surrogate).
  return { bytes: size * batch * 4 * 16, shifts: 2, kept: size * batch * 4 * 8 };
}

export function trainingMemory(cfg: MemoryShape, data: DataShape): TrainingMemory {
  const batch = Math.min(cfg.batch, Math.max(1, data.nTrain));
  const parameters = countParameters(cfg.network) * 4 * 4;
  const inputs = cfg.steps * inputFeatures(data.height * data.width, cfg.encoding) * batch * 4 * 3;
  let step = 0;
  let shifts = 1;
  let kept = 0;
  for (const l of cfg.network.layers) {
    const s = layerStepBytes(l, batch);
    step += s.bytes;
    shifts = Math.max(shifts, s.shifts);
    kept += s.kept;
  }
  const local = cfg.rule === 'local';
  const stepsHeld = local ? 1 + shifts : cfg.steps;
  let localKept = 0;
  if (local) {
    // All T steps' eligibilities, plus the input spikes again by step (the weight updates' layout).
    localKept = cfg.steps * kept + inputs / 3;
    const layers = cfg.network.layers;
    const signal = (cfg.ruleConfig?.local as { hiddenSignal?: string } | undefined)?.hiddenSignal;
    if (signal === 'flip' && layers.length > 1) {
      // A forced step of the output layer on H_hidden·B columns: about eight float32 arrays of
      // [outputs, D, columns] at once (calibrated on 784-1000-10: ~0.35 GiB of wasm heap at batch
      // 64 and 0.70 at 128, against this estimate's 0.68 and 1.36 GiB in all).
      const out = layers[layers.length - 1];
      const hidden = layers.slice(0, -1).reduce((a, l) => a + l.size, 0);
      const c = neuronKind(out.neuron).circuit?.(out);
      localKept += out.size * hidden * batch * 4 * 8 * (c ? 2 ** c.totalQubits : 4);
    }
  }
  return { parameters, inputs, step, stepsHeld, localKept, total: parameters + inputs + step * stepsHeld + localKept, batch };
}

function describe(cfg: Pick<TrainConfig, 'network' | 'steps' | 'batch' | 'rule'>, batch: number): string {
  const hidden = cfg.network.layers.slice(0, -1).map((l) => l.size).join(',') || 'none';
  const qubits = [...new Set(cfg.network.layers.filter((l) => hasCircuitAngles(l.neuron)).map((l) => Number(l.ioQubits ?? 1) + Number(l.memoryQubits ?? 1)))];
  return `training with hidden ${hidden}, batch ${batch}, T ${cfg.steps}, rule ${cfg.rule}${qubits.length ? `, ${qubits.join('/')} qubits per neuron` : ''}`;
}

/** Refuse a training run that cannot fit the backend in use (MemoryBudgetError, one line). */
export function assertTrainingFits(cfg: MemoryShape, data: DataShape, backend?: string): TrainingMemory {
  const m = trainingMemory(cfg, data);
  const held = cfg.rule === 'bptt' ? `the backprop tape holds ${m.stepsHeld} steps` : `${m.stepsHeld} shifted copies of a step, ${formatBytes(m.localKept)} kept over the ${cfg.steps} steps`;
  assertFits(describe(cfg, m.batch), m.total, `parameters ${formatBytes(m.parameters)}, inputs ${formatBytes(m.inputs)}, one step ${formatBytes(m.step)}, ${held}`, backend);
  return m;
}
