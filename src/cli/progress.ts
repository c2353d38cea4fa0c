import { formatDuration } from '../duration';
import type { BatchProgress } from '../train';

/**
 * A progress line on stderr: a bar with fields (loss, accuracy, samples/s, ETA). On a terminal it
 * redraws in place; in logs it prints a line every 10 % so CI output stays short.
 */
export class Progress {
  /** A progress line is drawn on the terminal and not yet ended by a newline. */
  private static lineOpen = false;

  /** End an open progress line and show the cursor (before a message on interrupt). */
  static restoreTerminal(): void {
    if (!process.stderr.isTTY) return;
    process.stderr.write(`${Progress.lineOpen ? '\n' : ''}\x1b[?25h`);
    Progress.lineOpen = false;
  }

  private readonly start = Date.now();
  private lastDecile = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number, private readonly quiet = false) {}

  update(done: number, fields: Record<string, string | number>): void {
    if (this.quiet) return;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const f = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join('  ');
    const line = `${this.label} ${bar} ${(100 * frac).toFixed(0).padStart(3)}%  ${f}  ${elapsed.toFixed(0)}s<${formatDuration(eta)}`;
    if (this.tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      Progress.lineOpen = true;
    }
    else {
      const decile = Math.floor(frac * 10);
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        process.stderr.write(line + '\n');
      }
    }
  }

  done(): void {
    if (!this.quiet && this.tty) process.stderr.write('\n');
    Progress.lineOpen = false;
  }
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);
}

/**
 * Progress bars drawn from trainRun's onBatch reports: one bar per epoch, labelled and keyed by
 * `scope` too (e.g. "cell 3 ", so that a grid's cells get their own bars).
 */
export function batchProgress(quiet: boolean): { draw: (p: BatchProgress, scope?: string) => void; end: () => void } {
  let bar: Progress | undefined;
  let key = '';
  const end = () => {
    bar?.done();
    bar = undefined;
  };
  const draw = (p: BatchProgress, scope = '') => {
    const k = `${scope}epoch ${p.epoch}/${p.epochs}`;
    if (k !== key || !bar) {
      end();
      key = k;
      bar = new Progress(k, p.epochSamples, quiet);
    }
    bar.update(p.samples, { loss: p.loss, acc: p.accuracy, 'samples/s': p.samplesPerSecond });
    if (p.batch === p.batches) end();
  };
  return { draw, end };
}
