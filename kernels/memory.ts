/** Refuse registers that cannot fit before anything is allocated. */
import * as os from 'os';

export class MemoryBudgetError extends Error {}

/** Bytes the engine lets one simulation hold at once: half the machine, overridable for tests. */
export function memoryBudgetBytes(): number {
  const env = process.env.SQSNN_MEMORY_BUDGET_MB;
  if (env && Number(env) > 0) return Number(env) * 2 ** 20;
  return os.totalmem() / 2;
}

/**
 * Estimate of the working set of a simulation: complex float32 state of `amplitudesPerRow` per row,
 * with a factor for the temporaries of one gate or matMul.
 */
export function assertFits(what: string, rows: number, amplitudesPerRow: number, factor = 6): void {
  const bytes = rows * amplitudesPerRow * 8 * factor;
  const budget = memoryBudgetBytes();
  if (!(bytes <= budget)) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    throw new MemoryBudgetError(
      `${what} needs about ${gib(bytes)} GiB (${rows} rows × ${amplitudesPerRow} complex amplitudes), more than the ${gib(budget)} GiB budget: too many qubits for memory`,
    );
  }
}
