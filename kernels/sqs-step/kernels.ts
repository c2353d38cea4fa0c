/**
 * The tfjs kernels of the SQS step on the `cpu` and `wasm` backends, registered by
 * `registerSqsStepKernels()` (called once by the op on first use; importing this module registers
 * nothing):
 *
 * - `SqsFusedStep`: the forward step (attrs `mode` 0 uniforms / 1 seeded / 2 forced, `seed`); no gradient.
 * - `SqsFusedGradStepSampled`, `SqsFusedGradStepForced`: the same forward (N = 1) under kernel names
 *   that carry registered gradients, for use under a gradient tape.
 * - `SqsFusedStepGrad`: their backward, cotangents of U, the memory and φ.
 *
 * Why registered gradients rather than `tf.customGrad`: in tfjs 4.22 `customGrad` takes a single output,
 * while the step has four. A kernel with a registered gradient is tfjs' own mechanism for multi-output
 * ops: the engine saves the inputs/outputs named in the GradConfig and passes one dy per output (zeros
 * for outputs off the backprop path).
 */
import { BackwardJob } from './backward';
import { ForwardJob, streamKeys } from './forward';
import { sqsStepOptions } from './options';
import { runRowJob } from './pool';
import { runRowDense, runRowSparse, runSparseInputT, wasmBackendHeap } from './simd';
import { hostArrays } from '../host-arrays';
import { tf, Tensor } from '../tf';

export const SQS_STEP_KERNELS = {
  forward: 'SqsFusedStep',
  tapedSampled: 'SqsFusedGradStepSampled',
  tapedForced: 'SqsFusedGradStepForced',
  backward: 'SqsFusedStepGrad',
  /** Not an SQS step: the input synapse over sparse data, zT = xᵀ·wT (see ../synapse.ts); it shares this registration. */
  sparseInput: 'SqsSparseInputT',
  rowSparse: 'SqsRowSparse',
  rowDense: 'SqsRowDense',
} as const;

/**
 * Backends the kernels are registered for (they work on plain typed arrays). On `tensorflow` they
 * run only when its tensors live in host memory (option `fusedOnTensorflow`): inputs are read out of
 * TensorFlow and outputs handed back, a copy each way that a GPU must not pay.
 */
export const SQS_STEP_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;
type CpuBackendName = (typeof SQS_STEP_BACKENDS)[number];
/** Largest register dimension the kernels take (a dense D×D unitary per row). */
export const SQS_STEP_MAX_DIM = 64;

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface KernelArgs {
  inputs: Record<string, Info>;
  attrs?: Record<string, unknown>;
  backend: unknown;
}

type KernelImpl = (args: KernelArgs) => Info[];

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function failer(kernelName: string): (msg: string) => never {
  return (msg) => {
    throw new Error(`${kernelName}: ${msg}`);
  };
}

/** Float32 output tensors with writable arrays (`outInfos`, `outArrays`), and a reader of float32 inputs. */
function backendArrays(backendName: CpuBackendName, backendObject: unknown, outShapes: number[][]) {
  const { infos, outs, read } = hostArrays(backendName, backendObject, outShapes);
  return { outInfos: infos as Info[], outArrays: outs, read: (t: Info) => read(t) };
}

/** Registers one kernel for every host-memory backend (kept if already registered). */
function registerOnCpuBackends(kernelName: string, make: (backendName: CpuBackendName) => KernelImpl): void {
  for (const backendName of SQS_STEP_BACKENDS)
    if (!tf.getKernel(kernelName, backendName))
      tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) as unknown as tf.KernelFunc });
}

