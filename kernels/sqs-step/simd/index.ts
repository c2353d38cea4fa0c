/**
 * The WebAssembly SIMD forward step of the paper neuron (N = 1, M = 1, D = 4): four samples per
 * f32x4 lane group, compiled from ./assembly/step.ts into ./module.generated.ts (base64 bytes, so no
 * compiler and no extra file at run time). Same computation as `loopN1M1` in ../forward.ts, in float32
 * instead of float64 (outputs agree to float32 rounding; a sampled outcome can differ only where
 * q0 and u·(q0 + q1) tie within that rounding). Pure like ../forward.ts: no tfjs, no threads.
 *
 * Arrays that live in a WebAssembly memory the caller names (`heap`: the wasm backend's heap, or the
 * worker pool's shared memory) are used in place; others (cpu backend) are copied through this
 * thread's own memory a chunk of rows at a time (the chunk stays in cache between the copies and the
 * kernel). A shared memory takes the module variant compiled for one.
 */
import { SIMD_STEP_SHARED_WASM_BASE64, SIMD_STEP_WASM_BASE64 } from './module.generated';
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

type StepN1M1 = (
  uRe: number, uIm: number, memRe: number, memIm: number, phi: number, uni: number, forced: number,
  probs: number, oneHot: number, outRe: number, outIm: number, prob: number,
  r0: number, r1: number, b: number, rowBase: number, mode: number, k1: number, k2: number,
) => number;

/** Computes rows r0..r1 of a job with the scalar loop (rows the SIMD kernel leaves: |φ/2| ≥ 4096, NaN). */
export type ScalarRows = (J: ForwardJob, r0: number, r1: number) => void;

type ArrayName = 'uRe' | 'uIm' | 'memRe' | 'memIm' | 'phi' | 'uni' | 'forced' | 'probs' | 'oneHot' | 'outRe' | 'outIm' | 'prob';
/** Kernel argument order. */
const ARGUMENT_ORDER: ArrayName[] = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'];
const OUTPUTS: ArrayName[] = ['probs', 'oneHot', 'outRe', 'outIm', 'prob'];
/** Bytes of one chunk of rows in the own-memory path: inputs, outputs and kernel stay in L2. */
const CHUNK_BYTES = 192 * 1024;
const PAGE = 65536;

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

function instantiate(memory: WasmMemory): StepN1M1 {
  const module = isShared(memory) ? sharedSimdModule() : simdModule();
  if (!module) throw new Error('no SIMD module for this memory');
  const instance = new (wasmApi as WasmApi).Instance(module, { env: { memory } });
  return instance.exports.stepN1M1 as StepN1M1;
}

/** Rows this thread ran through the kernel in place and through its own memory, and left to the scalar loop. */
const counts = { inPlace: 0, copied: 0, scalar: 0 };

/** What this thread's SIMD kernel did so far (for tests and the bench: which path ran). */
export function simdStepCounts(): { inPlace: number; copied: number; scalar: number } {
  return { ...counts };
}

const heapSteps = new WeakMap<WasmMemory, StepN1M1>();
let own: { memory: WasmMemory; step: StepN1M1 } | null = null;

/** This thread's own memory, at least `bytes` long. */
function ownMemory(bytes: number): { memory: WasmMemory; step: StepN1M1 } {
  if (!own) {
    const memory = new (wasmApi as WasmApi).Memory({ initial: Math.ceil(bytes / PAGE) });
    own = { memory, step: instantiate(memory) };
  } else if (own.memory.buffer.byteLength < bytes) own.memory.grow(Math.ceil((bytes - own.memory.buffer.byteLength) / PAGE));
  return own;
}

/** Elements per row of each array the job uses (0: not used in this mode). */
function rowElements(J: ForwardJob): Record<ArrayName, number> {
  const b = J.b;
  return {
    uRe: 16, uIm: 16, memRe: 2 * b, memIm: 2 * b, phi: b,
    uni: J.mode === 0 ? b : 0,
    forced: J.mode === 2 ? 2 * b : 0,
    probs: 2 * b,
    oneHot: J.mode === 2 ? 0 : 2 * b,
    outRe: 2 * b, outIm: 2 * b, prob: b,
  };
}

/** Runs the kernel on rows r0..r1 (of the arrays at `ptr`), returning the rows it left to the scalar loop. */
function runRows(step: StepN1M1, ptr: number[], r0: number, r1: number, J: ForwardJob, rowBase: number): number[] {
  const left: number[] = [];
  let r = r0;
  while (r < r1) {
    const stop = step(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], ptr[7], ptr[8], ptr[9], ptr[10], ptr[11], r, r1, J.b, rowBase, J.mode, J.k1, J.k2);
    if (stop >= r1) break;
    left.push(stop);
    r = stop + 1;
  }
  return left;
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
  const per = rowElements(J);
  const heap = J.heap;
  if (heap && (!isShared(heap) || sharedSimdModule()) && ARGUMENT_ORDER.every((name) => per[name] === 0 || J[name].buffer === heap.buffer)) {
    let step = heapSteps.get(heap);
    if (!step) {
      step = instantiate(heap);
      heapSteps.set(heap, step);
    }
    const ptr = ARGUMENT_ORDER.map((name) => (per[name] === 0 ? 0 : J[name].byteOffset));
    const left = runRows(step, ptr, J.r0, J.r1, J, J.rowBase);
    for (const r of left) scalarRows(J, r, r + 1);
    counts.inPlace += J.r1 - J.r0 - left.length;
    counts.scalar += left.length;
    return true;
  }

  // Copy a chunk of rows into this thread's memory, run, copy the outputs back.
  const rowBytes = 4 * ARGUMENT_ORDER.reduce((s, name) => s + per[name], 0);
  const chunk = Math.max(1, Math.min(J.r1 - J.r0, Math.floor(CHUNK_BYTES / rowBytes)));
  const { memory, step } = ownMemory(chunk * rowBytes);
  const f32 = new Float32Array(memory.buffer);
  const ptr: number[] = [];
  let at = 0;
  for (const name of ARGUMENT_ORDER) {
    ptr.push(at);
    at += 4 * chunk * per[name];
  }
  const left: number[] = [];
  for (let r = J.r0; r < J.r1; r += chunk) {
    const c = Math.min(chunk, J.r1 - r);
    ARGUMENT_ORDER.forEach((name, i) => {
      const p = per[name];
      if (p > 0 && !OUTPUTS.includes(name)) f32.set(J[name].subarray(r * p, (r + c) * p), ptr[i] >> 2);
    });
    for (const rr of runRows(step, ptr, 0, c, J, J.rowBase + r)) left.push(r + rr);
    ARGUMENT_ORDER.forEach((name, i) => {
      const p = per[name];
      if (p > 0 && OUTPUTS.includes(name)) J[name].set(f32.subarray(ptr[i] >> 2, (ptr[i] >> 2) + c * p), r * p);
    });
  }
  for (const r of left) scalarRows(J, r, r + 1);
  counts.copied += J.r1 - J.r0 - left.length;
  counts.scalar += left.length;
  return true;
}
