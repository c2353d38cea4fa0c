/**
 * Options of the SQS-step op, read once from the environment on first use (or set with
 * `configureSqsStep`), never at every call.
 *
 *   SQSNN_THREADS           threads of the forward kernel (1 = no workers); default: cores, at most 8
 *   SQSNN_THREAD_MIN_WORK   work (rows × samples × (D² + 16)) before rows go to workers; default 2^19
 *   SQSNN_FUSED_GRAD=0      under a gradient tape, run the composed ops instead of the fused backward
 *   SQSNN_GENERIC_LOOPS=1   run the general loops only (no N = 1 / M = 1 specialisations), to measure them
 *   SQSNN_TENSORFLOW_FUSED=0  keep the composed ops on a CPU-only tensorflow backend (see `fusedOnTensorflow`)
 */
import * as os from 'os';

export interface SqsStepOptions {
  /** Threads the forward kernel may use for a large step (1 = main thread only). */
  threads: number;
  /** Minimum work (rows × samples × (D² + 16)) before rows are handed to worker threads. */
  minWork: number;
  /** Under a gradient tape, take the fused forward+backward kernels where they apply (else the composed ops). */
  fusedGrad: boolean;
  /** Use the unrolled loops for N = 1 (forward) and D = 4 (forward, backward); false = general loops only. */
  specialise: boolean;
  /**
   * Run the fused kernels on the `tensorflow` backend too. Only right when its tensors live in host
   * memory (tfjs-node, not tfjs-node-gpu): `initBackend` turns it on for tfjs-node unless
   * SQSNN_TENSORFLOW_FUSED=0. Off by default, so a GPU (or a backend set up by hand) runs the composed ops.
   */
  fusedOnTensorflow: boolean;
}

const MAX_THREADS = 16;
const DEFAULT_MAX_THREADS = 8;
/** ≈ 16k samples of the paper neuron, some 0.5 ms of work, against a hand-off of ~0.05 ms plus the copies. */
const DEFAULT_MIN_WORK = 1 << 19;

function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, DEFAULT_MAX_THREADS));
}

function isOff(v: string | undefined): boolean {
  return v === '0' || v === 'false' || v === 'off';
}

/** The options the environment asks for (unset or malformed variables give the defaults). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SqsStepOptions {
  let threads = defaultThreads();
  const t = env.SQSNN_THREADS;
  if (t !== undefined && t.trim() !== '') {
    const n = Math.floor(Number(t));
    if (Number.isFinite(n) && n >= 1) threads = Math.min(n, MAX_THREADS);
  }
  const w = env.SQSNN_THREAD_MIN_WORK;
  const minWork = w !== undefined && w.trim() !== '' && Number(w) >= 0 ? Number(w) : DEFAULT_MIN_WORK;
  return { threads, minWork, fusedGrad: !isOff(env.SQSNN_FUSED_GRAD), specialise: env.SQSNN_GENERIC_LOOPS !== '1', fusedOnTensorflow: false };
}

/** Whether the environment lets `initBackend` run the fused kernels on a host-memory tensorflow backend. */
export function tensorflowFusedAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return !isOff(env.SQSNN_TENSORFLOW_FUSED);
}

let current: SqsStepOptions | null = null;

/** The options in force (read from the environment on the first call). A copy: change them with `configureSqsStep`. */
export function sqsStepOptions(): SqsStepOptions {
  if (!current) current = optionsFromEnv();
  return { ...current };
}

/** Change some options for this process; returns the options in force before, so a caller can restore them. */
export function configureSqsStep(change: Partial<SqsStepOptions>): SqsStepOptions {
  const before = sqsStepOptions();
  if (change.threads !== undefined && !(Number.isInteger(change.threads) && change.threads >= 1))
    throw new Error(`threads must be an integer ≥ 1, got ${change.threads}`);
  if (change.minWork !== undefined && !(change.minWork >= 0)) throw new Error(`minWork must be ≥ 0, got ${change.minWork}`);
  const next = { ...before };
  for (const [k, v] of Object.entries(change)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
  next.threads = Math.min(next.threads, MAX_THREADS);
  current = next;
  return before;
}

/** Runs `f` with some options changed, then restores the previous ones (also when `f` throws or its promise rejects). */
export function withSqsStepOptions<R>(change: Partial<SqsStepOptions>, f: () => R): R {
  const before = configureSqsStep(change);
  let result: R;
  try {
    result = f();
  } catch (e) {
    configureSqsStep(before);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => configureSqsStep(before)) as R;
  configureSqsStep(before);
  return result;
}