/* ------------------------------------------------------------------------------------------------ */
/* Forward                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

function forwardKernel(backendName: CpuBackendName, kernelName: string = SQS_STEP_KERNELS.forward): KernelImpl {
  const fail = failer(kernelName);
  return ({ inputs, attrs, backend }) => {
    const mode = Number(attrs?.mode ?? 0);
    const seed = Number(attrs?.seed ?? 0);
    const { uRe, uIm, memRe, memIm, phi } = inputs;
    const [rows, dm, b] = memRe.shape;
    const n = phi.shape[1];
    const k = 2 ** n;
    const d = k * dm;
    if (memRe.shape.length !== 3 || phi.shape.length !== 3 || phi.shape[0] !== rows || phi.shape[2] !== b)
      fail(`mem [R, 2^M, B] ${JSON.stringify(memRe.shape)} and phi [R, N, B] ${JSON.stringify(phi.shape)} do not agree`);
    if (size(memIm.shape) !== size(memRe.shape)) fail('mem re and im differ in shape');
    if (uRe.shape.length !== 3 || uRe.shape[0] !== rows || uRe.shape[1] !== d || uRe.shape[2] !== d || size(uIm.shape) !== size(uRe.shape))
      fail(`unitary ${JSON.stringify(uRe.shape)} is not [R, D, D] with R = ${rows}, D = 2^N·2^M = ${d}`);
    if (d > SQS_STEP_MAX_DIM) fail(`D = ${d} is above ${SQS_STEP_MAX_DIM}`);
    const extra = mode === 0 ? inputs.uniforms : mode === 2 ? inputs.forced : undefined;
    if (mode === 0 && (!extra || size(extra.shape) !== rows * b)) fail('uniforms must have R·B elements');
    if (mode === 2 && (!extra || size(extra.shape) !== rows * k * b)) fail('forced must be [R, 2^N, B]');
    for (const t of [uRe, uIm, memRe, memIm, phi, ...(extra ? [extra] : [])]) if (t.dtype !== 'float32') fail(`inputs must be float32, got ${t.dtype}`);

    // Outputs: probs, oneHot (not with forcing: the forced input is the one-hot), mem re, mem im, prob.
    const outShapes: number[][] = [[rows, k, b], ...(mode === 2 ? [] : [[rows, k, b]]), [rows, dm, b], [rows, dm, b], [rows, b]];
    const { outInfos, outArrays, read } = backendArrays(backendName, backend, outShapes);
    const empty = new Float32Array(0);
    const [k1, k2] = mode === 1 ? streamKeys(seed) : [0, 0];
    const o = mode === 2 ? [outArrays[0], empty, outArrays[1], outArrays[2], outArrays[3]] : outArrays;
    const job: ForwardJob = {
      n, dm, b, r0: 0, r1: rows, rowBase: 0, mode, k1, k2,
      uRe: read(uRe), uIm: read(uIm), memRe: read(memRe), memIm: read(memIm), phi: read(phi),
      uni: mode === 0 ? read(extra as Info) : empty,
      forced: mode === 2 ? read(extra as Info) : empty,
      probs: o[0], oneHot: o[1], outRe: o[2], outIm: o[3], prob: o[4],
      specialise: sqsStepOptions().specialise,
      simd: sqsStepOptions().simd,
      heap: backendName === 'wasm' ? wasmBackendHeap(backend) : null,
    };
    runRowJob('forward', job, rows);
    return outInfos;
  };
}

/**
 * The forward under a name with a gradient, N = 1 only: sampled (attrs mode 0, uniforms input, or
 * mode 1, in-kernel draws from attr seed) or forced (mode 2).
 */
function tapedForwardKernel(backendName: CpuBackendName, sampled: boolean): KernelImpl {
  const kernelName = sampled ? SQS_STEP_KERNELS.tapedSampled : SQS_STEP_KERNELS.tapedForced;
  const forward = forwardKernel(backendName, kernelName);
  return (args) => {
    if (args.inputs.phi.shape[1] !== 1) failer(kernelName)('N must be 1');
    const mode = sampled ? (Number(args.attrs?.mode ?? 0) === 1 ? 1 : 0) : 2;
    return forward({ inputs: args.inputs, attrs: { mode, seed: Number(args.attrs?.seed ?? 0) }, backend: args.backend });
  };
}

