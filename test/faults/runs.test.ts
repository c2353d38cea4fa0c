/**
 * Issue 11, rows 6, 11 and 13: one writer per run folder, file-system faults, signals, kills.
 * Child-process tests run the built CLI (dist/, which CI builds first); mount tests need root and
 * a kernel that allows tmpfs mounts, and are skipped with the reason otherwise.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadCheckpoint } from '../../src/checkpoint';
import { LOCK_FILE } from '../../src/run-folder';
import {
  bandDataset, checkpointEpoch, deadPid, expectUserError, fillDisk, haveBuild, makeTmp, mountTmpfs, remount, removeTmp, runCli, spawnCli, tree, waitFor, writeIdxDataset,
} from './helpers';

let root: string;
let idxDir: string;
let n = 0;
const fresh = (label: string) => path.join(root, `${label}${n++}`);
const TINY: Record<string, string> = { hidden: '4', T: '2', batch: '8', lr: '0.05', seed: '2', backend: 'wasm', epochs: '1' };
/** `--name value` flags from defaults and overrides (each flag once: the parser refuses repeats). */
const flags = (base: Record<string, string>, over: Record<string, string> = {}) => Object.entries({ ...base, ...over }).flatMap(([k, v]) => [`--${k}`, v]);
const train = (out: string, over: Record<string, string> = {}, ...bare: string[]) =>
  runCli(['train', '--dataset', `idx:${idxDir}`, ...flags(TINY, over), '--quiet', ...bare, '--out', out]);
/** A run slow enough to be caught mid-way: epochs of the bundled 1-vs-7 digits. */
const SLOW: Record<string, string> = { dataset: 'mnist-1v7-16', hidden: '4', T: '2', batch: '20', 'limit-train': '200', 'limit-test': '20', epochs: '500', backend: 'wasm', seed: '1' };
const withBuild = haveBuild ? test : test.skip;

beforeAll(() => {
  root = makeTmp('faults-runs');
  idxDir = path.join(root, 'idx');
  writeIdxDataset(idxDir, bandDataset({ nTrain: 24, nTest: 14, seed: 3 }));
});
afterAll(() => removeTmp(root));

describe('one writer per run folder', () => {
  test('a folder locked by a live process: exit 2 naming the owner, nothing touched', async () => {
    const out = fresh('locked');
    expect((await train(out)).code).toBe(0);
    fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'sqsnn train', started: '2026-01-01T00:00:00Z' }));
    const before = tree(out);
    expectUserError(await train(out, { epochs: '2' }, '--resume'), 'train', `${out} is in use by sqsnn train (pid ${process.pid} on ${os.hostname()}`);
    expect(tree(out)).toEqual(before);
  });

  test('a stale lock of a dead process is taken over with a note, and released at the end', async () => {
    const out = fresh('stale');
    fs.mkdirSync(out);
    const pid = deadPid();
    fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid, host: os.hostname(), command: 'sqsnn train', started: '2026-01-01T00:00:00Z' }));
    const r = await train(out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`note: .* was locked by sqsnn train \\(pid ${pid} on .*\\), which is no longer running; taking the lock over`));
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(checkpointEpoch(out)).toBe(1);
  });

  withBuild('two trainings into one folder at once: one runs, the other exits 2; the checkpoint and metrics are whole', async () => {
    const out = fresh('race');
    const args = ['train', '--dataset', `idx:${idxDir}`, ...flags(TINY, { epochs: '3' }), '--quiet', '--out', out];
    const [a, b] = await Promise.all([spawnCli(args).done, spawnCli(args).done]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    // The loser either met the lock, or (if it started after the winner finished) the finished checkpoint.
    expect(loser.stderr).toMatch(/is in use by sqsnn train|already holds a checkpoint/);
    expect(loadCheckpoint(out).meta.state.epoch).toBe(3);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3]);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  }, 120_000);
});

