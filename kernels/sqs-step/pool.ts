/**
 * The shared-memory worker pool of the forward and backward kernels (the row jobs of ./jobs.ts).
 * Rows (neurons) are independent: the pool splits them between the main thread and worker threads
 * (SharedArrayBuffer hand-off; the main thread blocks with `Atomics.wait`) when a step is large
 * enough; the split never changes a result.
 *
 * Workers are started from the worker file (./worker.ts, compiled to worker.js beside this one; from
 * sources through ../worker-start's bootstrap).
 *
 * Threads and the hand-off threshold come from ./options (SQSNN_THREADS, SQSNN_THREAD_MIN_WORK).
 */
import { Worker } from 'worker_threads';
import { startWorker } from '../worker-start';
import { ROW_JOBS, RowJobKind, RowJobName, RowJobOf } from './jobs';
import { sqsStepOptions } from './options';
import { newSharedSimdMemory, WasmMemory } from './simd';
import type { WorkerMessage, WorkerSetup } from './worker';

/** Most chunks one job's worker range is cut into. */
const MAX_CHUNKS = 256;
const READY_TIMEOUT_MS = 20000;
const STALL_MS = 10000;

/** Starts one worker: the compiled worker.js, or worker.ts through the bootstrap when running from sources. */
function startPoolWorker(setup: WorkerSetup): Worker {
  return startWorker(__dirname, 'worker', setup, __filename.endsWith('.ts'));
}

interface Slot {
  worker: Worker;
  /** [0]: job status (0 running, 1 done, 2 failed); [1]: ready; [2], [3]: the worker's SIMD rows in place, copied. */
  ctrl: Int32Array;
  /** The shared buffer this worker was last sent. */
  sent: SharedArrayBuffer | null;
}

let slots: Slot[] = [];
let poolBroken = false;
let lastThreadError: string | null = null;
let lastThreadsUsed = 1;
let lastJob: RowJobName | null = null;
/** Shared job buffer (grown on demand) and chunk control, common to all workers. */
let shared: { sab: SharedArrayBuffer; f32: Float32Array; memory: WasmMemory | null } | null = null;
const jobCtrl = new Int32Array(new SharedArrayBuffer(4 * (2 + MAX_CHUNKS)));

function markBroken(reason: string): void {
  lastThreadError = reason;
  poolBroken = true;
  for (const s of slots) void s.worker.terminate();
  slots = [];
}

/** Worker slots (created lazily, once, then reused), or [] when threads are unavailable. */
function getSlots(wanted: number): Slot[] {
  if (poolBroken) return [];
  while (slots.length < wanted) {
    const ctrl = new Int32Array(new SharedArrayBuffer(16));
    let worker: Worker;
    try {
      worker = startPoolWorker({ ctrl: ctrl.buffer as SharedArrayBuffer, jobCtrl: jobCtrl.buffer as SharedArrayBuffer });
    } catch (e) {
      markBroken(`worker could not start: ${(e as Error).message}`);
      return [];
    }
    worker.unref();
    worker.on('error', (e) => {
      lastThreadError = `worker error: ${(e as Error).message}`;
    });
    // Wait until the worker has loaded the loops (or give up on threads for this process).
    const t0 = Date.now();
    while (Atomics.load(ctrl, 1) === 0 && Date.now() - t0 < READY_TIMEOUT_MS) Atomics.wait(ctrl, 1, 0, 50);
    if (Atomics.load(ctrl, 1) !== 1) {
      void worker.terminate();
      markBroken(lastThreadError ?? 'worker did not start in time');
      return [];
    }
    slots.push({ worker, ctrl, sent: null });
  }
  return slots.slice(0, wanted);
}

/** Terminates the worker threads (they are unref'd and never keep the process alive anyway). */
export async function shutdownSqsStepThreads(): Promise<void> {
  const old = slots;
  slots = [];
  await Promise.all(old.map((s) => s.worker.terminate()));
}

export interface SqsStepThreadInfo {
  /** Threads the kernel would use for a large step. */
  threads: number;
  workersAlive: number;
  /** Threads used by the last kernel call, and which job it was. */
  lastThreadsUsed: number;
  lastJob: RowJobName | null;
  minWork: number;
  /** Share of rows the main thread takes before claiming chunks of the workers' rows, per job. */
  mainShare: Record<RowJobName, number>;
  broken: boolean;
  lastError: string | null;
  /** Rows the live workers ran through the SIMD kernel in place on the shared memory, and through copies. */
  workerSimdRows: { inPlace: number; copied: number };
}

