/**
 * THE SQS step op: `sqsStepOp` runs one step of a layer of SQS neurons (encode φ, evolve with the
 * per-row unitary, outcome probabilities, sample or force, collapse and renormalise the memory) and
 * picks its implementation itself:
 *
 * - no dense unitary (gate-by-gate circuits), a backend other than cpu/wasm (and tensorflow on the
 *   host, option `fusedOnTensorflow`), or D > 64 → the composed ops (`sqsStep` of ../statevector),
 *   autodiff as usual;
 * - under a gradient tape (tf.grad, variableGrads, …): N = 1 → the fused forward + backward kernels
 *   (unless `fusedGrad` is off); anything else → the composed ops;
 * - no tape → the fused forward kernel (worker threads for large steps).
 *
 * All paths give the same results (held equal by test/fused.test.ts and test/fused-grad.test.ts);
 * only float rounding differs between the fused and the composed code. Which file owns what: ./README.md.
 */
import { Circuit, compileCircuit } from '../circuit';
import { Complex } from '../complex';
import { sqsStep } from '../statevector';
import { tf, Tensor } from '../tf';
import { fillUniforms, streamKeys } from './forward';
import { SQS_STEP_BACKENDS, SQS_STEP_KERNELS, SQS_STEP_MAX_DIM, registerSqsStepKernels } from './kernels';
import { sqsStepOptions } from './options';
import { simdStepSupported } from './simd';

export { SQS_STEP_BACKENDS, SQS_STEP_KERNELS, SQS_STEP_MAX_DIM } from './kernels';
export { configureSqsStep, sqsStepOptions, withSqsStepOptions } from './options';
export type { SqsStepOptions } from './options';
export { shutdownSqsStepThreads, sqsStepThreadInfo } from './pool';
export { simdStepCounts, simdStepSupported } from './simd';
export type { SqsStepThreadInfo } from './pool';

export interface SqsStepInput {
  /** The circuit: needed by the gate-by-gate path (with `angles`); else inferred from the shapes when absent. */
  circuit?: Circuit;
  /** Dense per-row unitaries U [R, D, D], U[r, i, j] = ⟨i|V(θ_r)|j⟩, D = 2^(N+M), i = y + 2^N·m. */
  unitary?: Complex;
  /**
   * `foldedUnitary(unitary, N)` for the composed path, from a caller that keeps it across steps
   * (called only when the composed path runs, outside its tidy scope). Else built per step.
   */
  folded?: () => Tensor;
  /** Per-occurrence angles [R, G], for the gate-by-gate path when there is no `unitary`. */
  angles?: Tensor;
  /** Memory state [R, 2^M, B]. */
  mem: Complex;
  /** Encoding angles φ [R, N, B]. */
  phi: Tensor;
  /** Exactly one of: uniforms [R, B] in [0, 1); an integer seed for in-kernel uniforms; a forced one-hot [R, 2^N, B]. */
  uniforms?: Tensor;
  seed?: number;
  forced?: Tensor;
}

export interface SqsStepOutput {
  probs: Tensor;
  /** The sampled outcome one-hot [R, 2^N, B]; with forcing, the `forced` tensor itself (as in `sqsStep`). */
  oneHot: Tensor;
  mem: Complex;
  /** Probability [R, B] of the outcome taken. */
  prob: Tensor;
}

/** `fused`: forward kernel; `fused-grad`: forward kernel with a registered backward; `composed`: tfjs ops. */
export type SqsStepPath = 'fused' | 'fused-grad' | 'composed';

/** Whether the fused kernels run a register of dimension D (or this circuit) on this backend. */
export function fusedSupported(circuitOrDim: Circuit | number, backendName: string = tf.getBackend()): boolean {
  const d = typeof circuitOrDim === 'number' ? circuitOrDim : circuitOrDim.dim;
  if (!(Number.isInteger(d) && d >= 2 && d <= SQS_STEP_MAX_DIM)) return false;
  if (backendName === 'tensorflow') return sqsStepOptions().fusedOnTensorflow;
  return (SQS_STEP_BACKENDS as readonly string[]).includes(backendName);
}

