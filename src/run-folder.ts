/**
 * One writer per run folder, and file-system faults as one-line errors.
 *
 * A run (`train`, `experiment`) takes DIR/.sqsnn.lock, created exclusively ('wx') and holding the
 * owner's pid, host and command. A lock of a process that is gone (same host, pid not alive) is
 * stale: it is taken over with a note. Before anything else is written the folder is probed (a
 * small file is written, synced and removed) so a read-only file system, a full disk, a missing
 * permission or a path under a regular file is reported before training starts. Temporary files
 * of killed runs (`*.tmp-PID`) are removed once the lock is held.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqsnnError } from '../kernels/errors';
import { processAlive } from './cell-lock';

export class LockError extends SqsnnError {}
export class FileSystemError extends SqsnnError {}

export const LOCK_FILE = '.sqsnn.lock';

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  started: string;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** A Node file-system error of a kind the user can fix, as a one-line FileSystemError; else null. */
export function fileSystemError(e: unknown, doing = 'cannot write', target?: string): FileSystemError | null {
  if (e instanceof FileSystemError) return e;
  // Duck-typed: Node's own errors need not share this realm's Error (e.g. under jest).
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !(err.code in ERRNO_TEXT)) return null;
  return new FileSystemError(`${doing} ${target ?? err.path ?? 'a file'}: ${ERRNO_TEXT[err.code]} (${err.code})`);
}

function rethrowAsUserError(e: unknown, doing: string, target?: string): never {
  throw fileSystemError(e, doing, target) ?? e;
}

/**
 * Write `data` to `file` so that `file` is either its old content or the whole new content: a
 * temporary file is written in full (a short write, e.g. on a full disk, is an error), synced,
 * then renamed. On failure the temporary file is removed and nothing has the final name.
 */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (let off = 0; off < buf.length; ) {
        const n = fs.writeSync(fd, buf, off, buf.length - off);
        if (n <= 0) throw Object.assign(new Error(`short write to ${tmp}`), { code: 'EIO', path: tmp });
        off += n;
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* the original error says more */
    }
    rethrowAsUserError(e, 'cannot write', file);
  }
}

function readLock(file: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8'));
    return o && Number.isInteger(o.pid) && typeof o.host === 'string' ? (o as LockOwner) : null;
  } catch {
    return null;
  }
}

/** Check that `dir` can be created and written, before a run writes anything that matters. */
export function probeWritable(dir: string): void {
  try {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new FileSystemError(`cannot use ${dir}: it exists and is not a directory`);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      // A recursive mkdir reports ENOENT for some faults (e.g. read-only): ask once more plainly.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(path.dirname(dir))) fs.mkdirSync(dir);
      throw e;
    }
    // A page written and synced: a read-only or full file system fails here, not mid-run.
    const probe = path.join(dir, `.sqsnn-probe-${process.pid}`);
    try {
      const fd = fs.openSync(probe, 'w');
      try {
        fs.writeSync(fd, Buffer.alloc(4096));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.rmSync(probe, { force: true });
    }
  } catch (e) {
    rethrowAsUserError(e, 'cannot write to', dir);
  }
}

export interface RunFolderLock {
  dir: string;
  release(): void;
}

/**
 * Take the lock of `dir` for `command` (creating `dir`), or throw a LockError naming the owner.
 * The lock is released by `release()` and, as a last resort, when the process exits.
 */
export function lockRunFolder(dir: string, command: string, note: (line: string) => void = (s) => process.stderr.write(s + '\n')): RunFolderLock {
  const file = path.join(dir, LOCK_FILE);
  // A folder locked by a live run is refused before anything is written (not even a probe file).
  const holder = fs.existsSync(file) ? readLock(file) : null;
  if (holder && (holder.host !== os.hostname() || processAlive(holder.pid))) throw lockedBy(dir, holder);
  const created = !fs.existsSync(dir);
  probeWritable(dir);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), command, started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') rethrowAsUserError(e, 'cannot lock');
      const owner = readLock(file);
      const stale = owner ? owner.host === os.hostname() && !processAlive(owner.pid) : attempt > 0;
      if (!stale || attempt > 3) throw owner ? lockedBy(dir, owner) : new LockError(`${dir} is locked by another run (${file} is being written); try again`);
      // Move the stale lock aside first, so only one of several starting runs takes it over.
      const aside = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, aside);
        fs.rmSync(aside, { force: true });
      } catch {
        /* another run took it over first: the next attempt sees its lock */
      }
      if (owner) note(`note: ${dir} was locked by ${owner.command} (pid ${owner.pid} on ${owner.host}), which is no longer running; taking the lock over`);
    }
  }
  removeStaleTemporaries(dir);
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    const owner = readLock(file);
    if (owner && owner.pid === process.pid && owner.host === me.host) fs.rmSync(file, { force: true });
    // A run refused before it wrote anything leaves no folder behind.
    if (created) {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* not empty: the run wrote something */
      }
    }
  };
  process.on('exit', release);
  return { dir, release };
}

function lockedBy(dir: string, o: LockOwner): LockError {
  return new LockError(`${dir} is in use by ${o.command} (pid ${o.pid} on ${o.host}, since ${o.started}); wait for it to finish or choose another output folder`);
}

/**
 * Temporary files of writes cut short by a kill, in `dir` and its cell folders: only names this
 * engine writes (`checkpoint.json.tmp-PID`, `weights-….bin.tmp-PID`, `result.json.tmp`, probes),
 * so a run folder placed among other files never loses one of them.
 */
const OWN_TEMPORARY = /^(?:(?:checkpoint\.json|metrics\.jsonl|weights-[\w.-]+\.bin|result\.json)\.tmp(?:-\d+)?|\.sqsnn-probe-\d+)$/;

export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  const visit = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < 2) visit(p, depth + 1);
      else if (e.isFile() && OWN_TEMPORARY.test(e.name) && !e.name.endsWith(`.tmp-${process.pid}`)) {
        fs.rmSync(p, { force: true });
        removed.push(p);
      }
    }
  };
  visit(dir, 0);
  return removed;
}
