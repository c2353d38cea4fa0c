/**
 * Schemas of the JSON inputs (zod): the train config file, the experiment config and the
 * single-neuron spec. All are strict: a key the engine does not know (`{"epochz": 3}`) is an
 * error naming its path, never silently ignored. Checks that need other fields (a current row per
 * IO qubit, a parameter per circuit angle, budgets against data sizes) stay next to the code that
 * knows them; the schemas own the shape.
 */
import { z } from 'zod';
import { NEURON_KINDS } from './neurons/registry';
import { ansatzSchema, neuronSpecSchema, noiseSchema } from './spec';
import { SchemaError, describeIssue, explain, validate } from './validate';

export { ansatzSchema, neuronSpecSchema, noiseSchema, SchemaError, describeIssue, validate };

/**
 * Defaults of the train config, declared once: the schema fills them into a config file,
 * `sqsnn train` uses them for absent flags, and help and docs/config.md show them. Hyper-parameters
 * that depend on the neuron and the rule (lr, batch, optimizer, …) come from src/recipes.ts.
 */
export const TRAIN_DEFAULTS = {
  dataset: 'mnist',
  hidden: [64],
  steps: 5,
  epochs: 1,
  seed: 0,
  rule: 'bptt',
  encoding: { kind: 'rate', pMax: 0.5 } as { kind: 'rate'; pMax: number },
  evalBatch: 256,
} as const;

/** Defaults of the local rule's options (src/learn/local.ts reads them from here). */
export const LOCAL_RULE_DEFAULTS = {
  shots: 0,
  spsa: 0,
  spsaEpsilon: 0.05,
  targetRate: 1,
  offRate: 0,
  baselineMomentum: 0.9,
  baseline: 'running',
  outputMemory: 'forced',
  eligibilityClip: 0,
  encodingGradient: 'exact',
  hiddenSignal: 'broadcast',
} as const;

const int = (min: number) => z.number().int().min(min);
const positive = z.number().positive();

/**
 * A layer: its neuron kind and size, checked further by the kind's own strict `configSchema`
 * (src/neurons/registry.ts) when it has one; other kinds check their options when built.
 */
export const layerSchema = z
  .looseObject({ neuron: z.string(), size: int(1) })
  .superRefine((layer, ctx) => {
    const schema = NEURON_KINDS.find((k) => k.kind === layer.neuron)?.configSchema;
    if (!schema) return;
    const r = schema.safeParse(layer);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue(asCustom(issue));
  })
  // The exported JSON Schema lists each kind's options, so editors can complete a layer.
  .meta({ anyOf: NEURON_KINDS.flatMap((k) => (k.configSchema ? [withoutDialect(z.toJSONSchema(k.configSchema))] : [])) });

function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = schema;
  return rest;
}

/** An issue of a nested parse re-raised from a refinement, with its path and plain message. */
function asCustom(issue: z.core.$ZodIssue): z.core.$ZodRawIssue {
  const { path, message } = explain(issue);
  return { code: 'custom', path, message, input: undefined };
}

export const networkSchema = z.strictObject({
  inputs: int(1).describe('input features (pixels; twice that for event encoding)'),
  layers: z.array(layerSchema).min(1).describe('hidden layers then the output layer'),
  skip: z.array(z.tuple([z.number().int(), z.number().int()])).optional().describe('extra synapses [from, to] between layers (−1 = the input)'),
  bias: z.boolean().optional().describe('synapses have a bias'),
  weightScale: positive.optional().describe('scale of the initial synaptic weights'),
}).describe('the whole network (instead of hidden)');

export const encodingSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('rate'), pMax: z.number().min(0).max(1).default(TRAIN_DEFAULTS.encoding.pMax).describe('spike probability of a white pixel per step') }),
  z.strictObject({ kind: z.literal('events') }),
]).describe('images → spike trains: "rate" (Bernoulli per pixel and step) or "events" (ON/OFF events of simulated saccades)');

const optimizerSchema = z.strictObject({
  kind: z.enum(['adam', 'sgd']).optional().describe("optimizer; default: the recipe's (src/recipes.ts)"),
  lr: positive.optional().describe("learning rate; default: the recipe's"),
  beta1: z.number().optional().describe('Adam β1; default 0.9'),
  beta2: z.number().optional().describe('Adam β2; default 0.999'),
  epsilon: z.number().optional().describe('Adam ε; default 1e-8'),
  clipNorm: z.number().min(0).optional().describe("global gradient-norm clip (0 = off); default: the recipe's"),
  lrScale: z.record(z.string(), z.number()).optional().describe('learning-rate factor per variable-name prefix'),
  lrHalfLife: z.number().min(0).optional().describe('the learning rate halves every this many optimiser steps (0 = constant); default 0'),
  averageHalfLife: z.number().min(0).optional().describe('weight averaging: evaluate and deploy an exponential moving average of the parameters whose weight on past steps halves every this many optimiser steps (0 = off); default 0'),
});

