/**
 * Schemas of the JSON inputs (zod): the train config file, the experiment config and the
 * single-neuron spec. All are strict: a key the engine does not know (`{"epochz": 3}`) is an
 * error naming its path, never silently ignored. Checks that need other fields (a current row per
 * IO qubit, a parameter per circuit angle, budgets against data sizes) stay next to the code that
 * knows them; the schemas own the shape.
 */
import { z } from 'zod';
import { SqsnnError } from '../kernels/errors';
import { hasCircuitAngles } from './recipes';

const int = (min: number) => z.number().int().min(min);
const positive = z.number().positive();

const gateOp = z.strictObject({ gate: z.string(), qubits: z.array(z.number()), param: z.string().optional() });

export const ansatzSchema = z.union([
  z.enum(['paper', 'paper-compat']),
  z.array(gateOp),
  z.array(z.array(gateOp)),
  z.strictObject({ type: z.literal('hardware-efficient'), layers: z.number(), entangler: z.enum(['memory-to-io', 'ring']).optional() }),
]);

export const noiseSchema = z.strictObject({
  t1: z.number().optional(),
  t2: z.number().optional(),
  gateTime: z.number().optional(),
  depolarizing: z.number().optional(),
});

/** `neuron-trace`, `neuron-grad`, `export-qasm`, `likelihood` --spec (values checked in spec.ts). */
export const neuronSpecSchema = z.strictObject({
  ioQubits: z.number(),
  memoryQubits: z.number(),
  ansatz: z.unknown().optional(),
  params: z.unknown().optional(),
  currents: z.unknown(),
  outcomes: z.unknown().optional(),
  noise: noiseSchema.optional(),
  seed: z.number().optional(),
});

/** An SQS layer; other kinds (lif, qlif, prob, …) check their own options when built. */
const sqsLayer = z.strictObject({
  // sqs or sqs-compat (same options)
  neuron: z.literal('sqs'),
  size: int(1),
  ioQubits: int(1).optional(),
  memoryQubits: int(0).optional(),
  ansatz: ansatzSchema.optional(),
  path: z.enum(['dense', 'gates']).optional(),
  /** θ initialisation (src/neurons/init.ts). */
  init: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('normal'), mean: z.number().optional(), std: z.number().min(0).optional() }),
    z.strictObject({ kind: z.literal('uniform'), low: z.number().optional(), high: z.number().optional() }),
    z.strictObject({ kind: z.literal('authors-local'), jitter: z.number().min(0).optional(), mirror: z.boolean().optional() }),
  ]).optional(),
  memory: z.enum(['quantum', 'reset', 'measured']).optional(),
});
export const layerSchema = z.looseObject({ neuron: z.string(), size: int(1) }).superRefine((layer, ctx) => {
  if (!hasCircuitAngles(layer.neuron)) return;
  const r = sqsLayer.safeParse({ ...layer, neuron: 'sqs' });
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue(asCustom(issue));
});

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

export class SchemaError extends SqsnnError {}

function pathText(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

/** Where an issue is and what it says; a union reports the alternative that got furthest. */
function explain(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'unrecognized_keys') return { path: [...issue.path, issue.keys[0]], message: `unknown key${issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).join(', ')})` : ''}` };
  if (issue.code === 'invalid_union') {
    const all = issue.errors.flat();
    const deeper = all.find((i) => i.code === 'unrecognized_keys') ?? all.find((i) => i.path.length > 0);
    if (deeper) {
      const inner = explain(deeper);
      return { path: [...issue.path, ...inner.path], message: inner.message };
    }
    return { path: [...issue.path], message: 'not one of the accepted forms' };
  }
  return { path: [...issue.path], message: plainMessage(issue) };
}

function plainMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}` : `must be ${issue.inclusive === false ? '>' : '≥'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `takes at most ${issue.maximum} entries` : `must be ${issue.inclusive === false ? '<' : '≤'} ${issue.maximum}`;
    case 'invalid_type':
      return issue.message.includes('received undefined') ? `is required (${issue.expected})` : `must be ${issue.expected === 'int' ? 'an integer' : `a(n) ${issue.expected}`}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/** One line for a problem: `network.layers[0].sizee: unknown key`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const { path, message } = explain(issue);
  return `${path.length ? pathText(path) : 'top level'}: ${message}`;
}

/** Parse `raw` with `schema`, or throw a SchemaError (or `ErrorClass`) naming `what`, the path and the problem. */
export function validate<T extends z.ZodType>(schema: T, raw: unknown, what: string, ErrorClass: new (message: string) => SqsnnError = SchemaError): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new ErrorClass(`${what}: ${describeIssue(r.error.issues[0])}`);
}