/* ------------------------------------------------------------------------------------------------ */
/* Backward                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

function backwardKernel(backendName: CpuBackendName): KernelImpl {
  const fail = failer(SQS_STEP_KERNELS.backward);
  return ({ inputs, backend }) => {
    const { uRe, uIm, memRe, memIm, phi, outcome, dProbs, dMemRe, dMemIm, dProb } = inputs;
    const [rows, dm, b] = memRe.shape;
    const d = 2 * dm;
    if (phi.shape[1] !== 1) fail('N must be 1');
    if (uRe.shape[1] !== d || uRe.shape[2] !== d || uRe.shape[0] !== rows) fail(`unitary ${JSON.stringify(uRe.shape)} is not [${rows}, ${d}, ${d}]`);
    if (size(outcome.shape) !== rows * 2 * b || size(dProbs.shape) !== rows * 2 * b || size(dProb.shape) !== rows * b) fail('outcome/cotangent shapes');
    if (size(dMemRe.shape) !== rows * dm * b || size(dMemIm.shape) !== rows * dm * b) fail('memory cotangent shapes');
    for (const t of [uRe, uIm, memRe, memIm, phi, outcome, dProbs, dMemRe, dMemIm, dProb]) if (t.dtype !== 'float32') fail(`inputs must be float32, got ${t.dtype}`);
    const { outInfos, outArrays, read } = backendArrays(backendName, backend, [uRe.shape, uIm.shape, memRe.shape, memIm.shape, phi.shape]);
    const job: BackwardJob = {
      dm, b,
      uRe: read(uRe), uIm: read(uIm), memRe: read(memRe), memIm: read(memIm), phi: read(phi), outcome: read(outcome),
      dProbs: read(dProbs), dMemRe: read(dMemRe), dMemIm: read(dMemIm), dProb: read(dProb),
      gURe: outArrays[0], gUIm: outArrays[1], gMemRe: outArrays[2], gMemIm: outArrays[3], gPhi: outArrays[4],
      specialise: sqsStepOptions().specialise,
      simd: sqsStepOptions().simd,
      heap: backendName === 'wasm' ? wasmBackendHeap(backend) : null,
    };
    runRowJob('backward', job, rows);
    return outInfos;
  };
}

/** Cotangents [Ū.re, Ū.im, m̄.re, m̄.im, φ̄] from the saved forward inputs, outcome and output cotangents. */
function backward(saved: Tensor[], outcome: Tensor, dProbs: Tensor, dMemRe: Tensor, dMemIm: Tensor, dProb: Tensor): Tensor[] {
  const [uRe, uIm, memRe, memIm, phi] = saved;
  const inputs = { uRe, uIm, memRe, memIm, phi, outcome, dProbs, dMemRe, dMemIm, dProb };
  return tf.engine().runKernel(SQS_STEP_KERNELS.backward, inputs as any) as unknown as Tensor[];
}

/** Gradients by input name; the uniforms or forced one-hot carry none. */
function gradMap(g: Tensor[], extraName: 'uniforms' | 'forced', extraShape: number[]) {
  return {
    uRe: () => g[0],
    uIm: () => g[1],
    memRe: () => g[2],
    memIm: () => g[3],
    phi: () => g[4],
    [extraName]: () => tf.zeros(extraShape),
  };
}

/* ------------------------------------------------------------------------------------------------ */
/* Input synapse over sparse data                                                                    */
/* ------------------------------------------------------------------------------------------------ */

/** zT [B, H] = Σ_p x[p, b]·wT[p, :] from wT [P, H] and x [P, B], visiting only the nonzero x (SIMD). */
function sparseInputKernel(backendName: CpuBackendName): KernelImpl {
  const fail = failer(SQS_STEP_KERNELS.sparseInput);
  return ({ inputs, backend }) => {
    const { wt, x } = inputs;
    if (wt.shape.length !== 2 || x.shape.length !== 2 || wt.shape[0] !== x.shape[0]) fail(`wT ${JSON.stringify(wt.shape)} and x ${JSON.stringify(x.shape)} are not [P, H] and [P, B]`);
    if (wt.dtype !== 'float32' || x.dtype !== 'float32') fail('inputs must be float32');
    const [p, h] = wt.shape;
    const b = x.shape[1];
    const { outInfos, outArrays, read } = backendArrays(backendName, backend, [[b, h]]);
    if (!runSparseInputT(read(wt), read(x), outArrays[0], p, h, b, backendName === 'wasm' ? wasmBackendHeap(backend) : null)) fail('WebAssembly SIMD is not available');
    return outInfos;
  };
}