const d = LOCAL_RULE_DEFAULTS;
export const localRuleSchema = z.strictObject({
  shots: int(0).optional().describe(`shots per estimated probability (0 = exact); default ${d.shots}`),
  spsa: int(0).optional().describe(`SPSA perturbations for the synaptic weights (0 = off); default ${d.spsa}`),
  spsaEpsilon: z.number().min(0).optional().describe(`SPSA perturbation size; default ${d.spsaEpsilon}`),
  targetRate: z.number().min(0).max(1).optional().describe(`probability that the label's output neuron is told to spike at a step; default ${d.targetRate}`),
  offRate: z.number().min(0).max(1).optional().describe(`the same for the other output neurons; default ${d.offRate}`),
  baselineMomentum: z.number().optional().describe(`running-mean momentum of the baseline; default ${d.baselineMomentum}`),
  baseline: z.enum(['running', 'batch']).optional().describe(`hidden neurons' baseline: running mean over batches, or leave-one-out batch mean; default ${d.baseline}`),
  outputMemory: z.enum(['forced', 'sampled']).optional().describe(`what the output neurons' memory follows: the targets (teacher forcing) or their own shots; default: the recipe's (src/recipes.ts); the rule alone: ${d.outputMemory}`),
  eligibilityClip: z.number().min(0).optional().describe(`clip each eligibility element to [−c, c] (0 = off); default ${d.eligibilityClip}`),
  hiddenSignal: z.enum(['broadcast', 'flip']).optional().describe(`hidden neurons' learning signal: the broadcast ℓ_t − b, or per neuron by re-running the outputs with its spike flipped; default ${d.hiddenSignal}`),
  encodingGradient: z.enum(['exact', 'one-sided']).optional().describe(`current derivative where the encoding is off; default ${d.encodingGradient}`),
  balance: z.boolean().optional().describe('weigh spike and silence targets equally; default: on with more than 2 classes'),
}).describe('options of the local rule (src/learn/local.ts)');

const ruleConfigSchema = z.strictObject({
  optimizer: optimizerSchema.optional(),
  bptt: z.strictObject({
    surrogate: z.enum(['straight-through', 'pq']).optional().describe("surrogate gradient of a sampled spike; default: the recipe's"),
    logitScale: z.number().optional().describe("scale of the output logits; default: the recipe's"),
    shards: z.number().int().min(1).optional().describe('cut each batch into this many shards, each with its own random stream, run in parallel on spare threads (data-parallel BPTT); the result depends on the shards, not the threads; default 1'),
  }).optional().describe('options of surrogate-gradient BPTT'),
  local: localRuleSchema.optional(),
}).describe('options of the learning rule and its optimizer');

/** `sqsnn train --config FILE`: any TrainConfig field (flags override), plus `hidden` sizes. */
const t = TRAIN_DEFAULTS;
export const trainConfigSchema = z.strictObject({
  dataset: z.string().default(t.dataset).describe('dataset name (mnist, fashion-mnist, mnist-1v7-16, …) or idx:DIR'),
  network: networkSchema.optional(),
  hidden: z.array(int(1)).default([...t.hidden]).describe('hidden layer sizes, when no network is given'),
  steps: int(1).default(t.steps).describe('time steps T per sample'),
  epochs: int(1).default(t.epochs).describe('passes over the training set'),
  batch: int(1).optional().describe("samples per update; default: the recipe's (src/recipes.ts)"),
  seed: z.number().int().default(t.seed).describe('seed of every random draw of the run'),
  rule: z.string().default(t.rule).describe('learning rule: bptt or local'),
  encoding: encodingSchema.default({ ...t.encoding }),
  ruleConfig: ruleConfigSchema.optional(),
  limitTrain: int(1).optional().describe('use the first N training samples; default: all'),
  limitTest: int(1).optional().describe('use the first N test samples; default: all'),
  evalBatch: int(1).optional().describe(`samples per evaluation batch; default ${t.evalBatch}`),
  validation: z.number().gt(0).lt(1).optional().describe('hold out this fraction of the training set and report its accuracy per epoch'),
}).describe('`sqsnn train --config FILE`: any field of a training run; flags given on the command line override it. Give `network` for any architecture, or `hidden` sizes for layers of one neuron kind.');

