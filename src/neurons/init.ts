/**
 * How an SQS layer's circuit angles θ start. Part of the model: it decides whether a network trains
 * (docs/model.md, "Initialisation"). Recorded in the layer config, so configs and checkpoints carry it.
 *
 * - `normal` (default, σ = 0.1, as the authors' BPTT code): every angle near 0, so a neuron is nearly
 *   silent at rest and its firing rises with its input current.
 * - `uniform` on [low, high): θ uniform on [0, 2π) leaves neurons firing at random, input-independent
 *   rates (about half with an inverted response); kept for comparison.
 * - `authors-local` (the authors' local-learning code): each angle near one of π/4, π/3, π/2, 2π/3
 *   (± jitter); with `mirror`, neuron 2k+1 copies neuron 2k with θ_mem + π and negated input weights.
 */
import { z } from 'zod';
import { Rng } from '../random';
import { ConfigError } from '../errors';

export type ThetaInit =
  | { kind: 'normal'; mean?: number; std?: number }
  | { kind: 'uniform'; low?: number; high?: number }
  | { kind: 'authors-local'; jitter?: number; mirror?: boolean };

/** The shape of a θ initialisation in config files (values are checked by `resolveThetaInit`). */
export const thetaInitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('normal'), mean: z.number().optional().describe('mean; default 0'), std: z.number().min(0).optional().describe('standard deviation; default 0.1') }),
  z.strictObject({ kind: z.literal('uniform'), low: z.number().optional().describe('lower end; default 0'), high: z.number().optional().describe('upper end (excluded); default 2π') }),
  z.strictObject({
    kind: z.literal('authors-local'),
    jitter: z.number().min(0).optional().describe("spread around the authors' local-rule angles; default 0.05"),
    mirror: z.boolean().optional().describe('neuron 2k+1 copies neuron 2k with θ_mem + π; default false'),
  }),
]).describe("initial circuit angles θ; default: the recipe's (src/recipes.ts)");

export const DEFAULT_THETA_INIT: ThetaInit = { kind: 'normal', mean: 0, std: 0.1 };

const AUTHORS_CENTRES = [Math.PI / 4, Math.PI / 3, Math.PI / 2, (2 * Math.PI) / 3];

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new ConfigError(`init.${what} must be a finite number, got ${JSON.stringify(x)}`);
  return x;
}

/** The init with every default filled in, after checking it (errors name the field). */
export function resolveThetaInit(init: unknown): Required<ThetaInit> {
  const i = (init ?? DEFAULT_THETA_INIT) as ThetaInit;
  if (!i || typeof i !== 'object' || typeof (i as { kind?: unknown }).kind !== 'string')
    throw new ConfigError(`init must be {"kind": "normal" | "uniform" | "authors-local", …}, got ${JSON.stringify(init)}`);
  const allowed: Record<string, string[]> = { normal: ['mean', 'std'], uniform: ['low', 'high'], 'authors-local': ['jitter', 'mirror'] };
  const keys = allowed[i.kind];
  if (!keys) throw new ConfigError(`init.kind must be normal, uniform or authors-local, got '${i.kind}'`);
  const extra = Object.keys(i).filter((k) => k !== 'kind' && !keys.includes(k));
  if (extra.length) throw new ConfigError(`init (${i.kind}) has unknown field(s) ${extra.join(', ')}; allowed: ${keys.join(', ')}`);
  switch (i.kind) {
    case 'normal': {
      const std = finite(i.std ?? 0.1, 'std');
      if (std < 0) throw new ConfigError(`init.std must be ≥ 0, got ${std}`);
      return { kind: 'normal', mean: finite(i.mean ?? 0, 'mean'), std };
    }
    case 'uniform': {
      const low = finite(i.low ?? 0, 'low');
      const high = finite(i.high ?? 2 * Math.PI, 'high');
      if (!(high > low)) throw new ConfigError(`init.high must be > init.low, got [${low}, ${high})`);
      return { kind: 'uniform', low, high };
    }
    case 'authors-local': {
      const jitter = finite(i.jitter ?? 0.05, 'jitter');
      if (jitter < 0) throw new ConfigError(`init.jitter must be ≥ 0, got ${jitter}`);
      if (i.mirror !== undefined && typeof i.mirror !== 'boolean') throw new ConfigError(`init.mirror must be true or false, got ${JSON.stringify(i.mirror)}`);
      return { kind: 'authors-local', jitter, mirror: i.mirror ?? false };
    }
  }
}


/** Mirror partner of each neuron (−1: none): with `mirror`, neuron 2k+1 mirrors neuron 2k. */
export function mirrorPartners(init: unknown, size: number): Int32Array | null {
  const r = resolveThetaInit(init);
  if (r.kind !== 'authors-local' || !r.mirror) return null;
  return Int32Array.from({ length: size }, (_, h) => (h % 2 === 1 ? h - 1 : -1));
}

/**
 * Angles [size × names.length], row-major, drawn from `seed`. Plain numbers rather than seeded tfjs
 * ops, so the same seed gives the same θ on every backend.
 */
export function sampleTheta(init: unknown, size: number, names: readonly string[], seed: number): Float32Array {
  const r = resolveThetaInit(init);
  const rng = new Rng(`${seed}/theta`);
  const k = names.length;
  const out = new Float32Array(size * k);
  for (let j = 0; j < size * k; j++) {
    const a = rng.next();
    const b = rng.next();
    if (r.kind === 'normal') out[j] = r.mean + r.std * Math.sqrt(-2 * Math.log(1 - a)) * Math.cos(2 * Math.PI * b);
    else if (r.kind === 'uniform') out[j] = r.low + (r.high - r.low) * a;
    else out[j] = AUTHORS_CENTRES[Math.min(3, Math.floor(a * 4))] + r.jitter * (2 * b - 1);
  }
  const partners = mirrorPartners(r, size);
  if (partners) {
    const mem = names.indexOf('mem');
    if (mem < 0) throw new ConfigError(`init.mirror needs a circuit parameter named 'mem' (the paper ansatz has it); this circuit has ${names.join(', ')}`);
    partners.forEach((p, h) => {
      if (p < 0) return;
      for (let q = 0; q < k; q++) out[h * k + q] = out[p * k + q] + (q === mem ? Math.PI : 0);
    });
  }
  return out;
}
