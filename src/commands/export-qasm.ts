/**
 * `sqsnn export-qasm`: an SQS neuron (or a whole layer) as one OpenQASM program for a real device.
 *
 *   sqsnn export-qasm --spec FILE|- [--qasm 2|3]
 *       FILE: the neuron-trace JSON without "outcomes"; a JSON array of such specs (same T) is a
 *       layer, exported as one program with one qubit block and one bit block per neuron.
 *   sqsnn export-qasm --checkpoint DIR --layer L [--neuron I] --currents FILE [--qasm 2|3]
 *       a trained SQS layer: neuron I with currents [T][N] (or [T][H][N], of which neuron I's
 *       slice is used), or without --neuron the whole layer with currents [T][H][N].
 *   --spec-out FILE writes the exported neuron(s) as spec JSON, for `sqsnn likelihood --spec`.
 *
 * The program goes to stdout; see src/qasm.ts for the register layout.
 */
import * as fs from 'fs';
import { Command, Option } from 'commander';
import { backendOption, numberOption, runCommand, stringOption, usage, UsageError } from '../cli/options';
import { initBackend } from '../backend';
import { QasmError, QasmVersion, exportQasm } from '../qasm';
import { NeuronSpec, ParsedNeuronSpec, SpecError, parseNeuronSpec, readJsonInput } from '../spec';

/** Neurons to export or score, with the spec JSON that reproduces each. */
export interface NeuronSource {
  specs: ParsedNeuronSpec[];
  raw: NeuronSpec[];
  /** True when the input names a layer (an array of specs, or a checkpoint layer without --neuron). */
  layer: boolean;
}

/** The options that name the neurons, shared with `sqsnn likelihood`. */
export interface SourceOptions {
  spec?: string;
  checkpoint?: string;
  layer?: number;
  neuron?: number;
  currents?: string;
  backend?: string;
}

/** Declare --spec, or --checkpoint with --layer/--neuron/--currents, and --backend on `cmd`. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .addOption(stringOption('--spec <file>', 'neuron spec JSON (an array of specs is a layer), or - for stdin; or use --checkpoint'))
    .addOption(stringOption('--checkpoint <dir>', 'a trained run folder instead of --spec (needs --layer and --currents)'))
    .addOption(numberOption('--layer <l>', 'with --checkpoint: index of an SQS layer (0 = first hidden layer)', { integer: true, min: 0 }))
    .addOption(numberOption('--neuron <i>', 'with --checkpoint: one neuron of the layer', { integer: true, min: 0, defaultText: 'the whole layer' }))
    .addOption(stringOption('--currents <file>', 'with --checkpoint: recorded input currents, [T][N] for one neuron or [T][H][N] for a layer'))
    .addOption(backendOption());
}

function parseSpecs(raw: unknown, what: string): NeuronSource {
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new SpecError(`${what} is an empty array: a layer needs at least one neuron spec`);
    const specs = raw.map((r, h) => {
      try {
        return parseNeuronSpec(r);
      } catch (e) {
        if (e instanceof Error) e.message = `neuron ${h}: ${e.message}`;
        throw e;
      }
    });
    specs.forEach((s, h) => {
      if (s.steps !== specs[0].steps)
        throw new SpecError(`neuron ${h} has ${s.steps} steps of currents but neuron 0 has ${specs[0].steps}: a layer runs all neurons for the same T`);
    });
    return { specs, raw: raw as NeuronSpec[], layer: true };
  }
  return { specs: [parseNeuronSpec(raw)], raw: [raw as NeuronSpec], layer: false };
}

function depth(x: unknown): number {
  let d = 0;
  while (Array.isArray(x)) {
    d++;
    x = x[0];
  }
  return d;
}

/** A trained SQS layer's neuron(s) from a checkpoint, with recorded currents. */
async function fromCheckpoint(o: SourceOptions, dir: string): Promise<NeuronSource> {
  const layerIdx = o.layer;
  if (layerIdx === undefined) throw new UsageError('--checkpoint needs --layer L (the index of an SQS layer, 0 = first hidden layer)');
  const neuronIdx = o.neuron;
  const currentsFile = o.currents;
  if (!currentsFile) throw new UsageError('--checkpoint needs --currents FILE (recorded input currents: [T][N] for one neuron, [T][H][N] for a layer)');
  await initBackend(o.backend);
  const [{ networkFromCheckpoint }, { CheckpointError }] = await Promise.all([import('../train'), import('../checkpoint')]);
  const { net } = networkFromCheckpoint(dir);
  try {
    const nl = net.layers.length;
    if (layerIdx >= nl) throw new CheckpointError(`the checkpoint in ${dir} has ${nl} layer(s) (0..${nl - 1}), no layer ${layerIdx}`);
    const layer = net.layers[layerIdx];
    if (!layer.toSpec)
      throw new QasmError(`layer ${layerIdx} of the checkpoint in ${dir} is a '${layer.kind}' layer: only SQS layers run on quantum hardware`);
    if (neuronIdx !== undefined && neuronIdx >= layer.size)
      throw new CheckpointError(`layer ${layerIdx} of the checkpoint in ${dir} has ${layer.size} neuron(s) (0..${layer.size - 1}), no neuron ${neuronIdx}`);
    const toSpec = layer.toSpec.bind(layer);
    let cur = readJsonInput(currentsFile, '--currents');
    if (cur && typeof cur === 'object' && !Array.isArray(cur) && 'currents' in cur) cur = (cur as { currents: unknown }).currents;
    if (!Array.isArray(cur) || cur.length === 0) throw new SpecError(`${currentsFile}: currents must be a non-empty array of T steps`);
    const d = depth(cur);
    const h = layer.size;
    const slice = (i: number): unknown => (cur as unknown[][]).map((row, t) => {
      if (!Array.isArray(row) || row.length !== h)
        throw new SpecError(`${currentsFile}: currents[${t}] must have ${h} entries (one per neuron of layer ${layerIdx}), got ${JSON.stringify(row).slice(0, 60)}`);
      return row[i];
    });
    const specFor = (i: number, currents: unknown): NeuronSpec => ({ ...toSpec(i), currents: currents as number[][] });
    let raw: NeuronSpec[];
    if (neuronIdx !== undefined) {
      if (d === 3) raw = [specFor(neuronIdx, slice(neuronIdx))];
      else if (d === 2) raw = [specFor(neuronIdx, cur)];
      else throw new SpecError(`${currentsFile}: currents for one neuron must be [T][N] (or [T][H][N] for its layer)`);
    } else {
      if (d !== 3) throw new SpecError(`${currentsFile}: currents for a whole layer must be [T][H][N] (H = ${h} neurons); give --neuron I to export one neuron`);
      raw = Array.from({ length: h }, (_, i) => specFor(i, slice(i)));
    }
    const specs = raw.map((r, i) => {
      try {
        return parseNeuronSpec(r);
      } catch (e) {
        if (e instanceof Error) e.message = `${currentsFile}${neuronIdx === undefined ? ` (neuron ${i})` : ''}: ${e.message}`;
        throw e;
      }
    });
    return { specs, raw, layer: neuronIdx === undefined };
  } finally {
    net.dispose();
  }
}

