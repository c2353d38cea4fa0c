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
  inputs: int(1),
  layers: z.array(layerSchema).min(1),
  skip: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
  bias: z.boolean().optional(),
  weightScale: positive.optional(),
});

export const encodingSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('rate'), pMax: z.number().min(0).max(1).optional() }),
  z.strictObject({ kind: z.literal('events') }),
]);

const optimizerSchema = z.strictObject({
  kind: z.enum(['adam', 'sgd']).optional(),
  lr: positive.optional(),
  beta1: z.number().optional(),
  beta2: z.number().optional(),
  epsilon: z.number().optional(),
  clipNorm: z.number().min(0).optional(),
  lrScale: z.record(z.string(), z.number()).optional(),
  lrHalfLife: z.number().min(0).optional(),
});

export const localRuleSchema = z.strictObject({
  shots: int(0).optional(),
  spsa: int(0).optional(),
  spsaEpsilon: z.number().min(0).optional(),
  targetRate: z.number().min(0).max(1).optional(),
  offRate: z.number().min(0).max(1).optional(),
  baselineMomentum: z.number().optional(),
  baseline: z.enum(['running', 'batch']).optional(),
  outputMemory: z.enum(['forced', 'sampled']).optional(),
  eligibilityClip: z.number().min(0).optional(),
  hiddenSignal: z.enum(['broadcast', 'flip']).optional(),
  encodingGradient: z.enum(['exact', 'one-sided']).optional(),
  balance: z.boolean().optional(),
});

const ruleConfigSchema = z.strictObject({
  optimizer: optimizerSchema.optional(),
  bptt: z.strictObject({ surrogate: z.enum(['straight-through', 'pq']).optional(), logitScale: z.number().optional() }).optional(),
  local: localRuleSchema.optional(),
});

/** `sqsnn train --config FILE`: any TrainConfig field (flags override), plus `hidden` sizes. */
export const trainConfigSchema = z.strictObject({
  dataset: z.string().optional(),
  network: networkSchema.optional(),
  hidden: z.array(int(1)).optional(),
  steps: int(1).optional(),
  epochs: int(1).optional(),
  batch: int(1).optional(),
  seed: z.number().int().optional(),
  rule: z.string().optional(),
  encoding: encodingSchema.optional(),
  ruleConfig: ruleConfigSchema.optional(),
  limitTrain: int(1).optional(),
  limitTest: int(1).optional(),
  evalBatch: int(1).optional(),
  validation: z.number().gt(0).lt(1).optional(),
});

/** A learning-rate grid searched on a validation split (src/experiment.ts, TuneSpec). */
const tuneSchema = z.strictObject({
  lr: z.array(positive).min(1),
  validation: z.number().gt(0).lt(1).optional(),
  seeds: z.array(z.number().int()).min(1).optional(),
});

const experimentModelSchema = z.strictObject({
  name: z.string(),
  neuron: z.looseObject({ neuron: z.string() }),
  rules: z.array(z.string()).optional(),
  lr: positive.optional(),
  tune: tuneSchema.optional(),
  optimizer: z.enum(['adam', 'sgd']).optional(),
  surrogate: z.enum(['straight-through', 'pq']).optional(),
  logitScale: z.number().optional(),
  clipNorm: z.number().min(0).optional(),
  local: localRuleSchema.optional(),
  skip: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
  datasets: z.array(z.string()).optional(),
});

const experimentDatasetSchema = z.strictObject({
  dataset: z.string(),
  label: z.string().optional(),
  encoding: encodingSchema.optional(),
  steps: int(1),
  epochs: int(1),
  batch: int(1),
  limitTrain: int(1).optional(),
  limitTest: int(1).optional(),
  budgets: z.array(positive).optional(),
  hiddenLayers: int(1).optional(),
});

/** `sqsnn experiment --config FILE`. */
export const experimentConfigSchema = z.strictObject({
  models: z.array(experimentModelSchema).min(1),
  datasets: z.array(experimentDatasetSchema).min(1),
  budgets: z.array(positive),
  seeds: z.array(z.number().int()).min(1),
  tune: tuneSchema.optional(),
});

/**
 * `likelihood --shots`: {"counts"} or {"shots"/"memory"} (+ "bitOrder"), or a plain list of
 * bitstrings. The keys are checked here; widths, counts and bit orders in src/likelihood.ts, which
 * knows the register.
 */
export const deviceRecordsSchema = z.union([
  z.array(z.unknown()),
  z.strictObject({
    counts: z.unknown().optional(),
    shots: z.unknown().optional(),
    memory: z.unknown().optional(),
    bitOrder: z.unknown().optional(),
  }),
]);

export const SCHEMAS = {
  'train-config': trainConfigSchema,
  'experiment-config': experimentConfigSchema,
  'neuron-spec': neuronSpecSchema,
  'device-records': deviceRecordsSchema,
} as const;

