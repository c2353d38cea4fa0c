/**
 * The two row jobs the worker pool splits across threads: the forward step and its backward. Both
 * are independent per row (neuron), so any split gives the same result. Each kind names its arrays
 * (the order they are laid out in the shared buffer), which are inputs and which outputs, their
 * elements per row, and how to run a range of rows. Pure: the main thread and the workers import it.
 */
import { BackwardJob, runBackward } from './backward';
import { ForwardJob, runForward } from './forward';
import { simdApplies, simdBackwardApplies } from './simd';

/** How many times faster the SIMD kernel is than the JS loop on the paper neuron (roughly; for the hand-off threshold). */
const SIMD_SPEEDUP = 4;

export interface RowJobKind<J> {
  /** Job arrays in shared-buffer order; every other field of a job is a plain number or flag. */
  arrays: readonly (keyof J & string)[];
  inputs: readonly (keyof J & string)[];
  outputs: readonly (keyof J & string)[];
  /** Elements per row of each array. */
  rowSizes(job: J): Record<string, number>;
  /** Rough cost of one row (multiply-adds), for the hand-off threshold. */
  workPerRow(job: J): number;
  /** Whether the workers run this job in place on a shared WebAssembly memory (the SIMD kernel). */
  sharedSimdMemory?(job: J): boolean;
  /** False when handing rows to workers costs more than it saves (default: hand off large jobs). */
  handOff?(job: J): boolean;
  run(job: J, r0: number, r1: number): void;
}

const forward: RowJobKind<ForwardJob> = {
  arrays: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'],
  inputs: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced'],
  outputs: ['probs', 'oneHot', 'outRe', 'outIm', 'prob'],
  rowSizes(J) {
    const k = 1 << J.n;
    const d = k * J.dm;
    const b = J.b;
    return {
      uRe: d * d, uIm: d * d, memRe: J.dm * b, memIm: J.dm * b, phi: J.n * b,
      uni: J.mode === 0 ? b : 0, forced: J.mode === 2 ? k * b : 0,
      probs: k * b, oneHot: J.mode === 2 ? 0 : k * b, outRe: J.dm * b, outIm: J.dm * b, prob: b,
    };
  },
  // The SIMD kernel does a paper-neuron sample in about a quarter of the JS loop's time.
  workPerRow(J) {
    const d = (1 << J.n) * J.dm;
    return (J.b * (d * d + 16)) / (simdApplies(J) ? SIMD_SPEEDUP : 1);
  },
  sharedSimdMemory: simdApplies,
  run(J, r0, r1) {
    runForward({ ...J, r0, r1 });
  },
};

const backward: RowJobKind<BackwardJob> = {
  arrays: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'outcome', 'dProbs', 'dMemRe', 'dMemIm', 'dProb', 'gURe', 'gUIm', 'gMemRe', 'gMemIm', 'gPhi'],
  inputs: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'outcome', 'dProbs', 'dMemRe', 'dMemIm', 'dProb'],
  outputs: ['gURe', 'gUIm', 'gMemRe', 'gMemIm', 'gPhi'],
  rowSizes(J) {
    const d = 2 * J.dm;
    const b = J.b;
    const mem = J.dm * b;
    return {
      uRe: d * d, uIm: d * d, memRe: mem, memIm: mem, phi: b, outcome: 2 * b, dProbs: 2 * b,
      dMemRe: mem, dMemIm: mem, dProb: b, gURe: d * d, gUIm: d * d, gMemRe: mem, gMemIm: mem, gPhi: b,
    };
  },
  // About three times the forward: ψ is recomputed, then ψ̄, Ū and the memory cotangent.
  workPerRow(J) {
    const d = 2 * J.dm;
    return (3 * J.b * (d * d + 16)) / (simdBackwardApplies(J) ? SIMD_SPEEDUP : 1);
  },
  sharedSimdMemory: simdBackwardApplies,
  // In place on the wasm heap the SIMD backward copies nothing; handing rows to a worker copies its 15
  // arrays in and out, which cost more than the compute they offload (BPTT 784-1000-10 on wasm:
  // ~1,120 samples/s kept on the main thread, ~890 handed off, same process order alternated).
  handOff: (J) => !(simdBackwardApplies(J) && J.heap),
  run(J, r0, r1) {
    runBackward(J, r0, r1, J.specialise);
  },
};

export const ROW_JOBS = { forward, backward };
export type RowJobName = keyof typeof ROW_JOBS;
export type RowJobOf<K extends RowJobName> = K extends 'forward' ? ForwardJob : BackwardJob;