export function sqsStepThreadInfo(): SqsStepThreadInfo {
  const options = sqsStepOptions();
  return {
    threads: poolBroken ? 1 : options.threads,
    workersAlive: slots.length,
    lastThreadsUsed,
    lastJob,
    minWork: options.minWork,
    mainShare: { ...mainShare },
    broken: poolBroken,
    lastError: lastThreadError,
    workerSimdRows: {
      inPlace: slots.reduce((sum, s) => sum + Atomics.load(s.ctrl, 2), 0),
      copied: slots.reduce((sum, s) => sum + Atomics.load(s.ctrl, 3), 0),
    },
  };
}

/**
 * Share of the rows the main thread computes directly from the backend's arrays, before it joins the
 * workers on the rest. It also copies the workers' rows in and out, so it should take less than an
 * equal share; adapted so that it claims about one chunk of the workers' rows per step.
 * (Rows are independent: the split never changes a result.)
 */
const mainShare: Record<RowJobName, number> = { forward: 0.4, backward: 0.4 };

/** Runs a row job (forward or backward) on all rows, splitting them across threads when worth it. */
export function runRowJob<K extends RowJobName>(name: K, job: RowJobOf<K>, rows: number): void {
  const kind = ROW_JOBS[name] as unknown as RowJobKind<RowJobOf<K>>;
  lastJob = name;
  const arrays = job as unknown as Record<string, Float32Array>;
  const work = rows * kind.workPerRow(job);
  const options = sqsStepOptions();
  const threads = Math.min(options.threads, rows);
  const pool = threads > 1 && work >= options.minWork && kind.handOff?.(job) !== false ? getSlots(threads - 1) : [];
  if (pool.length === 0) {
    lastThreadsUsed = 1;
    kind.run(job, 0, rows);
    return;
  }
  const nw = pool.length;
  const mainRows = Math.max(0, Math.min(rows - 1, Math.round(rows * Math.min(mainShare[name], 1 / (nw + 1)))));
  const wRows = rows - mainRows;
  const chunkRows = Math.max(1, Math.ceil(wRows / Math.min(MAX_CHUNKS, 12 * (nw + 1))));
  const nChunks = Math.ceil(wRows / chunkRows);
  const per = kind.rowSizes(job);

  // Lay out copies of the workers' rows in the shared buffer.
  const offsets: number[] = [];
  const lengths: number[] = [];
  let total = 0;
  for (const a of kind.arrays) {
    const len = per[a] * wRows;
    offsets.push(total);
    lengths.push(len);
    total += len + ((16 - (len % 16)) % 16); // 64-byte aligned views
  }
  // A shared WebAssembly memory where the workers' SIMD kernel runs on it in place, else a plain shared buffer.
  const simd = kind.sharedSimdMemory?.(job) ?? false;
  if (!shared || shared.f32.length < total || (simd && !shared.memory)) {
    const bytes = Math.ceil(total * 1.25 + 1024) * 4;
    const memory = simd ? newSharedSimdMemory(bytes) : null;
    const sab = memory ? (memory.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
    shared = { sab, f32: new Float32Array(sab), memory };
  }
  const f32 = shared.f32;
  // The workers start at once: chunk c's input rows are copied in order and published on jobCtrl[1]
  // (chunks copied), which a worker waits for before running a chunk it claimed.
  jobCtrl.fill(0, 0, 2 + nChunks);
  // Plain fields only (the arrays go through the buffer; `heap` is this thread's); a seeded forward's
  // draws are indexed by global row.
  const dims: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(job)) if (typeof v === 'number' || typeof v === 'boolean') dims[k] = v;
  if ('rowBase' in dims) dims.rowBase = (dims.rowBase as number) + mainRows;
  for (const slot of pool) {
    Atomics.store(slot.ctrl, 0, 0);
    const fresh = slot.sent !== shared.sab;
    const message: WorkerMessage = { kind: name, sab: fresh ? shared.sab : null, memory: fresh ? shared.memory : null, dims, offsets, lengths, rows: wRows, chunkRows, nChunks };
    slot.worker.postMessage(message);
    slot.sent = shared.sab;
  }
  const chunkRange = (c: number): [number, number] => [c * chunkRows, Math.min(wRows, (c + 1) * chunkRows)];
  for (let c = 0; c < nChunks; c++) {
    const [lr0, lr1] = chunkRange(c);
    kind.arrays.forEach((a, i) => {
      if (!kind.inputs.includes(a) || lengths[i] === 0) return;
      const p = per[a];
      f32.set(arrays[a].subarray((mainRows + lr0) * p, (mainRows + lr1) * p), offsets[i] + lr0 * p);
    });
    Atomics.store(jobCtrl, 1, c + 1);
    Atomics.notify(jobCtrl, 1);
  }
  // Outputs of a chunk a worker finished, copied back as soon as this thread is free to.
  const copied = new Uint8Array(nChunks);
  const copyOut = (c: number) => {
    const [lr0, lr1] = chunkRange(c);
    kind.arrays.forEach((a, i) => {
      if (!kind.outputs.includes(a) || lengths[i] === 0) return;
      const p = per[a];
      arrays[a].set(f32.subarray(offsets[i] + lr0 * p, offsets[i] + lr1 * p), (mainRows + lr0) * p);
    });
    copied[c] = 1;
  };
  const copyFinished = () => {
    for (let c = 0; c < nChunks; c++) if (!copied[c] && Atomics.load(jobCtrl, 2 + c) === 1) copyOut(c);
  };

  // Own rows, then: copy back what workers finished, and run chunks no worker has claimed yet.
  const t0 = performance.now();
  kind.run(job, 0, mainRows);
  const msPerRow = mainRows > 0 ? (performance.now() - t0) / mainRows : 0;
  let stolen = 0;
  for (;;) {
    copyFinished();
    const c = Atomics.add(jobCtrl, 0, 1);
    if (c >= nChunks) break;
    const [lr0, lr1] = chunkRange(c);
    kind.run(job, mainRows + lr0, mainRows + lr1);
    Atomics.store(jobCtrl, 2 + c, 2);
    copied[c] = 1; // computed in place
    stolen++;
  }

  // Wait for the workers, copying back chunks as they finish. A worker that makes no progress for
  // much longer than a chunk takes (it died, or hangs) is given up on: its unfinished chunks are
  // redone below and threads are switched off for this process (the main thread cannot receive a
  // worker's 'exit' event while it waits).
  const stallMs = Math.max(STALL_MS, 50 * msPerRow * chunkRows);
  let broken: string | null = null;
  for (const slot of pool) {
    let status = Atomics.load(slot.ctrl, 0);
    let done = -1;
    let lastProgress = Date.now();
    while (status === 0) {
      copyFinished();
      Atomics.wait(slot.ctrl, 0, 0, 1);
      status = Atomics.load(slot.ctrl, 0);
      if (status !== 0) break;
      let d = 0;
      for (let c = 0; c < nChunks; c++) if (Atomics.load(jobCtrl, 2 + c) !== 0) d++;
      const now = Date.now();
      if (d !== done) {
        done = d;
        lastProgress = now;
      } else if (now - lastProgress > stallMs) break;
    }
    if (status !== 1) broken = status === 0 ? 'a worker stopped making progress' : 'a worker failed on a job';
  }
  if (broken) markBroken(broken);
  // The rest of what the workers did; redo here any chunk a failed worker left unfinished.
  for (let c = 0; c < nChunks; c++) {
    if (copied[c]) continue;
    const owner = Atomics.load(jobCtrl, 2 + c);
    if (owner === 1) copyOut(c);
    else {
      const [lr0, lr1] = chunkRange(c);
      kind.run(job, mainRows + lr0, mainRows + lr1);
    }
  }
  lastThreadsUsed = nw + 1;
  if (nw === 1 && !broken) {
    // Aim at claiming about one chunk: more means the main share was too small, none too large.
    if (stolen > 1) mainShare[name] = Math.min(0.5, mainShare[name] + (0.5 * (stolen - 1) * chunkRows) / rows);
    else if (stolen === 0) mainShare[name] = Math.max(0.1, mainShare[name] - 0.01);
  }
}
