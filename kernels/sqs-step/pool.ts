/**
 * The shared-memory worker pool of the forward kernel. Rows (neurons) are independent: the pool
 * splits them between the main thread and worker threads (SharedArrayBuffer hand-off; the main thread
 * blocks with `Atomics.wait`) when a step is large enough; the split never changes a result.
 *
 * Workers are started from the worker file (./worker.ts, compiled to worker.js beside this one).
 * When this module runs from TypeScript sources (ts-jest, ts-node: there is no worker.js), the worker
 * is started through a small bootstrap that loads worker.ts with TypeScript's transpiler (a dev
 * dependency whenever sources run), so coverage instrumentation of the main thread never reaches it.
 *
 * Threads and the hand-off threshold come from ./options (SQSNN_THREADS, SQSNN_THREAD_MIN_WORK).
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { ForwardJob, runForward } from './forward';
import { sqsStepOptions } from './options';
import { newSharedSimdMemory, simdStepSupported, WasmMemory } from './simd';
import type { WorkerMessage, WorkerSetup } from './worker';

/** The job arrays, in the order they are laid out in the shared buffer. */
const ARRAY_NAMES = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced', 'probs', 'oneHot', 'outRe', 'outIm', 'prob'] as const;
type ArrayName = (typeof ARRAY_NAMES)[number];
const INPUT_NAMES: ArrayName[] = ['uRe', 'uIm', 'memRe', 'memIm', 'phi', 'uni', 'forced'];
const OUTPUT_NAMES: ArrayName[] = ['probs', 'oneHot', 'outRe', 'outIm', 'prob'];
/** Most chunks one job's worker range is cut into. */
const MAX_CHUNKS = 256;
const READY_TIMEOUT_MS = 20000;
const STALL_MS = 10000;
/** How many times faster the SIMD kernel is than the JS loop on the paper neuron (roughly; for the hand-off threshold). */
const SIMD_SPEEDUP = 4;

/**
 * Loads worker.ts in a worker thread when running from sources: `.ts` files are transpiled (no type
 * check) by the `typescript` package found by the main thread.
 */
const TS_WORKER_BOOTSTRAP = `
'use strict';
const { workerData } = require('worker_threads');
const fs = require('fs');
const Module = require('module');
const ts = require(workerData.bootstrap.typescript);
Module._extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
require(workerData.bootstrap.entry);
`;

/** Starts one worker: the compiled worker.js, or worker.ts through the bootstrap when running from sources. */
function startWorker(setup: WorkerSetup): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(path.join(__dirname, 'worker.js'), { workerData: setup });
  const bootstrap = { entry: path.join(__dirname, 'worker.ts'), typescript: require.resolve('typescript') };
  return new Worker(TS_WORKER_BOOTSTRAP, { eval: true, workerData: { ...setup, bootstrap } });
}

interface Slot {
  worker: Worker;
  /** [0]: job status (0 running, 1 done, 2 failed); [1]: ready. */
  ctrl: Int32Array;
  /** The shared buffer this worker was last sent. */
  sent: SharedArrayBuffer | null;
}

let slots: Slot[] = [];
let poolBroken = false;
let lastThreadError: string | null = null;
let lastThreadsUsed = 1;
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
    const ctrl = new Int32Array(new SharedArrayBuffer(8));
    let worker: Worker;
    try {
      worker = startWorker({ ctrl: ctrl.buffer as SharedArrayBuffer, jobCtrl: jobCtrl.buffer as SharedArrayBuffer, names: ARRAY_NAMES });
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
  /** Threads used by the last kernel call. */
  lastThreadsUsed: number;
  minWork: number;
  /** Share of rows the main thread takes before claiming chunks of the workers' rows. */
  mainShare: number;
  broken: boolean;
  lastError: string | null;
}

export function sqsStepThreadInfo(): SqsStepThreadInfo {
  const options = sqsStepOptions();
  return {
    threads: poolBroken ? 1 : options.threads,
    workersAlive: slots.length,
    lastThreadsUsed,
    minWork: options.minWork,
    mainShare,
    broken: poolBroken,
    lastError: lastThreadError,
  };
}

/** Per-row element counts of each job array. */
function rowSizes(n: number, dm: number, b: number, mode: number): Record<ArrayName, number> {
  const k = 1 << n;
  const d = k * dm;
  return {
    uRe: d * d,
    uIm: d * d,
    memRe: dm * b,
    memIm: dm * b,
    phi: n * b,
    uni: mode === 0 ? b : 0,
    forced: mode === 2 ? k * b : 0,
    probs: k * b,
    oneHot: mode === 2 ? 0 : k * b,
    outRe: dm * b,
    outIm: dm * b,
    prob: b,
  };
}

/**
 * Share of the rows the main thread computes directly from the backend's arrays, before it joins the
 * workers on the rest. It also copies the workers' rows in and out, so it should take less than an
 * equal share; adapted so that it claims about one chunk of the workers' rows per step.
 * (Rows are independent: the split never changes a result.)
 */
let mainShare = 0.4;

