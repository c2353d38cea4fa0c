/**
 * A worker thread of the forward pool (./pool.ts). It runs the same compute module as the main
 * thread (./forward.ts), loaded as a file, never rebuilt from source text.
 *
 * A job names arrays in the shared buffer (copies of the rows handed to the workers); workers, and the
 * main thread once its own rows are done, claim chunks of those rows from a shared counter
 * (`jobCtrl[0]`) and mark each chunk done (`jobCtrl[2 + c]`: 1 by a worker, 2 by the main thread), so
 * a descheduled or slow thread never holds up the step. The worker then reports on `ctrl[0]` (1 done,
 * 2 failed) with Atomics.notify; `ctrl[1] = 1` once it is ready.
 */
import { parentPort, workerData } from 'worker_threads';
import { ForwardJob, runForward } from './forward';
import type { WasmMemory } from './simd';

/** What the pool sends for each step. */
export interface WorkerMessage {
  /** The shared buffer, when it is new to this worker (else null: the one sent before). */
  sab: SharedArrayBuffer | null;
  /** With a new buffer: the shared WebAssembly memory it is the buffer of (the SIMD kernel runs on it in place), or null. */
  memory: WasmMemory | null;
  dims: Pick<ForwardJob, 'n' | 'dm' | 'b' | 'rowBase' | 'mode' | 'k1' | 'k2' | 'specialise' | 'simd'>;
  /** Offset and length (float32 elements) of each job array in the shared buffer, in `names` order. */
  offsets: number[];
  lengths: number[];
  rows: number;
  chunkRows: number;
  nChunks: number;
}

/** What the pool passes as `workerData`. */
export interface WorkerSetup {
  ctrl: SharedArrayBuffer;
  jobCtrl: SharedArrayBuffer;
  names: readonly string[];
}

function serve(setup: WorkerSetup): void {
  const port = parentPort;
  if (!port) throw new Error('kernels/sqs-step/worker must run as a worker thread');
  const ctrl = new Int32Array(setup.ctrl);
  const jobCtrl = new Int32Array(setup.jobCtrl);
  let sab: SharedArrayBuffer | null = null;
  let memory: WasmMemory | null = null;
  port.on('message', (m: WorkerMessage) => {
    let status = 1;
    try {
      if (m.sab) {
        // Views on the memory's own buffer object, so that the kernel recognises them as in its heap.
        memory = m.memory;
        sab = memory ? (memory.buffer as unknown as SharedArrayBuffer) : m.sab;
      }
      const job = { ...m.dims, r0: 0, r1: 0, heap: memory } as unknown as Record<string, unknown> & ForwardJob;
      for (let i = 0; i < setup.names.length; i++) job[setup.names[i]] = new Float32Array(sab as SharedArrayBuffer, m.offsets[i] * 4, m.lengths[i]);
      for (;;) {
        const c = Atomics.add(jobCtrl, 0, 1);
        if (c >= m.nChunks) break;
        job.r0 = c * m.chunkRows;
        job.r1 = Math.min(m.rows, job.r0 + m.chunkRows);
        runForward(job);
        Atomics.store(jobCtrl, 2 + c, 1);
      }
    } catch {
      status = 2;
    }
    Atomics.store(ctrl, 0, status);
    Atomics.notify(ctrl, 0);
  });
  Atomics.store(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}

serve(workerData as WorkerSetup);