/**
 * Whether `sparseInputProduct` runs here: option `sparseInputs`, WebAssembly SIMD, and the cpu or wasm
 * backend (one thread against their single-threaded matmul; tensorflow keeps its threaded one).
 */
export function sparseInputSupported(backendName: string = tf.getBackend()): boolean {
  return sqsStepOptions().sparseInputs && simdStepSupported() && (backendName === 'cpu' || backendName === 'wasm');
}

/** zT [B, H] = xᵀ·wT for wT [P, H] and data x [P, B], visiting only the nonzero x; no gradient (callers add theirs). */
export function sparseInputProduct(wt: Tensor, x: Tensor): Tensor {
  registerSqsStepKernels();
  return (tf.engine().runKernel(SQS_STEP_KERNELS.sparseInput, { wt, x } as any) as unknown as Tensor[])[0];
}

/**
 * Products with sample-major data x [B, P] (spikes), visiting only its nonzero entries, row by row:
 * x·a [B, H] for a [P, H], or with `outer` xᵀ·a [P, H] for a [B, H]. No gradient. Where
 * `sparseInputSupported()`.
 */
export function rowSparseProduct(x: Tensor, a: Tensor, outer: boolean): Tensor {
  registerSqsStepKernels();
  return (tf.engine().runKernel(SQS_STEP_KERNELS.rowSparse, { x, a } as any, { outer } as any) as unknown as Tensor[])[0];
}

/**
 * The same products for a narrow H, dense and vectorised along P: a·xᵀ [H, B] for a [H, P], or with
 * `outer` a·x [H, P] for a [H, B]. No gradient. Where `sparseInputSupported()`.
 */
export function rowDenseProduct(x: Tensor, a: Tensor, outer: boolean): Tensor {
  registerSqsStepKernels();
  return (tf.engine().runKernel(SQS_STEP_KERNELS.rowDense, { x, a } as any, { outer } as any) as unknown as Tensor[])[0];
}

/**
 * Whether a step of this circuit (or dimensions { n, d }) takes the fused backward under a tape:
 * N = 1, D ≤ 64, backend cpu/wasm (or host tensorflow), and the `fusedGrad` option on.
 */
export function fusedGradSupported(what: Circuit | { n: number; d: number }, backendName: string = tf.getBackend()): boolean {
  const n = 'ioQubits' in what ? what.ioQubits : what.n;
  const d = 'dim' in what ? what.dim : what.d;
  return sqsStepOptions().fusedGrad && n === 1 && fusedSupported(d, backendName);
}

/** Whether tfjs is recording a gradient tape here (inside tf.grad / variableGrads / customGrad forward). */
function recordingGradients(): boolean {
  const e = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof e.isTapeOn === 'function' ? e.isTapeOn() : false;
}

/** The path `sqsStepOp` takes for these inputs, here and now (backend, tape, options). */
export function sqsStepPath(x: SqsStepInput): SqsStepPath {
  if (!x.unitary) return 'composed';
  const d = x.unitary.re.shape[1] as number;
  if (!fusedSupported(d)) return 'composed';
  if (!recordingGradients()) return 'fused';
  const n = x.phi.shape[1] as number;
  const rank3 = x.unitary.re.rank === 3 && x.mem.re.rank === 3 && x.phi.rank === 3;
  const fusedGrad = rank3 && d === 2 * (x.mem.re.shape[1] as number) && fusedGradSupported({ n, d });
  return fusedGrad ? 'fused-grad' : 'composed';
}

/** The uniforms [R, B] the kernel draws for `seed`: hand these to `sqsStep` to get the same outcomes. */
export function seededUniforms(seed: number, rows: number, batch: number): Tensor {
  const [k1, k2] = streamKeys(seed);
  const out = new Float32Array(rows * batch);
  fillUniforms(out, k1, k2, 0, rows * batch);
  return tf.tensor2d(out, [rows, batch]);
}

