/**
 * Ctrl-C (SIGINT) and SIGTERM during a run: end the progress line, show the cursor, say in one line
 * where the last checkpoint is and how to continue, release the run folder, exit 130 / 143. A run
 * yields between batches, so the handler runs at the next batch boundary, never inside a
 * checkpoint write (which is synchronous and atomic anyway).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CHECKPOINT_FILE } from './checkpoint';
import { Progress } from './progress';

const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** "epoch E" of the checkpoint in `dir`, or null when none has been written yet. */
export function checkpointEpoch(dir: string): number | null {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8'));
    return Number.isInteger(meta?.state?.epoch) ? meta.state.epoch : null;
  } catch {
    return null;
  }
}

/**
 * Install the handlers; `describe(signal)` gives the one line to print. Returns the function that
 * removes them (call it when the run ends normally).
 */
export function exitOnInterrupt(describe: (signal: string) => string, cleanup: () => void = () => undefined): () => void {
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    Progress.restoreTerminal();
    process.stderr.write(describe(signal) + '\n');
    cleanup();
    process.exit(EXIT_CODES[signal]);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}

/** The line for an interrupted `sqsnn train --out DIR`. */
export function trainInterruptLine(signal: string, out: string): string {
  const epoch = checkpointEpoch(out);
  const resume = `sqsnn train --out ${out} --resume`;
  return epoch === null
    ? `sqsnn train: stopped by ${signal} before the first checkpoint (one is written after each epoch); nothing to resume in ${out}`
    : `sqsnn train: stopped by ${signal}; last checkpoint: ${path.join(out, CHECKPOINT_FILE)} (epoch ${epoch}); continue with: ${resume}`;
}
