/**
 * Shared by the fault suite: run the CLI in-process or as a child process (signals, kill -9,
 * concurrent runs), snapshot folders to prove nothing was touched, and small file systems
 * (tmpfs, read-only) when this machine lets the tests mount them.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CliResult } from '../fixtures-train';

export { runCli, makeTmp, removeTmp, bandDataset, writeIdxDataset, idxBytes, IDX_NAMES } from '../fixtures-train';

export const ROOT = path.join(__dirname, '..', '..');
export const CLI_JS = path.join(ROOT, 'dist', 'src', 'cli.js');

/** The built CLI exists (CI builds before testing); child-process tests need it. */
export const haveBuild = fs.existsSync(CLI_JS);
if (!haveBuild) process.stderr.write(`faults: ${CLI_JS} is missing (run npm run build): child-process tests are skipped\n`);

/** sha256 of every file below `dir`, by relative path ("was anything touched?"). */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  visit(dir);
  return out;
}

/** Exit 2, nothing on stdout, no stack: the last stderr line is `sqsnn CMD: …` matching `patterns`. */
export function expectUserError(r: CliResult, cmd: string, ...patterns: (RegExp | string)[]): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  expect(last.startsWith(`sqsnn ${cmd}: `)).toBe(true);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of patterns) expect(last).toMatch(p);
}

export interface Child {
  proc: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `node dist/src/cli.js ARGV` as a child process. */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [CLI_JS, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { proc, done };
}

/** Wait until `cond()` holds (polling), or fail after `seconds`. */
export async function waitFor(cond: () => boolean, seconds = 60): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Epoch of the checkpoint in `dir`, or 0. */
export function checkpointEpoch(dir: string): number {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).state.epoch;
  } catch {
    return 0;
  }
}

/** A pid that is certainly not running: a child that has exited. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Mount a tmpfs of `kib` KiB at a new folder, or return why it cannot be done here. */
export function mountTmpfs(kib: number): { dir: string; unmount: () => void } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'mounting needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting needs root' };
  const dir = fs.mkdtempSync('/tmp/sqsnn-faults-mnt-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return { skip: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  const r = spawnSync('mount', ['-o', `remount,${mode}`, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`remount ${mode} failed: ${r.stderr}`);
}

/** Fill the file system of `dir` until `leaveBytes` (rounded to pages) are left free. */
export function fillDisk(dir: string, leaveBytes: number): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  const size = fs.statSync(filler).size;
  fs.truncateSync(filler, Math.max(0, size - leaveBytes));
  return filler;
}
