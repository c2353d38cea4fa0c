/**
 * A worker thread of the pool (./pool.ts). It runs the same compute modules as the main thread
 * (the row jobs of ./jobs.ts: forward and backward), loaded as files, never rebuilt from source text.
 *
 * A job names arrays in the shared buffer (copies of the rows handed to the workers, copied in chunk
 * by chunk while the workers start: `jobCtrl[1]` counts the chunks ready); workers, and the main
 * thread once its own rows are done, claim chunks of those rows from a shared counter (`jobCtrl[0]`)
 * and mark each chunk done (`jobCtrl[2 + c]`: 1 by a worker, 2 by the main thread), so a descheduled
 * or slow thread never holds up the step. The worker then reports on `ctrl[0]` (1 done,
 * 2 failed) with Atomics.notify; `ctrl[1] = 1` once it is ready; `ctrl[2..3]`: rows it has run through
 * the SIMD kernel in place and copied (./simd), so the pool can tell which path its workers take.
 */
import { parentPort, workerData } from 'worker_threads';
import { ROW_JOBS, RowJobKind, RowJobName } from './jobs';
import { simdStepCounts, WasmMemory } from './simd';

/** What the pool sends for each step. */
export interface WorkerMessage {
  kind: RowJobName;
  /** The shared buffer, when it is new to this worker (else null: the one sent before). */
  sab: SharedArrayBuffer | null;
  /** With a new buffer: the shared WebAssembly memory it is the buffer of (the SIMD kernel runs on it in place), or null. */
  memory: WasmMemory | null;
  /** The job's plain fields (dimensions, mode, keys, flags). */
  dims: Record<string, number | boolean>;
  /** Offset and length (float32 elements) of each job array in the shared buffer, in the kind's order. */
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
        // Views on the memory's own buffer object, so that the SIMD kernel recognises them as in its heap.
        memory = m.memory;
        sab = memory ? (memory.buffer as unknown as SharedArrayBuffer) : m.sab;
      }
      const kind = ROW_JOBS[m.kind] as unknown as RowJobKind<Record<string, unknown>>;
      const job: Record<string, unknown> = { ...m.dims, heap: memory };
      kind.arrays.forEach((a, i) => (job[a] = new Float32Array(sab as SharedArrayBuffer, m.offsets[i] * 4, m.lengths[i])));
      for (;;) {
        const c = Atomics.add(jobCtrl, 0, 1);
        if (c >= m.nChunks) break;
        // The main thread copies the chunks' inputs in order and counts them on jobCtrl[1].
        for (let ready = Atomics.load(jobCtrl, 1); ready <= c; ready = Atomics.load(jobCtrl, 1)) Atomics.wait(jobCtrl, 1, ready, 100);
        const r0 = c * m.chunkRows;
        kind.run(job, r0, Math.min(m.rows, r0 + m.chunkRows));
        Atomics.store(jobCtrl, 2 + c, 1);
      }
    } catch {
      status = 2;
    }
    const simd = simdStepCounts();
    Atomics.store(ctrl, 2, simd.inPlace);
    Atomics.store(ctrl, 3, simd.copied);
    Atomics.store(ctrl, 0, status);
    Atomics.notify(ctrl, 0);
  });
  Atomics.store(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}

serve(workerData as WorkerSetup);