describe('file-system faults', () => {
  test('--out under a regular file, or naming one: exit 2 before training, no stack', async () => {
    const file = fresh('file');
    fs.writeFileSync(file, 'x');
    expectUserError(await train(path.join(file, 'run')), 'train', `cannot write to ${path.join(file, 'run')}: a part of the path is a file, not a directory (ENOTDIR)`);
    expectUserError(await train(file), 'train', `cannot use ${file}: it exists and is not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  test('leftover temporary files of a killed run are removed on the next start (only the engine\'s own)', async () => {
    const out = fresh('tmpfiles');
    expect((await train(out)).code).toBe(0);
    const junk = ['checkpoint.json.tmp-999999', 'weights-e2-0123456789ab.bin.tmp-999998', '.sqsnn-probe-999997'];
    for (const j of junk) fs.writeFileSync(path.join(out, j), 'partial');
    const theirs = ['notes.tmp', 'draft.txt.tmp-12'];
    for (const t of theirs) fs.writeFileSync(path.join(out, t), 'a file of the user');
    expect((await train(out, { epochs: '2' }, '--resume')).code).toBe(0);
    for (const j of junk) expect(fs.existsSync(path.join(out, j))).toBe(false);
    for (const t of theirs) expect(fs.readFileSync(path.join(out, t), 'utf8')).toBe('a file of the user');
    expect(checkpointEpoch(out)).toBe(2);
  });

  test('permission denied (non-root only: root ignores permission bits)', async () => {
    if (process.getuid?.() === 0) {
      process.stderr.write('faults: running as root, permission bits do not apply; see the read-only test\n');
      return;
    }
    const dir = fresh('noperm');
    fs.mkdirSync(dir, { mode: 0o500 });
    expectUserError(await train(path.join(dir, 'run')), 'train', /permission denied \(EACCES\)/);
  });

  describe('on a small tmpfs (needs mount)', () => {
    const mnt = mountTmpfs(512);
    const skip = 'skip' in mnt ? mnt.skip : null;
    if (skip) process.stderr.write(`faults: read-only and disk-full tests skipped: ${skip}\n`);
    const onTmpfs = skip ? test.skip : test;
    afterAll(() => {
      if (!('skip' in mnt)) mnt.unmount();
    });
    const dir = 'skip' in mnt ? '' : mnt.dir;

    onTmpfs('read-only file system: exit 2 before training (fresh and --resume); the checkpoint stays loadable', async () => {
      const out = path.join(dir, 'ro-run');
      expect((await train(out)).code).toBe(0);
      const before = tree(out);
      remount(dir, 'ro');
      try {
        expectUserError(await train(out, { epochs: '2' }, '--resume'), 'train', `cannot write to ${out}: the file system is read-only (EROFS)`);
        expectUserError(await train(path.join(dir, 'new-run')), 'train', /the file system is read-only \(EROFS\)/);
      } finally {
        remount(dir, 'rw');
      }
      expect(tree(out)).toEqual(before);
      expect(loadCheckpoint(out).meta.state.epoch).toBe(1);
    });

    onTmpfs('disk full: before training when nothing fits; mid-run, no file under its final name and the last checkpoint loads', async () => {
      const out = path.join(dir, 'full-run');
      const big = { hidden: '24' }; // weights of a few pages, so a checkpoint cannot fit in the space left
      expect((await train(out, big)).code).toBe(0);
      const filler = fillDisk(dir, 0);
      expectUserError(await train(path.join(dir, 'another')), 'train', /no space left on the device \(ENOSPC\)/);
      expectUserError(await train(out, { ...big, epochs: '2' }, '--resume'), 'train', /no space left on the device \(ENOSPC\)/);
      // Pages of free space for: the lock and all but the last page of the next weights (the weights
      // write fails), then the lock and the weights but not the pointer checkpoint.json.
      const weightsPages = Math.ceil(fs.statSync(path.join(out, loadCheckpoint(out).meta.weightsFile)).size / 4096);
      for (const [pages, failing] of [[weightsPages, /weights-e2-\w+\.bin/], [1 + weightsPages, /checkpoint\.json/]] as const) {
        fillDisk(dir, 0);
        fs.truncateSync(filler, fs.statSync(filler).size - pages * 4096);
        const before = tree(out);
        const r = await train(out, { ...big, epochs: '2' }, '--resume');
        expectUserError(r, 'train', failing, /: no space left on the device \(ENOSPC\)$/);
        const files = fs.readdirSync(out);
        expect(files.filter((f) => /tmp|probe|lock/.test(f))).toEqual([]);
        expect(files.filter((f) => f.startsWith('weights-'))).toEqual(Object.keys(before).filter((f) => f.startsWith('weights-')));
        expect(tree(out)['checkpoint.json']).toBe(before['checkpoint.json']);
        expect(loadCheckpoint(out).meta.state.epoch).toBe(1);
      }
      fs.rmSync(filler);
      expect((await train(out, { ...big, epochs: '2' }, '--resume')).code).toBe(0);
      expect(checkpointEpoch(out)).toBe(2);
    });
  });
});

describe('signals and kills', () => {
  const interrupt = async (signal: 'SIGINT' | 'SIGTERM', code: number) => {
    const out = fresh(signal);
    const child = spawnCli(['train', ...flags(SLOW), '--out', out]);
    await waitFor(() => checkpointEpoch(out) >= 1);
    child.proc.kill(signal);
    const r = await child.done;
    expect(r.code).toBe(code);
    const last = r.stderr.trim().split('\n').pop() as string;
    expect(last).toMatch(new RegExp(`^sqsnn train: stopped by ${signal}; last checkpoint: ${out}/checkpoint\\.json \\(epoch \\d+( and \\d+ of \\d+ batches of epoch \\d+)?\\); continue with: sqsnn train --out ${out} --resume$`));
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    // The named checkpoint is whole and resumable.
    const epoch = Number(/epoch (\d+)/.exec(last)![1]);
    expect(loadCheckpoint(out).meta.state.epoch).toBe(epoch);
    expect(fs.readdirSync(out).filter((f) => /tmp/.test(f))).toEqual([]);
  };
  withBuild('Ctrl-C (SIGINT): exit 130 with the checkpoint and the --resume command', () => interrupt('SIGINT', 130), 120_000);
  withBuild('SIGTERM: exit 143, the same line', () => interrupt('SIGTERM', 143), 120_000);

  withBuild('an interrupted experiment says how to continue, and continuing finishes the grid', async () => {
    const out = fresh('grid');
    const config = path.join(__dirname, '..', '..', 'examples', 'experiment-tiny.json');
    const child = spawnCli(['experiment', 'run', '--config', config, '--out', out, '--backend', 'wasm', '--quiet']);
    const cells = path.join(out, 'cells');
    await waitFor(() => fs.existsSync(cells) && fs.readdirSync(cells).some((c) => checkpointEpoch(path.join(cells, c)) !== null));
    child.proc.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr.trim().split('\n').pop()).toBe(
      `sqsnn experiment: stopped by SIGINT; finished cells are kept in ${out}/cells and an interrupted cell resumes from its last checkpoint; continue with: sqsnn experiment run --config ${config} --out ${out}`,
    );
    const again = await runCli(['experiment', 'run', '--config', config, '--out', out, '--backend', 'wasm', '--quiet']);
    expect(again.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'results.md'))).toBe(true);
  }, 240_000);

  withBuild('interrupted early: the checkpoint written on abort resumes bit-exactly (or, before training began, nothing to resume)', async () => {
    const two = { epochs: '2' };
    const whole = fresh('whole-early');
    expect((await spawnCli(['train', ...flags(SLOW, two), '--quiet', '--out', whole]).done).code).toBe(0);
    const out = fresh('early');
    const child = spawnCli(['train', ...flags(SLOW, two), '--out', out]);
    await waitFor(() => fs.existsSync(path.join(out, LOCK_FILE)));
    child.proc.kill('SIGINT');
    const r = await child.done;
    if (r.code === 0) return; // finished before the signal was handled: nothing to compare
    expect(r.code).toBe(130);
    const last = r.stderr.trim().split('\n').pop() as string;
    if (/nothing to resume/.test(last)) {
      expect(last).toMatch(/stopped by SIGINT before the first checkpoint .* nothing to resume/);
      return;
    }
    expect(last).toMatch(/\(epoch \d+( and \d+ of \d+ batches of epoch \d+)?\); continue with: sqsnn train --out .* --resume$/);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    const again = await spawnCli(['train', '--resume', '--quiet', '--out', out]).done;
    expect(again.code).toBe(0);
    expect(loadCheckpoint(out).meta.state.epoch).toBe(2);
    expect(loadCheckpoint(out).meta.sha256).toBe(loadCheckpoint(whole).meta.sha256);
  }, 120_000);

  test('the terminal is restored: an open progress line is ended and the cursor shown', async () => {
    const { Progress } = await import('../../src/cli/progress');
    const tty = process.stderr.isTTY;
    let written = '';
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(((s: string) => ((written += s), true)) as never);
    try {
      (process.stderr as { isTTY?: boolean }).isTTY = true;
      new Progress('epoch 1/1', 10).update(3, { loss: 1 });
      Progress.restoreTerminal();
    } finally {
      (process.stderr as { isTTY?: boolean }).isTTY = tty;
      spy.mockRestore();
    }
    expect(written).toMatch(/^\r.*\x1b\[K\n\x1b\[\?25h$/s);
  });

  withBuild('kill -9 after an epoch, then --resume: bit-exact with an uninterrupted run', async () => {
    const whole = fresh('whole');
    expect((await spawnCli(['train', ...flags(SLOW, { epochs: '3' }), '--quiet', '--out', whole]).done).code).toBe(0);
    const cut = fresh('cut');
    const child = spawnCli(['train', ...flags(SLOW), '--quiet', '--out', cut]);
    await waitFor(() => checkpointEpoch(cut) >= 1);
    child.proc.kill('SIGKILL');
    await child.done;
    const reached = checkpointEpoch(cut);
    if (reached >= 3) return; // too fast to cut before epoch 3 on this machine: nothing to compare
    expect(fs.existsSync(path.join(cut, LOCK_FILE))).toBe(true); // a kill -9 leaves its lock…
    const r = await spawnCli(['train', '--epochs', '3', '--resume', '--out', cut]).done; // …which the next run takes over
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no longer running; taking the lock over/);
    const a = loadCheckpoint(whole);
    const b = loadCheckpoint(cut);
    expect(b.meta.state.epoch).toBe(3);
    expect(b.meta.sha256).toBe(a.meta.sha256);
  }, 120_000);
});