/** A learning-rate grid searched on a validation split (src/experiment.ts, TuneSpec). */
const tuneSchema = z.strictObject({
  lr: z.array(positive).min(1).describe('learning rates to try'),
  validation: z.number().gt(0).lt(1).optional().describe('fraction of the training set held out for validation; default 0.1'),
  seeds: z.array(z.number().int()).min(1).optional().describe("seeds of the tuning runs; default: the grid's seeds"),
}).describe('a learning-rate grid searched on a validation split carved from the training set');

const experimentModelSchema = z.strictObject({
  name: z.string().describe('label in tables and plots'),
  neuron: z.looseObject({ neuron: z.string().describe('neuron kind: sqs, sqs-compat, qlif, lif, prob, …') }).describe('neuron options for every layer, e.g. {"neuron": "sqs", "memoryQubits": 1}'),
  rules: z.array(z.string()).optional().describe('learning rules to run this model with; default ["bptt"]'),
  lr: positive.optional().describe("fixed learning rate (ignored when the model is tuned); default: the recipe's (src/recipes.ts)"),
  tune: tuneSchema.optional().describe("learning-rate grid for this model (overrides the grid's tune)"),
  optimizer: z.enum(['adam', 'sgd']).optional().describe("optimizer; default: the recipe's"),
  surrogate: z.enum(['straight-through', 'pq']).optional().describe("BPTT surrogate gradient; default: the recipe's"),
  logitScale: z.number().optional().describe("scale of the output logits; default: the recipe's"),
  clipNorm: z.number().min(0).optional().describe("global gradient-norm clip (0 = off); default: the recipe's"),
  local: localRuleSchema.optional(),
  skip: z.array(z.tuple([z.number().int(), z.number().int()])).optional().describe('skip connections, as in a network config (e.g. [[-1, 1]]: input → output)'),
  datasets: z.array(z.string()).optional().describe('restrict to these dataset labels; default: all'),
});

const experimentDatasetSchema = z.strictObject({
  dataset: z.string().describe('dataset name (mnist, fashion-mnist, mnist-1v7-16, …) or idx:DIR'),
  label: z.string().optional().describe('label in tables and plots; default: the name, plus "-events" for event encoding'),
  encoding: encodingSchema.optional().describe('images → spike trains; default {"kind": "rate", "pMax": 0.5}'),
  steps: int(1).describe('time steps T per sample'),
  epochs: int(1).describe('passes over the training set'),
  batch: int(1).describe('samples per update'),
  limitTrain: int(1).optional().describe('use the first N training samples; default: all'),
  limitTest: int(1).optional().describe('use the first N test samples; default: all'),
  budgets: z.array(positive).optional().describe("parameter budgets for this dataset; default: the grid's"),
  hiddenLayers: int(1).optional().describe("hidden layers (the template's relative sizes are kept when resizing); default 1"),
});

/** `sqsnn experiment --config FILE`. */
export const experimentConfigSchema = z.strictObject({
  models: z.array(experimentModelSchema).min(1).describe('the models (neuron kinds and their training options)'),
  datasets: z.array(experimentDatasetSchema).min(1).describe('the datasets and how each is trained'),
  budgets: z.array(positive).describe('parameter budgets: each network is sized to each budget'),
  seeds: z.array(z.number().int()).min(1).describe('one run per seed'),
  tune: tuneSchema.optional().describe('learning-rate grid for every model without its own tune'),
}).describe('`sqsnn experiment --config FILE`: a grid of models × datasets × budgets × rules × seeds, each cell one training run.');

/**
 * `likelihood --shots`: {"counts"} or {"shots"/"memory"} (+ "bitOrder"), or a plain list of
 * bitstrings. The keys are checked here; widths, counts and bit orders in src/likelihood.ts, which
 * knows the register.
 */
export const deviceRecordsSchema = z.union([
  z.array(z.unknown()).describe('a list of bitstrings, one per shot'),
  z.strictObject({
    counts: z.unknown().optional().describe('{"bitstring": count} (as Qiskit returns)'),
    shots: z.unknown().optional().describe('a list of bitstrings, one per shot'),
    memory: z.unknown().optional().describe('the same as shots (Qiskit\'s name)'),
    bitOrder: z.unknown().optional().describe('"qiskit" (the last character is c[0]) or "lsb-first"; default qiskit'),
  }),
]).describe('`sqsnn likelihood --shots FILE`: spike records of the register c of the program `sqsnn export-qasm` wrote; widths and bit orders are checked against the neuron(s).');

export const SCHEMAS = {
  'train-config': trainConfigSchema,
  'experiment-config': experimentConfigSchema,
  'neuron-spec': neuronSpecSchema,
  'device-records': deviceRecordsSchema,
} as const;