function checkOutcomeChoice(x: SqsStepInput): void {
  const given = [x.uniforms !== undefined, x.seed !== undefined, x.forced !== undefined].filter(Boolean).length;
  if (given !== 1) throw new Error('sqsStepOp needs exactly one of uniforms, seed, forced');
  if (x.seed !== undefined && !Number.isInteger(x.seed)) throw new Error(`seed must be an integer, got ${x.seed}`);
}

function circuitOf(x: SqsStepInput): Circuit {
  if (x.circuit) return x.circuit;
  if (!x.unitary) throw new Error('sqsStepOp needs a circuit (with angles) when there is no dense unitary');
  const n = x.phi.shape[1] as number;
  const m = Math.round(Math.log2(x.mem.re.shape[1] as number));
  return compileCircuit({ ioQubits: n, memoryQubits: m, layers: [] });
}

/** The composed ops (any backend, any D, autodiff): `sqsStep` with the same inputs. */
export function composedStep(x: SqsStepInput): SqsStepOutput {
  checkOutcomeChoice(x);
  // Outside the tidy: the caller's cache must outlive this step.
  const folded = x.unitary && x.folded ? x.folded() : undefined;
  return tf.tidy(() => {
    const [rows, , batch] = x.mem.re.shape as number[];
    const uniforms = x.seed !== undefined ? seededUniforms(x.seed, rows, batch) : x.uniforms;
    const out = sqsStep({ circuit: circuitOf(x), unitary: x.unitary, folded, angles: x.angles, mem: x.mem, phi: x.phi, uniforms, forced: x.forced });
    return { probs: out.probs, oneHot: out.oneHot, mem: out.mem, prob: out.prob } as any;
  }) as unknown as SqsStepOutput;
}

/** Runs a fused kernel on float32 copies of the inputs (casts disposed after). */
function runFused(kernelName: string, x: SqsStepInput, attrs: Record<string, number>): Tensor[] {
  const casts: Tensor[] = [];
  const f32 = (t: Tensor): Tensor => {
    if (t.dtype === 'float32') return t;
    const c = tf.cast(t, 'float32');
    casts.push(c);
    return c;
  };
  const unitary = x.unitary as Complex;
  const inputs: Record<string, Tensor> = { uRe: f32(unitary.re), uIm: f32(unitary.im), memRe: f32(x.mem.re), memIm: f32(x.mem.im), phi: f32(x.phi) };
  if (x.forced !== undefined) inputs.forced = f32(x.forced);
  else if (x.uniforms !== undefined) inputs.uniforms = f32(x.uniforms);
  const outs = tf.engine().runKernel(kernelName, inputs as any, attrs) as unknown as Tensor[];
  for (const c of casts) c.dispose();
  return outs;
}

/**
 * One SQS step, `sqsStep` semantics, on the path `sqsStepPath` names: the fused
 * forward kernel, the fused forward + backward kernels under a gradient tape, or the composed ops.
 */
export function sqsStepOp(x: SqsStepInput): SqsStepOutput {
  checkOutcomeChoice(x);
  const path = sqsStepPath(x);
  if (path === 'composed') return composedStep(x);
  registerSqsStepKernels();
  const forced = x.forced !== undefined;
  let outs: Tensor[];
  if (path === 'fused') outs = runFused(SQS_STEP_KERNELS.forward, x, { mode: forced ? 2 : x.seed !== undefined ? 1 : 0, seed: x.seed ?? 0 });
  else outs = runFused(forced ? SQS_STEP_KERNELS.tapedForced : SQS_STEP_KERNELS.tapedSampled, x, x.seed !== undefined ? { mode: 1, seed: x.seed } : {});
  if (forced) return { probs: outs[0], oneHot: x.forced as Tensor, mem: { re: outs[1], im: outs[2] }, prob: outs[3] };
  return { probs: outs[0], oneHot: outs[1], mem: { re: outs[2], im: outs[3] }, prob: outs[4] };
}