/** Runs the forward job on all rows, splitting them across threads when worth it. */
export function runForwardJob(job: ForwardJob, rows: number): void {
  const d = (1 << job.n) * job.dm;
  // The SIMD kernel does a paper-neuron sample in about a quarter of the JS loop's time: count its work so.
  const simd = job.simd && job.specialise && job.n === 1 && job.dm === 2 && job.b >= 4 && simdStepSupported();
  const work = (rows * job.b * (d * d + 16)) / (simd ? SIMD_SPEEDUP : 1);
  const options = sqsStepOptions();
  const threads = Math.min(options.threads, rows);
  const pool = threads > 1 && work >= options.minWork ? getSlots(threads - 1) : [];
  if (pool.length === 0) {
    lastThreadsUsed = 1;
    runForward({ ...job, r0: 0, r1: rows });
    return;
  }
  const nw = pool.length;
  const mainRows = Math.max(0, Math.min(rows - 1, Math.round(rows * Math.min(mainShare, 1 / (nw + 1)))));
  const wRows = rows - mainRows;
  const chunkRows = Math.max(1, Math.ceil(wRows / Math.min(MAX_CHUNKS, 12 * (nw + 1))));
  const nChunks = Math.ceil(wRows / chunkRows);
  const per = rowSizes(job.n, job.dm, job.b, job.mode);

  // Lay out copies of the workers' rows in the shared buffer.
  const offsets: number[] = [];
  const lengths: number[] = [];
  let total = 0;
  for (const name of ARRAY_NAMES) {
    const len = per[name] * wRows;
    offsets.push(total);
    lengths.push(len);
    total += len + ((16 - (len % 16)) % 16); // 64-byte aligned views
  }
  // A shared WebAssembly memory where the workers' SIMD kernel runs on it in place, else a plain shared buffer.
  if (!shared || shared.f32.length < total || (simd && !shared.memory)) {
    const bytes = Math.ceil(total * 1.25 + 1024) * 4;
    const memory = simd ? newSharedSimdMemory(bytes) : null;
    const sab = memory ? (memory.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
    shared = { sab, f32: new Float32Array(sab), memory };
  }
  const f32 = shared.f32;
  ARRAY_NAMES.forEach((name, i) => {
    if (INPUT_NAMES.includes(name) && lengths[i] > 0) f32.set(job[name].subarray(mainRows * per[name], rows * per[name]), offsets[i]);
  });
  jobCtrl.fill(0, 0, 2 + nChunks);
  const dims: WorkerMessage['dims'] = { n: job.n, dm: job.dm, b: job.b, rowBase: job.rowBase + mainRows, mode: job.mode, k1: job.k1, k2: job.k2, specialise: job.specialise, simd: job.simd };
  for (const slot of pool) {
    Atomics.store(slot.ctrl, 0, 0);
    const fresh = slot.sent !== shared.sab;
    const message: WorkerMessage = { sab: fresh ? shared.sab : null, memory: fresh ? shared.memory : null, dims, offsets, lengths, rows: wRows, chunkRows, nChunks };
    slot.worker.postMessage(message);
    slot.sent = shared.sab;
  }

  // Own rows, then chunks of the workers' rows that no worker has claimed yet.
  const t0 = performance.now();
  runForward({ ...job, r0: 0, r1: mainRows });
  const msPerRow = mainRows > 0 ? (performance.now() - t0) / mainRows : 0;
  let stolen = 0;
  for (;;) {
    const c = Atomics.add(jobCtrl, 0, 1);
    if (c >= nChunks) break;
    runForward({ ...job, r0: mainRows + c * chunkRows, r1: mainRows + Math.min(wRows, (c + 1) * chunkRows) });
    Atomics.store(jobCtrl, 2 + c, 2);
    stolen++;
  }

  // Wait for the workers. A worker that makes no progress for much longer than a chunk takes (it
  // died, or hangs) is given up on: its unfinished chunks are redone below and threads are switched
  // off for this process (the main thread cannot receive a worker's 'exit' event while it waits).
  const stallMs = Math.max(STALL_MS, 50 * msPerRow * chunkRows);
  let broken: string | null = null;
  for (const slot of pool) {
    let status = Atomics.load(slot.ctrl, 0);
    let done = -1;
    let lastProgress = Date.now();
    while (status === 0) {
      Atomics.wait(slot.ctrl, 0, 0, 20);
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
  // Copy back what the workers did; redo here any chunk a failed worker left unfinished.
  for (let c = 0; c < nChunks; c++) {
    const lr0 = c * chunkRows;
    const lr1 = Math.min(wRows, lr0 + chunkRows);
    const owner = Atomics.load(jobCtrl, 2 + c);
    if (owner === 1) {
      ARRAY_NAMES.forEach((name, i) => {
        if (!OUTPUT_NAMES.includes(name) || lengths[i] === 0) return;
        const p = per[name];
        job[name].set(f32.subarray(offsets[i] + lr0 * p, offsets[i] + lr1 * p), (mainRows + lr0) * p);
      });
    } else if (owner !== 2) runForward({ ...job, r0: mainRows + lr0, r1: mainRows + lr1 });
  }
  lastThreadsUsed = nw + 1;
  if (nw === 1 && !broken) {
    // Aim at claiming about one chunk: more means the main share was too small, none too large.
    if (stolen > 1) mainShare = Math.min(0.5, mainShare + (0.5 * (stolen - 1) * chunkRows) / rows);
    else if (stolen === 0) mainShare = Math.max(0.1, mainShare - 0.01);
  }
}
