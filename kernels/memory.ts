/**
 * Refuse simulations that cannot fit, from shapes alone, before anything is allocated. The limit
 * is the real one of the backend in use: the wasm backend is a 32-bit WebAssembly memory (4 GiB of
 * addresses for every tensor at once); the others hold tensors in process memory, which is capped
 * at half of the machine (SQSNN_MEMORY_BUDGET_MB overrides, for tests).
 */
import * as os from 'os';
import { SqsnnError } from './errors';
import { tf } from './tf';

export class MemoryBudgetError extends SqsnnError {}

/** Addresses of a wasm32 memory: every tensor of the wasm backend lives in it. */
export const WASM32_BYTES = 2 ** 32;

/**
 * Live copies of the register per gate of one composed step, measured: a 1+17-qubit state through
 * the 53 gates of a hardware-efficient layer peaks near 15 copies per gate (statevector), and a
 * 1+7-qubit density matrix with noise near 40 (density mode keeps every Kraus branch).
 */
const COPIES_PER_GATE = { statevector: 16, density: 48 } as const;

export interface MemoryLimit {
  bytes: number;
  /** What sets the limit, for messages. */
  what: string;
}

interface MemoryBudget {
  bytes: number;
  /** Where the budget comes from, for messages. */
  source: string;
}

let budget: MemoryBudget | undefined;

/** The budget from the environment (SQSNN_MEMORY_BUDGET_MB), else half of this machine's memory. */
function budgetFromEnv(env: NodeJS.ProcessEnv): MemoryBudget {
  const mb = Number(env.SQSNN_MEMORY_BUDGET_MB);
  if (env.SQSNN_MEMORY_BUDGET_MB && mb > 0) return { bytes: mb * 2 ** 20, source: 'SQSNN_MEMORY_BUDGET_MB' };
  return { bytes: os.totalmem() / 2, source: "half of this machine's memory" };
}

/**
 * Set the bytes the engine lets one process hold (`undefined`: back to the environment's or the
 * default, re-read on next use). Returns the previous setting, so a caller can restore it.
 * The environment is read once, on first use, not at every step.
 */
export function setMemoryBudget(megabytes: number | undefined, source = 'setMemoryBudget'): MemoryBudget | undefined {
  const previous = budget;
  if (megabytes !== undefined && !(megabytes > 0)) throw new MemoryBudgetError(`the memory budget must be > 0 MB, got ${megabytes}`);
  budget = megabytes === undefined ? undefined : { bytes: megabytes * 2 ** 20, source };
  return previous;
}

/** Restore a setting returned by `setMemoryBudget`. */
export function restoreMemoryBudget(previous: MemoryBudget | undefined): void {
  budget = previous;
}

/** Bytes the engine lets one process hold: half the machine unless set. */
export function memoryBudgetBytes(): number {
  return (budget ??= budgetFromEnv(process.env)).bytes;
}

/** The real memory limit of `backend` (default: the one in use). */
export function memoryLimit(backend: string = tf.getBackend()): MemoryLimit {
  const bytes = memoryBudgetBytes();
  const own = (budget as MemoryBudget).source;
  if (backend === 'wasm' && WASM32_BYTES < bytes) return { bytes: WASM32_BYTES, what: 'the wasm backend (a 32-bit memory: 4 GiB of addresses)' };
  return { bytes, what: `${backend} backend: ${own}` };
}

export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return '∞';
  if (b >= 2 ** 40 * 1024) return `${b.toExponential(2)} B`;
  if (b >= 2 ** 40) return `${(b / 2 ** 40).toFixed(1)} TiB`;
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}

/** Throw a one-line MemoryBudgetError naming the quantity, the estimate and the limit. */
export function assertFits(what: string, bytes: number, detail = '', backend?: string): void {
  const limit = memoryLimit(backend);
  if (bytes <= limit.bytes) return;
  throw new MemoryBudgetError(`${what} needs about ${formatBytes(bytes)}${detail ? ` (${detail})` : ''}, more than the ${formatBytes(limit.bytes)} limit of ${limit.what}`);
}

export interface RegisterShape {
  /** Qubits of the whole register (IO + memory). */
  qubits: number;
  /** Gates of one step. */
  gates: number;
}

/**
 * Working set of one composed step over `rows` registers: complex float32 amplitudes (8 bytes)
 * per row, 2^q of them for a state and 4^q for a density matrix, times the copies each gate keeps
 * alive until the step ends. Exact doubles, so absurd sizes stay finite or Infinity, never wrap.
 */
export function stepBytes(reg: RegisterShape, rows: number, mode: 'statevector' | 'density'): number {
  const amplitudes = mode === 'density' ? 4 ** reg.qubits : 2 ** reg.qubits;
  return rows * amplitudes * 8 * COPIES_PER_GATE[mode] * (reg.gates + 1);
}

/** Refuse one step of `rows` registers that cannot fit (the cheap check every simulator runs first). */
export function assertStepFits(what: string, reg: RegisterShape, rows: number, mode: 'statevector' | 'density'): void {
  assertFits(what, stepBytes(reg, rows, mode), `${rows} register(s) of ${reg.qubits} qubits in ${mode} mode, ${reg.gates} gates`);
}
