/**
 * Typed arrays of tensors on the backends whose memory the host can touch (cpu, wasm, and
 * tfjs-node's `tensorflow` on host memory), for kernels written as loops over them: outputs are
 * allocated on the backend and filled in place (wasm: views of its heap), inputs read as arrays.
 */
export interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

export type HostBackendName = 'cpu' | 'wasm' | 'tensorflow';

/** Float32 outputs of the given shapes with writable arrays, and a reader of float32 inputs. */
export function hostArrays(backendName: HostBackendName, backendObject: unknown, shapes: number[][]) {
  const backend = backendObject as any;
  const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
  if (backendName === 'wasm') {
    // Allocate first: malloc may grow the heap, which detaches earlier views.
    const infos: TensorInfoLike[] = shapes.map((s) => backend.makeOutput(s, 'float32'));
    return { infos, outs: infos.map((t) => backend.typedArrayFromHeap(t) as Float32Array), read: (t: TensorInfoLike) => backend.typedArrayFromHeap(t) as Float32Array };
  }
  const outs = shapes.map((s) => new Float32Array(count(s)));
  const infos: TensorInfoLike[] =
    backendName === 'tensorflow'
      ? shapes.map((s, i) => ({ dataId: backend.write(outs[i], s, 'float32'), shape: s, dtype: 'float32' }))
      : shapes.map((s, i) => backend.makeTensorInfo(s, 'float32', outs[i]));
  return { infos, outs, read: (t: TensorInfoLike) => backend.readSync(t.dataId) as Float32Array };
}

/**
 * The values of a float32 tensor to read at once, without a copy where the backend allows: on wasm a
 * view of its heap (valid only until the next tensor allocation, which may move the heap), elsewhere
 * `dataSync()`. For handing large tensors to other threads without garbage (data-parallel BPTT).
 */
export function readNow(t: { dataId: object; shape: number[]; dtype: string; dataSync(): unknown }, backendName: string, backendObject: unknown): Float32Array {
  if (backendName === 'wasm' && t.dtype === 'float32') return (backendObject as any).typedArrayFromHeap(t) as Float32Array;
  return t.dataSync() as Float32Array;
}