/**
 * SqsRowSparse (`dense` false): x [B, P] (data), a [P, H] → x·a [B, H]; with attr outer, a [B, H] → xᵀ·a [P, H].
 * SqsRowDense (`dense` true, narrow H): a [H, P] → a·xᵀ [H, B]; with attr outer, a [H, B] → a·x [H, P].
 */
function rowProductKernel(dense: boolean): (backendName: CpuBackendName) => KernelImpl {
  return (backendName) => {
    const fail = failer(dense ? SQS_STEP_KERNELS.rowDense : SQS_STEP_KERNELS.rowSparse);
    return ({ inputs, backend, attrs }) => {
      const { x, a } = inputs;
      const outer = !!attrs?.outer;
      const shared = dense ? a.shape[1] : a.shape[0]; // the axis a shares with x
      if (x.shape.length !== 2 || a.shape.length !== 2 || shared !== x.shape[outer ? 0 : 1])
        fail(`x ${JSON.stringify(x.shape)} and a ${JSON.stringify(a.shape)} do not fit (x [B, P]; a ${dense ? (outer ? '[H, B]' : '[H, P]') : outer ? '[B, H]' : '[P, H]'})`);
      if (x.dtype !== 'float32' || a.dtype !== 'float32') fail('inputs must be float32');
      const [b, p] = x.shape;
      const h = dense ? a.shape[0] : a.shape[1];
      const outShape = dense ? [h, outer ? p : b] : [outer ? p : b, h];
      const { outInfos, outArrays, read } = backendArrays(backendName, backend, [outShape]);
      const run = dense ? runRowDense : runRowSparse;
      if (!run(read(x), read(a), outArrays[0], b, p, h, outer, backendName === 'wasm' ? wasmBackendHeap(backend) : null)) fail('WebAssembly SIMD is not available');
      return outInfos;
    };
  };
}

let registered = false;

/** Registers the SQS-step kernels and their gradients (idempotent). */
export function registerSqsStepKernels(): void {
  if (registered) return;
  registerOnCpuBackends(SQS_STEP_KERNELS.forward, (b) => forwardKernel(b));
  registerOnCpuBackends(SQS_STEP_KERNELS.tapedSampled, (b) => tapedForwardKernel(b, true));
  registerOnCpuBackends(SQS_STEP_KERNELS.tapedForced, (b) => tapedForwardKernel(b, false));
  registerOnCpuBackends(SQS_STEP_KERNELS.backward, backwardKernel);
  registerOnCpuBackends(SQS_STEP_KERNELS.sparseInput, sparseInputKernel);
  registerOnCpuBackends(SQS_STEP_KERNELS.rowSparse, rowProductKernel(false));
  registerOnCpuBackends(SQS_STEP_KERNELS.rowDense, rowProductKernel(true));
  // Sampled outputs: [probs, oneHot, memRe, memIm, prob]; the sampled one-hot is saved for the backward.
  // (Uniforms, when given rather than drawn in the kernel from a seed, carry no gradient.)
  if (!tf.getGradient(SQS_STEP_KERNELS.tapedSampled))
    tf.registerGradient({
      kernelName: SQS_STEP_KERNELS.tapedSampled,
      inputsToSave: ['uRe', 'uIm', 'memRe', 'memIm', 'phi'],
      outputsToSave: [false, true, false, false, false],
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [dProbs, , dMemRe, dMemIm, dProb] = dy as Tensor[];
        const g = backward(saved, saved[5], dProbs, dMemRe, dMemIm, dProb);
        return gradMap(g, 'uniforms', [saved[0].shape[0] as number, saved[2].shape[2] as number]);
      },
    });
  // Forced outputs: [probs, memRe, memIm, prob]; the forced one-hot is a saved input.
  if (!tf.getGradient(SQS_STEP_KERNELS.tapedForced))
    tf.registerGradient({
      kernelName: SQS_STEP_KERNELS.tapedForced,
      inputsToSave: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'forced'],
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [dProbs, dMemRe, dMemIm, dProb] = dy as Tensor[];
        const g = backward(saved, saved[5], dProbs, dMemRe, dMemIm, dProb);
        return gradMap(g, 'forced', saved[5].shape);
      },
    });
  registered = true;
}
