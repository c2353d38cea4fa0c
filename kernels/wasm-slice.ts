/**
 * A faster `Slice` for the wasm backend. tfjs-backend-wasm 4.22's Slice reads its input through
 * `readSync`, which copies the whole input out of the wasm heap into a fresh ArrayBuffer before
 * taking the slice: slicing one time step out of a [T, 784, 256] input costs a 4 MB copy, and the
 * garbage those buffers make triggers full garbage collections (BPTT on 784-1000-10 spent ~15 % of a
 * step in Slice). This version copies only the slice, straight from a view of the heap.
 *
 * Same outputs as the original (test/wasm-slice.test.ts); string tensors keep the original kernel.
 * `useFastWasmSlice()` swaps it in (initBackend does, when it selects wasm); `restoreWasmSlice()`
 * puts tfjs's own kernel back.
 */
import { tf } from './tf';

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
}

let original: tf.KernelConfig | undefined;

function fastSlice(args: { inputs: { x: Info }; attrs: { begin: number | number[]; size: number | number[] }; backend: unknown }): Info {
  const { inputs, attrs } = args;
  const x = inputs.x;
  if (x.dtype === 'string') return (original as tf.KernelConfig).kernelFunc(args as never) as Info;
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

/** Register the faster Slice on the wasm backend (idempotent). */
export function useFastWasmSlice(): void {
  const current = tf.getKernel('Slice', 'wasm');
  if (!current || current.kernelFunc === (fastSlice as unknown)) return;
  original = current;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ ...current, kernelFunc: fastSlice as unknown as tf.KernelFunc });
}

/** Put tfjs's own wasm Slice back. */
export function restoreWasmSlice(): void {
  if (!original) return;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel(original);
  original = undefined;
}
