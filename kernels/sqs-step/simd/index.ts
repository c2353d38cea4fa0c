/**
 * The WebAssembly SIMD forward step of the paper neuron (N = 1, M = 1, D = 4) and its backward: four
 * samples per f32x4 lane group, compiled from ./assembly/step.ts into ./module.generated.ts (base64
 * bytes, so no compiler and no extra file at run time). Same computations as `loopN1M1` in
 * ../forward.ts and `gradRowsM1` in ../backward.ts, in float32 instead of float64 (outputs agree to
 * float32 rounding; a sampled outcome can differ only where q0 and u·(q0 + q1) tie within that
 * rounding). Pure like ../forward.ts: no tfjs, no threads.
 *
 * Arrays that live in a WebAssembly memory the caller names (`heap`: the wasm backend's heap, or the
 * worker pool's shared memory) are used in place; others (cpu backend) are copied through this
 * thread's own memory a chunk of rows at a time (the chunk stays in cache between the copies and the
 * kernel). A shared memory takes the module variant compiled for one.
 */
import { SIMD_STEP_SHARED_WASM_BASE64, SIMD_STEP_WASM_BASE64 } from './module.generated';
import type { BackwardJob } from '../backward';
import type { ForwardJob } from '../forward';

/** The part of the WebAssembly JS API used here (the project's lib has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether `x` is a WebAssembly.Memory (e.g. the one the wasm backend exports as its heap). */
export function isWasmMemory(x: unknown): x is WasmMemory {
  return wasmApi !== undefined && x instanceof (wasmApi.Memory as unknown as new () => object);
}

/** The wasm backend's heap (its WebAssembly memory), given the backend object; null for others. */
export function wasmBackendHeap(backendObject: unknown): WasmMemory | null {
  const memory = (backendObject as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return isWasmMemory(memory) ? memory : null;
}

type KernelFn = (...args: number[]) => number;

/** Bytes of one chunk of rows in the own-memory path: inputs, outputs and kernel stay in L2. */
const CHUNK_BYTES = 192 * 1024;
const PAGE = 65536;

/** Computes rows r0..r1 of a job with the scalar loop (rows the SIMD kernel leaves: |φ/2| ≥ 4096, NaN). */
export type ScalarRows = (J: ForwardJob, r0: number, r1: number) => void;
export type ScalarBackwardRows = (J: BackwardJob, r0: number, r1: number) => void;

/** One exported kernel: its array arguments in order, which of them it writes, elements per row. */
interface KernelSpec<J> {
  exportName: 'stepN1M1' | 'backwardN1M1';
  order: readonly (keyof J & string)[];
  outputs: readonly (keyof J & string)[];
  perRow(J: J): Record<string, number>;
  /** Call on rows r0..r1 of the arrays at `ptr`; returns r1, or the first row it left to the scalar loop. */
  call(fn: KernelFn, ptr: number[], r0: number, r1: number, J: J, rowBase: number): number;
}

const FORWARD: KernelSpec<ForwardJob> = {
  exportName: 'stepN1M1',
  order: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'],
  outputs: ['probs', 'oneHot', 'outRe', 'outIm', 'prob'],
  perRow(J) {
    const b = J.b;
    return {
      uRe: 16, uIm: 16, memRe: 2 * b, memIm: 2 * b, phi: b,
      uni: J.mode === 0 ? b : 0,
      forced: J.mode === 2 ? 2 * b : 0,
      probs: 2 * b,
      oneHot: J.mode === 2 ? 0 : 2 * b,
      outRe: 2 * b, outIm: 2 * b, prob: b,
    };
  },
  call: (fn, p, r0, r1, J, rowBase) => fn(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], r0, r1, J.b, rowBase, J.mode, J.k1, J.k2),
};

const BACKWARD: KernelSpec<BackwardJob> = {
  exportName: 'backwardN1M1',
  order: ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'outcome', 'dProbs', 'dMemRe', 'dMemIm', 'dProb', 'gURe', 'gUIm', 'gMemRe', 'gMemIm', 'gPhi'],
  outputs: ['gURe', 'gUIm', 'gMemRe', 'gMemIm', 'gPhi'],
  perRow(J) {
    const b = J.b;
    return { uRe: 16, uIm: 16, memRe: 2 * b, memIm: 2 * b, phi: b, outcome: 2 * b, dProbs: 2 * b, dMemRe: 2 * b, dMemIm: 2 * b, dProb: b, gURe: 16, gUIm: 16, gMemRe: 2 * b, gMemIm: 2 * b, gPhi: b };
  },
  call: (fn, p, r0, r1, J) => fn(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], r0, r1, J.b),
};

