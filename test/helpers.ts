/** Shared test set-up: the backend named by SQSNN_BACKEND (default: best available). */
import { initBackend } from '../src/backend';
import { tf } from '../kernels/tf';

export async function setupBackend(name?: string): Promise<string> {
  const rep = await initBackend(name);
  return rep.backend;
}

/** Max absolute difference between two number arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Run f with process.stdout/stderr writes captured (CLI commands in-process). */
export async function capture(f: () => Promise<void>): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    await f();
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
  return { out, err };
}

export { tf };