/** The neurons named by --spec, or by --checkpoint/--layer/--neuron/--currents. */
export async function neuronSource(o: SourceOptions): Promise<NeuronSource> {
  const spec = o.spec;
  const ck = o.checkpoint;
  if (spec && ck) throw new UsageError('give either --spec FILE or --checkpoint DIR, not both');
  if (ck) return fromCheckpoint(o, ck);
  for (const f of ['layer', 'neuron', 'currents'] as const)
    if (o[f] !== undefined) throw new UsageError(`--${f} goes with --checkpoint DIR`);
  if (!spec) throw new UsageError('--spec FILE (or - for stdin) or --checkpoint DIR --layer L [--neuron I] --currents FILE is required');
  return parseSpecs(readJsonInput(spec), spec === '-' ? 'stdin' : spec);
}

export function exportQasmCommand(): Command {
  const cmd = new Command('export-qasm').description('OpenQASM 2/3 program of a neuron or layer for a device (--spec FILE|- or --checkpoint DIR)');
  return addSourceOptions(cmd)
    .addOption(
      new Option('--qasm <version>', 'OpenQASM version (2.0 and 3.0 are accepted too)')
        .choices(['2', '3'])
        .argParser((text: string) => (({ '2': 2, '2.0': 2, '3': 3, '3.0': 3 }) as Record<string, QasmVersion>)[text] ?? usage(`--qasm must be 2 or 3, got '${text}'`))
        .default(2 as QasmVersion, '2'),
    )
    .addOption(stringOption('--spec-out <file>', 'also write the exported neuron(s) as spec JSON, for `sqsnn likelihood --spec`'))
    .action(async (o: SourceOptions & { qasm: QasmVersion; specOut?: string }) => {
      const version = o.qasm;
      const src = await neuronSource(o);
      src.specs.forEach((s, h) => {
        const who = src.layer ? `neuron ${h}: ` : '';
        if (s.outcomes)
          throw new QasmError(`${who}spec.outcomes cannot be exported: a device draws its own outcomes (remove "outcomes"; score recorded outcomes with \`sqsnn likelihood\`)`);
      });
      if (src.specs.some((s) => s.noise))
        process.stderr.write('sqsnn export-qasm: note: spec.noise is not part of the program (a device brings its own noise); `sqsnn likelihood` still uses it\n');
      const program = exportQasm(
        src.specs.map((s) => ({ circuit: s.circuit, theta: s.theta, currents: s.currents })),
        { version },
      );
      if (o.specOut) {
        try {
          fs.writeFileSync(o.specOut, JSON.stringify(src.layer ? src.raw : src.raw[0], null, 1) + '\n');
        } catch (e) {
          throw new UsageError(`cannot write --spec-out ${o.specOut}: ${(e as Error).message}`);
        }
      }
      process.stdout.write(program);
    });
}

export const run = (argv: string[]): Promise<void> => runCommand(exportQasmCommand(), argv);
