/**
 * Ctrl-C (SIGINT) and SIGTERM during a run. The first signal aborts the run's AbortSignal: the
 * library finishes its batch, writes a checkpoint of the exact position and returns; the command
 * then ends the progress line, says in one line where the checkpoint is and how to continue,
 * releases the run folder and exits 130 / 143 (an `Interrupted` error carries line and code to
 * `main`). A second signal does not wait for the batch: it prints the line and exits at once.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CHECKPOINT_FILE } from '../checkpoint';
import { Progress } from './progress';

export type StopSignal = 'SIGINT' | 'SIGTERM';
const EXIT_CODES: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** A run stopped by a signal: `main` prints `message` and exits with `exitCode`. */
export class Interrupted extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'Interrupted';
  }
}

export interface CheckpointPosition {
  /** Finished epochs. */
  epoch: number;
  /** Set for a checkpoint written mid-epoch: batches done of epoch `epoch + 1`. */
  partial?: { batch: number; batches: number };
}

/** Where the checkpoint in `dir` stands, or null when none has been written yet. */
export function checkpointPosition(dir: string): CheckpointPosition | null {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8'))?.state;
    if (!Number.isInteger(state?.epoch)) return null;
    const partial = state.partial;
    return { epoch: state.epoch, ...(partial ? { partial: { batch: partial.batch, batches: partial.batches } } : {}) };
  } catch {
    return null;
  }
}

/** "epoch 2" or "epoch 2 and 5 of 10 batches of epoch 3". */
export function describePosition(p: CheckpointPosition): string {
  return `epoch ${p.epoch}${p.partial ? ` and ${p.partial.batch} of ${p.partial.batches} batches of epoch ${p.epoch + 1}` : ''}`;
}

export interface InterruptWatch {
  /** Aborted by the first SIGINT / SIGTERM. */
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): StopSignal | undefined;
  /** Throw `Interrupted` (line from `describe`) when a signal was received. */
  throwIfInterrupted(): void;
  /** Remove the handlers (call when the run ends). */
  stop(): void;
}

/**
 * Watch for SIGINT / SIGTERM. `describe(signal)` gives the one line to print; `cleanup` runs before
 * a forced exit (second signal), e.g. to release the run folder's lock.
 */
export function watchInterrupts(describe: (signal: StopSignal) => string, cleanup: () => void = () => undefined): InterruptWatch {
  const controller = new AbortController();
  let got: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (got === undefined) {
      got = signal;
      controller.abort(new Error(`stopped by ${signal}`));
      return;
    }
    Progress.restoreTerminal();
    process.stderr.write(describe(got) + '\n');
    cleanup();
    process.exit(EXIT_CODES[got]);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const stop = () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
  return {
    signal: controller.signal,
    received: () => got,
    throwIfInterrupted: () => {
      if (got === undefined) return;
      Progress.restoreTerminal();
      throw new Interrupted(describe(got), EXIT_CODES[got]);
    },
    stop,
  };
}

/** The line for an interrupted `sqsnn train --out DIR`. */
export function trainInterruptLine(signal: string, out: string): string {
  const at = checkpointPosition(out);
  const resume = `sqsnn train --out ${out} --resume`;
  return at === null
    ? `sqsnn train: stopped by ${signal} before the first checkpoint was written; nothing to resume in ${out}`
    : `sqsnn train: stopped by ${signal}; last checkpoint: ${path.join(out, CHECKPOINT_FILE)} (${describePosition(at)}); continue with: ${resume}`;
}
