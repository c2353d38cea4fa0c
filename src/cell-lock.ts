/**
 * A per-cell lock, so that any number of workers (processes here, Slurm tasks on other machines)
 * can run the same grid on a shared file system without running a cell twice.
 *
 * The lock is a file created with O_EXCL ('wx'), holding its owner's host, pid and a random token.
 * A worker thread touches it every HEARTBEAT_MS, independently of the main thread (which is busy
 * training for minutes at a time). A lock is stale, and may be taken over, when its owner is a dead
 * process on this host, or when it has not been touched for `staleAfterMs` (owner on another host
 * killed, e.g. by a scheduler's time limit). Takeover renames the stale file away (atomic: one
 * worker wins) and checks that what it moved is the lock it judged stale.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { Worker } from 'worker_threads';

export const HEARTBEAT_MS = 20_000;
export const STALE_AFTER_MS = 5 * 60_000;

interface LockOwner {
  host: string;
  pid: number;
  token: string;
  started: string;
}

export interface HeldLock {
  file: string;
  release(): void;
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null; // gone, or being written this instant
  }
}

/** Whether `pid` runs on this host (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why `file`'s lock may be taken over, or null while its owner looks alive. */
export function staleReason(file: string, staleAfterMs = STALE_AFTER_MS): string | null {
  let mtime: number;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
  const owner = readOwner(file);
  if (owner && owner.host === os.hostname() && !processAlive(owner.pid)) return `its owner (pid ${owner.pid}) is not running`;
  const idle = Date.now() - mtime;
  if (idle > staleAfterMs) return `not refreshed for ${Math.round(idle / 1000)} s`;
  return null;
}

/** Whether a live worker holds the lock at `file` (it exists and is not stale). */
export function lockHeld(file: string, staleAfterMs = STALE_AFTER_MS): boolean {
  return fs.existsSync(file) && staleReason(file, staleAfterMs) === null;
}

function startHeartbeat(file: string): Worker {
  const code = `
    const fs = require('fs');
    const { workerData } = require('worker_threads');
    setInterval(() => { try { const t = new Date(); fs.utimesSync(workerData.file, t, t); } catch {} }, workerData.ms);`;
  const w = new Worker(code, { eval: true, workerData: { file, ms: HEARTBEAT_MS } });
  w.unref();
  return w;
}

/** Take the lock at `file`, or return null when a live worker holds it. */
export function tryLock(file: string, staleAfterMs = STALE_AFTER_MS): HeldLock | null {
  const owner: LockOwner = { host: os.hostname(), pid: process.pid, token: crypto.randomBytes(8).toString('hex'), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(owner), { flag: 'wx' });
      const heartbeat = startHeartbeat(file);
      return {
        file,
        release: () => {
          void heartbeat.terminate();
          if (readOwner(file)?.token === owner.token) fs.rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (attempt > 0 || !staleReason(file, staleAfterMs)) return null;
    const judged = readOwner(file);
    const moved = `${file}.stale-${owner.token}`;
    try {
      fs.renameSync(file, moved);
    } catch {
      return null; // another worker took it over first
    }
    const what = readOwner(moved);
    if (what?.token !== judged?.token) {
      // A fresh lock was written between our check and the rename: give it back.
      try {
        fs.linkSync(moved, file);
      } catch {
        /* yet another worker holds it now */
      }
      fs.rmSync(moved, { force: true });
      return null;
    }
    fs.rmSync(moved, { force: true });
  }
  return null;
}