/** The compiled modules (plain memory, shared memory); null where not available. Validated once. */
const compiled: { plain?: object | null; shared?: object | null } = {};

function compile(base64: string): object | null {
  try {
    const bytes = Buffer.from(base64, 'base64');
    return wasmApi && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** The module for a plain memory, or null where WebAssembly SIMD is not available. */
function simdModule(): object | null {
  if (compiled.plain === undefined) compiled.plain = compile(SIMD_STEP_WASM_BASE64);
  return compiled.plain;
}

/** The module for a shared memory, or null where SIMD or shared WebAssembly memories are not available. */
function sharedSimdModule(): object | null {
  if (compiled.shared === undefined) compiled.shared = simdModule() ? compile(SIMD_STEP_SHARED_WASM_BASE64) : null;
  return compiled.shared;
}

function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer === 'function' && (memory.buffer as unknown) instanceof SharedArrayBuffer;
}

/**
 * A shared WebAssembly memory of at least `bytes` (its buffer is a SharedArrayBuffer that the SIMD
 * kernel runs on in place, in any thread), or null where the SIMD kernel cannot use one.
 */
export function newSharedSimdMemory(bytes: number): WasmMemory | null {
  if (!wasmApi || !sharedSimdModule()) return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  try {
    return new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null;
  }
}

/** Whether this runtime runs the SIMD step (WebAssembly with the SIMD proposal). */
export function simdStepSupported(): boolean {
  return simdModule() !== null;
}

type Kernels = Record<KernelSpec<unknown>['exportName'] | 'sparseInputT' | 'rowSparse' | 'rowDense' | 'transpose2d' | 'adam' | 'bernoulli', KernelFn>;

function instantiate(memory: WasmMemory): Kernels {
  const module = isShared(memory) ? sharedSimdModule() : simdModule();
  if (!module) throw new Error('no SIMD module for this memory');
  const instance = new (wasmApi as WasmApi).Instance(module, { env: { memory } });
  const e = instance.exports;
  return { stepN1M1: e.stepN1M1 as KernelFn, backwardN1M1: e.backwardN1M1 as KernelFn, sparseInputT: e.sparseInputT as KernelFn, rowSparse: e.rowSparse as KernelFn, rowDense: e.rowDense as KernelFn, transpose2d: e.transpose2d as KernelFn, adam: e.adam as KernelFn, bernoulli: e.bernoulli as KernelFn };
}

type Counts = { inPlace: number; copied: number; scalar: number };
/** Rows this thread ran through each kernel in place and through its own memory, and left to the scalar loop. */
const counts: Record<KernelSpec<unknown>['exportName'], Counts> = {
  stepN1M1: { inPlace: 0, copied: 0, scalar: 0 },
  backwardN1M1: { inPlace: 0, copied: 0, scalar: 0 },
};

/** What this thread's SIMD forward kernel did so far (for tests and the bench: which path ran). */
export function simdStepCounts(): Counts {
  return { ...counts.stepN1M1 };
}

/** The same for the SIMD backward kernel. */
export function simdBackwardCounts(): Counts {
  return { ...counts.backwardN1M1 };
}

const heapKernels = new WeakMap<WasmMemory, Kernels>();
let own: { memory: WasmMemory; kernels: Kernels } | null = null;

/** This thread's own memory, at least `bytes` long. */
function ownMemory(bytes: number): { memory: WasmMemory; kernels: Kernels } {
  if (!own) {
    const memory = new (wasmApi as WasmApi).Memory({ initial: Math.ceil(bytes / PAGE) });
    own = { memory, kernels: instantiate(memory) };
  } else if (own.memory.buffer.byteLength < bytes) own.memory.grow(Math.ceil((bytes - own.memory.buffer.byteLength) / PAGE));
  return own;
}

/** Runs the kernel on rows r0..r1 (of the arrays at `ptr`), returning the rows it left to the scalar loop. */
function runRows<J>(spec: KernelSpec<J>, fn: KernelFn, ptr: number[], r0: number, r1: number, J: J, rowBase: number): number[] {
  const left: number[] = [];
  let r = r0;
  while (r < r1) {
    const stop = spec.call(fn, ptr, r, r1, J, rowBase);
    if (stop >= r1) break;
    left.push(stop);
    r = stop + 1;
  }
  return left;
}

/**
 * Rows r0..r1 of a job through a SIMD kernel: in place when every array lives in `heap`, else copied
 * through this thread's own memory a chunk of rows at a time; rows the kernel leaves go to `scalarRows`.
 */
function runKernel<J extends { heap?: WasmMemory | null }>(spec: KernelSpec<J>, J: J, r0: number, r1: number, rowBase: number, scalarRows: (J: J, r0: number, r1: number) => void): void {
  const arrays = J as unknown as Record<string, Float32Array>;
  const per = spec.perRow(J);
  const tally = counts[spec.exportName];
  const heap = J.heap;
  if (heap && (!isShared(heap) || sharedSimdModule()) && spec.order.every((name) => per[name] === 0 || arrays[name].buffer === heap.buffer)) {
    let kernels = heapKernels.get(heap);
    if (!kernels) {
      kernels = instantiate(heap);
      heapKernels.set(heap, kernels);
    }
    const ptr = spec.order.map((name) => (per[name] === 0 ? 0 : arrays[name].byteOffset));
    const left = runRows(spec, kernels[spec.exportName], ptr, r0, r1, J, rowBase);
    for (const r of left) scalarRows(J, r, r + 1);
    tally.inPlace += r1 - r0 - left.length;
    tally.scalar += left.length;
    return;
  }

  // Copy a chunk of rows into this thread's memory, run, copy the outputs back.
  const rowBytes = 4 * spec.order.reduce((s, name) => s + per[name], 0);
  const chunk = Math.max(1, Math.min(r1 - r0, Math.floor(CHUNK_BYTES / rowBytes)));
  const { memory, kernels } = ownMemory(chunk * rowBytes);
  const fn = kernels[spec.exportName];
  const f32 = new Float32Array(memory.buffer);
  const ptr: number[] = [];
  let at = 0;
  for (const name of spec.order) {
    ptr.push(at);
    at += 4 * chunk * per[name];
  }
  const left: number[] = [];
  for (let r = r0; r < r1; r += chunk) {
    const c = Math.min(chunk, r1 - r);
    spec.order.forEach((name, i) => {
      const p = per[name];
      if (p > 0 && !spec.outputs.includes(name)) f32.set(arrays[name].subarray(r * p, (r + c) * p), ptr[i] >> 2);
    });
    for (const rr of runRows(spec, fn, ptr, 0, c, J, rowBase + r)) left.push(r + rr);
    spec.order.forEach((name, i) => {
      const p = per[name];
      if (p > 0 && spec.outputs.includes(name)) arrays[name].set(f32.subarray(ptr[i] >> 2, (ptr[i] >> 2) + c * p), r * p);
    });
  }
  for (const r of left) scalarRows(J, r, r + 1);
  tally.copied += r1 - r0 - left.length;
  tally.scalar += left.length;
}

/** Whether `runForward` takes this job through the SIMD kernel (options on, paper neuron, B ≥ 4, SIMD available). */
export function simdApplies(J: ForwardJob): boolean {
  return J.simd && J.specialise && J.n === 1 && J.dm === 2 && J.b >= 4 && simdModule() !== null;
}

/**
 * Rows J.r0..J.r1 of an N = 1, M = 1 job through the SIMD kernel. Returns false (nothing done) when
 * the kernel does not apply: no WebAssembly SIMD, or fewer than four samples.
 */
export function runSimdN1M1(J: ForwardJob, scalarRows: ScalarRows): boolean {
  if (J.n !== 1 || J.dm !== 2 || J.b < 4 || J.r1 <= J.r0 || !simdModule()) return false;
  runKernel(FORWARD, J, J.r0, J.r1, J.rowBase, scalarRows);
  return true;
}

/** Whether `runBackward` takes this job through the SIMD backward (options on, D = 4, B ≥ 4, SIMD available). */
export function simdBackwardApplies(J: BackwardJob): boolean {
  return J.simd && J.specialise && J.dm === 2 && J.b >= 4 && simdModule() !== null;
}

/** Rows r0..r1 of a D = 4 backward job through the SIMD kernel; false (nothing done) when it does not apply. */
export function runSimdBackwardM1(J: BackwardJob, r0: number, r1: number, scalarRows: ScalarBackwardRows): boolean {
  if (J.dm !== 2 || J.b < 4 || r1 <= r0 || !simdModule()) return false;
  runKernel(BACKWARD, J, r0, r1, 0, scalarRows);
  return true;
}

/**
 * zT [B, H] = Σ_p x[p, b]·wT[p, :] for x [P, B] (mostly zeros), wT [P, H]: the input synapse visiting
 * only the nonzero inputs (kernel `sparseInputT`). In place when all three arrays live in `heap`, else
 * copied through this thread's own memory. False (nothing done) without WebAssembly SIMD.
 */
export function runSparseInputT(wt: Float32Array, x: Float32Array, zt: Float32Array, p: number, h: number, b: number, heap?: WasmMemory | null): boolean {
  if (wt.length !== p * h || x.length !== p * b || zt.length !== b * h) return false;
  return callOnArrays('sparseInputT', [wt, x], zt, heap, [p, h, b, 0, b]);
}

/**
 * Kernel `rowSparse` on x [B, P] (mostly zeros) read row by row: out [B, H] = x·a for a [P, H], or
 * with `outer` out [P, H] = xᵀ·a for a [B, H]. In place or copied as runSparseInputT; false without SIMD.
 */
export function runRowSparse(x: Float32Array, a: Float32Array, out: Float32Array, b: number, p: number, h: number, outer: boolean, heap?: WasmMemory | null): boolean {
  if (x.length !== b * p || a.length !== (outer ? b : p) * h || out.length !== (outer ? p : b) * h) return false;
  return callOnArrays('rowSparse', [x, a], out, heap, [b, p, h, outer ? 1 : 0]);
}

/**
 * Kernel `rowDense` (narrow H, dense along P) on x [B, P]: out [H, B] = a·xᵀ for a [H, P], or with
 * `outer` out [H, P] = a·x for a [H, B]. In place or copied as runSparseInputT; false without SIMD.
 */
export function runRowDense(x: Float32Array, a: Float32Array, out: Float32Array, b: number, p: number, h: number, outer: boolean, heap?: WasmMemory | null): boolean {
  if (x.length !== b * p || a.length !== h * (outer ? b : p) || out.length !== h * (outer ? p : b)) return false;
  return callOnArrays('rowDense', [x, a], out, heap, [b, p, h, outer ? 1 : 0]);
}

/**
 * dst [N, C, R] = src [N, R, C] (4-byte elements, viewed as float32) by kernel `transpose2d`, in 4 × 4
 * register blocks. In place or copied as runSparseInputT; false without SIMD.
 */
export function runTranspose2d(src: Float32Array, dst: Float32Array, n: number, r: number, c: number, heap?: WasmMemory | null): boolean {
  if (src.length !== n * r * c || dst.length !== src.length) return false;
  return callOnArrays('transpose2d', [src], dst, heap, [n, r, c]);
}

/**
 * One Adam step (kernel `adam`, float32, four parameters at a time): p2, m2, v2 from p, m, v, g and
 * the clip factor c. In place or copied as runSparseInputT; false without SIMD.
 */
export function runAdam(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, out: [Float32Array, Float32Array, Float32Array], c: number, beta1: number, beta2: number, eps: number, step: number, heap?: WasmMemory | null): boolean {
  const n = p.length;
  if ([m, v, g, ...out].some((a) => a.length !== n)) return false;
  return callOnArrays('adam', [p, m, v, g], out, heap, [n, c, beta1, beta2, eps, step]);
}

/** out [repeats·n] = Bernoulli draws of the counter hash (k1, k2) against prob [n] (kernel `bernoulli`); false without SIMD. */
export function runBernoulli(prob: Float32Array, out: Float32Array, repeats: number, k1: number, k2: number): boolean {
  if (out.length !== prob.length * repeats) return false;
  return callOnArrays('bernoulli', [prob], out, null, [prob.length, repeats, k1, k2]);
}

/**
 * Call a kernel of the module on input arrays and output arrays (their pointers first, in that
 * order, then `rest`): in place when all live in `heap` (not shared), else copied through this
 * thread's own memory. False (nothing done) without WebAssembly SIMD.
 */
function callOnArrays(name: 'sparseInputT' | 'rowSparse' | 'rowDense' | 'transpose2d' | 'adam' | 'bernoulli', inputs: Float32Array[], out: Float32Array | Float32Array[], heap: WasmMemory | null | undefined, rest: number[]): boolean {
  if (!simdModule()) return false;
  const outs = Array.isArray(out) ? out : [out];
  const arrays = [...inputs, ...outs];
  if (heap && !isShared(heap) && arrays.every((a) => a.buffer === heap.buffer)) {
    let kernels = heapKernels.get(heap);
    if (!kernels) {
      kernels = instantiate(heap);
      heapKernels.set(heap, kernels);
    }
    const ptr = arrays.map((a) => a.byteOffset);
    kernels[name](...ptr, ...rest);
    return true;
  }
  const ptr: number[] = [];
  let end = 0;
  for (const a of arrays) {
    ptr.push(end);
    end += 4 * Math.ceil(a.length / 4) * 4;
  }
  const { memory, kernels } = ownMemory(end);
  const f32 = new Float32Array(memory.buffer);
  inputs.forEach((a, i) => f32.set(a, ptr[i] >> 2));
  kernels[name](...ptr, ...rest);
  outs.forEach((o, i) => o.set(new Float32Array(memory.buffer, ptr[inputs.length + i], o.length)));
  return true;
}
