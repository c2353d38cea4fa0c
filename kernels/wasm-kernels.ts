/**
 * Three kernels of tfjs-backend-wasm 4.22 replaced by cheaper ones with the same results:
 *
 * - `Slice` read its input through `readSync`, which copies the whole input out of the wasm heap
 *   into a fresh ArrayBuffer before taking the slice: slicing one time step out of a [T, 784, 256]
 *   input cost a 4 MB copy, and the garbage made full garbage collections (BPTT on 784-1000-10 spent
 *   ~15 % of a step in Slice). This one copies only the slice, straight from a view of the heap.
 * - `Identity` copied its input. tfjs runs it for every tensor a gradient saves (`Engine.clone`), so
 *   under a tape every saved input was copied (~13 % of a BPTT step). Tensors are immutable and the
 *   backend counts references (Reshape already shares its input's data), so this one shares the data,
 *   as the cpu backend's Identity does.
 * - `Transpose` walked every element with index arithmetic (~3.5 ns an element): BPTT on
 *   784-1000-10 transposes ~11 M floats a step (weights for the sparse input kernel, its outputs and
 *   gradients), 12 % of the step. A permutation that is a (batched) swap of two axis groups, as
 *   nearly all are, goes through the SIMD module's 4 × 4-block transpose on the heap; others, and
 *   1-byte types, keep the original.
 *
 * Same outputs as the originals (test/wasm-kernels.test.ts); string tensors keep the original kernels.
 * `useFastWasmKernels()` swaps them in (initBackend does, when it selects wasm);
 * `restoreWasmKernels()` puts tfjs's own back.
 */
import { runTranspose2d, simdStepSupported, wasmBackendHeap } from './sqs-step/simd';
import { tf } from './tf';

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: object): void;
}

const originals = new Map<string, tf.KernelConfig>();

function original(name: string, args: unknown): Info {
  return (originals.get(name) as tf.KernelConfig).kernelFunc(args as never) as Info;
}

function sharedIdentity(args: { inputs: { x: Info }; backend: unknown }): Info {
  const x = args.inputs.x;
  if (x.dtype === 'string') return original('Identity', args);
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

function fastSlice(args: { inputs: { x: Info }; attrs: { begin: number | number[]; size: number | number[] }; backend: unknown }): Info {
  const { inputs, attrs } = args;
  const x = inputs.x;
  if (x.dtype === 'string') return original('Slice', args);
  const backend = args.backend as WasmBackend;
  const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
  // Allocate first: malloc may grow the heap, which detaches views taken before it.
  const out = backend.makeOutput(size, x.dtype);
  const count = size.reduce((a, b) => a * b, 1);
  if (count === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(offset, offset + count));
    return out;
  }
  // Copy runs along the last axis; walk the other axes with an odometer.
  const run = size[rank - 1];
  const index = new Array(Math.max(rank - 1, 0)).fill(0);
  for (let o = 0; o < count; o += run) {
    let offset = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) offset += (begin[d] + index[d]) * strides[d];
    dst.set(src.subarray(offset, offset + run), o);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/**
 * A permutation as a batched swap of two axis groups, [N, R, C] → [N, C, R] (element counts), after
 * dropping size-1 axes and merging axes that stay adjacent; null when it is not one. An order that
 * moves nothing gives R = 1 (a copy).
 */
export function asBatchedSwap(shape: number[], perm: number[]): { n: number; r: number; c: number } | null {
  const kept = perm.filter((a) => shape[a] !== 1);
  // Runs of consecutive input axes in output order: each run is one merged axis.
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else runs.push([a]);
  }
  const size = (run: number[]) => run.reduce((m, a) => m * shape[a], 1);
  const order = runs.map((run) => run[0]); // input position of each merged axis, in output order
  const sorted = [...order].sort((a, b) => a - b);
  const rank = order.map((a) => sorted.indexOf(a)); // the merged permutation
  const total = shape.reduce((m, d) => m * d, 1);
  if (rank.length <= 1) return { n: 1, r: 1, c: total };
  if (rank.length === 2 && rank[0] === 1) return { n: 1, r: size(runs[1]), c: size(runs[0]) };
  if (rank.length === 3 && rank[0] === 0 && rank[1] === 2 && rank[2] === 1) return { n: size(runs[0]), r: size(runs[2]), c: size(runs[1]) };
  return null;
}

function fastTranspose(args: { inputs: { x: Info }; attrs: { perm: number[] }; backend: unknown }): Info {
  const x = args.inputs.x;
  const swap = x.dtype === 'float32' || x.dtype === 'int32' ? asBatchedSwap(x.shape, args.attrs.perm) : null;
  if (!swap || !simdStepSupported()) return original('Transpose', args);
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(args.attrs.perm.map((a) => x.shape[a]), x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (src.length === 0) return out;
  if (swap.r === 1 || swap.c === 1) {
    dst.set(src as never);
    return out;
  }
  const f32 = (a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number }) => new Float32Array(a.buffer, a.byteOffset, a.length);
  if (!runTranspose2d(f32(src), f32(dst), swap.n, swap.r, swap.c, wasmBackendHeap(backend))) return original('Transpose', args);
  return out;
}

const REPLACEMENTS: Record<string, (args: never) => Info> = { Slice: fastSlice, Identity: sharedIdentity, Transpose: fastTranspose };

/** Register the cheaper Slice, Identity and Transpose on the wasm backend (idempotent). */
export function useFastWasmKernels(): void {
  for (const [name, kernelFunc] of Object.entries(REPLACEMENTS)) {
    const current = tf.getKernel(name, 'wasm');
    if (!current || current.kernelFunc === (kernelFunc as unknown)) continue;
    originals.set(name, current);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** Put tfjs's own wasm Slice, Identity and Transpose back. */
export function restoreWasmKernels(): void {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  originals.clear();
}
