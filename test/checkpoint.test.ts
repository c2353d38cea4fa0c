/**
 * Checkpoints (src/checkpoint.ts): round trip, verification (sha256, format, bounds), restore by
 * name with shape checks, and atomicity — a save that fails at any point leaves the previous
 * checkpoint loadable and byte-for-byte unchanged.
 */
import * as fs from 'fs';
import * as path from 'path';
import { setupBackend, tf } from './helpers';
import {
  CHECKPOINT_FILE, CheckpointError, hasCheckpoint, loadCheckpoint, restoreVariables, saveCheckpoint,
} from '../src/checkpoint';
import { Optimizer } from '../src/learn/optimizer';
import { Network, NetworkConfig } from '../src/network';
import { Rng } from '../src/random';
import { networkFromCheckpoint } from '../src/train';
import { checkpointListing, makeTmp, removeTmp, snapshot, weightsFileOf } from './fixtures-train';

// The real module object (an `import * as` namespace has getter-only bindings that cannot be spied).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fsMod: typeof fs = require('fs');
const realRename = fsMod.renameSync;

let root: string;
let n = 0;
beforeAll(async () => {
  await setupBackend();
  root = makeTmp('ckpt');
});
afterAll(() => removeTmp(root));
afterEach(() => jest.restoreAllMocks());

function freshDir(): string {
  return path.join(root, `c${n++}`);
}

const NET: NetworkConfig = { inputs: 5, layers: [{ neuron: 'sqs', size: 3 }, { neuron: 'sqs', size: 2 }] };

function sampleTensors(): Record<string, tf.Tensor> {
  return {
    a: tf.tensor2d([[1.5, -2], [3.25, 1e-7]]),
    'nested.name.b': tf.tensor3d(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3), [2, 3, 4]),
    c: tf.scalar(-0),
    d: tf.tensor1d([NaN, Infinity, -Infinity, 3.4028234663852886e38]),
  };
}

function expectCheckpointError(fn: () => unknown, ...parts: (string | RegExp)[]): CheckpointError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CheckpointError);
  for (const p of parts) expect((err as Error).message).toMatch(typeof p === 'string' ? new RegExp(escape(p)) : p);
  return err as CheckpointError;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A checkpoint with known content in a new directory; returns the directory and the tensors' data. */
function writeKnown(tag = 'e1', state: Record<string, unknown> = { epoch: 1, note: 'first' }) {
  const dir = freshDir();
  const t = sampleTensors();
  saveCheckpoint(dir, t, state, tag);
  const data = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.from(v.dataSync())]));
  tf.dispose(Object.values(t));
  return { dir, data, state };
}

const weightsPath = weightsFileOf;

describe('save and load', () => {
  test('round trip: every tensor bitwise (incl. −0, NaN, ±∞), shapes, and the JSON state', () => {
    const { dir, data, state } = writeKnown('e1', { epoch: 1, config: { nested: [1, 'x', null] }, rng: 'abc' });
    expect(hasCheckpoint(dir)).toBe(true);
    const ck = loadCheckpoint(dir);
    expect(ck.meta.state).toEqual(state);
    expect(ck.meta.format).toBe('sqsnn-checkpoint');
    expect(Object.keys(ck.tensors).sort()).toEqual(Object.keys(data).sort());
    expect(ck.tensors.a.shape).toEqual([2, 2]);
    expect(ck.tensors['nested.name.b'].shape).toEqual([2, 3, 4]);
    expect(ck.tensors.c.shape).toEqual([]);
    for (const [k, v] of Object.entries(data)) {
      // Compare bit patterns (NaN ≠ NaN, −0 = 0 otherwise).
      expect(Array.from(new Uint32Array(ck.tensors[k].data.buffer))).toEqual(Array.from(new Uint32Array(Float32Array.from(v).buffer)));
    }
    expect(checkpointListing(dir)).toEqual([CHECKPOINT_FILE, 'weights-*.bin']);
  });

  test('a newer save replaces the pointer and removes the old weights file; no temporary files remain', () => {
    const { dir } = writeKnown('e1');
    const t = { a: tf.tensor1d([7, 8, 9]) };
    saveCheckpoint(dir, t, { epoch: 2 }, 'e2');
    tf.dispose(Object.values(t));
    expect(checkpointListing(dir)).toEqual([CHECKPOINT_FILE, 'weights-*.bin']);
    const ck = loadCheckpoint(dir);
    expect(ck.meta.state).toEqual({ epoch: 2 });
    expect(Array.from(ck.tensors.a.data)).toEqual([7, 8, 9]);
    expect(ck.tensors['nested.name.b']).toBeUndefined();
  });

  test('restoring network and Adam state into a fresh model reproduces the weights and the forward pass', () => {
    const dir = freshDir();
    const a = new Network(NET, 1);
    const optA = new Optimizer(a.namedVariables(), { kind: 'adam', lr: 0.01 });
    const g = tf.tidy(() => Object.fromEntries(Object.entries(a.namedVariables()).map(([k, v]) => [k, tf.randomNormal(v.shape, 0, 1, 'float32', 3)])));
    optA.apply(g);
    tf.dispose(Object.values(g));
    saveCheckpoint(dir, { ...a.namedVariables(), ...optA.stateTensors() }, { epoch: 1 }, 'e1');

    const b = new Network(NET, 2); // different init
    const optB = new Optimizer(b.namedVariables(), { kind: 'adam', lr: 0.01 });
    restoreVariables(loadCheckpoint(dir), { ...b.namedVariables(), ...optB.stateTensors() }, dir);
    const all = (net: Network, opt: Optimizer) => Object.fromEntries(Object.entries({ ...net.namedVariables(), ...opt.stateTensors() }).map(([k, v]) => [k, Array.from(v.dataSync())]));
    expect(all(b, optB)).toEqual(all(a, optA));

    const x = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([3, 5, 4], 0, 1, 'float32', 9), 0.5), 'float32'));
    const run = (net: Network) => tf.tidy(() => {
      const r = net.forward(x, { ctx: { rng: new Rng('same'), train: false, surrogate: 'straight-through' } });
      return [Array.from(r.counts.dataSync()), Array.from(r.probSum.dataSync())];
    });
    expect(run(b)).toEqual(run(a));
    x.dispose();
    [optA, optB].forEach((o) => o.dispose());
    [a, b].forEach((m) => m.dispose());
  });

  test('networkFromCheckpoint rebuilds the network from the saved config and weights', () => {
    const dir = freshDir();
    const a = new Network(NET, 4);
    saveCheckpoint(dir, a.namedVariables(), { config: { network: NET, seed: 99 }, epoch: 3 }, 'e3');
    const { net, epoch, config } = networkFromCheckpoint(dir);
    expect(epoch).toBe(3);
    expect(config.network).toEqual(NET);
    for (const [k, v] of Object.entries(a.namedVariables())) expect(Array.from(net.namedVariables()[k].dataSync())).toEqual(Array.from(v.dataSync()));
    net.dispose();
    a.dispose();
  });
});

describe('corrupt, missing or mismatched checkpoints: CheckpointError naming the file and the problem', () => {
  test('no checkpoint in the directory', () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    expect(hasCheckpoint(dir)).toBe(false);
    expectCheckpointError(() => loadCheckpoint(dir), dir, CHECKPOINT_FILE, 'missing');
  });

  test('a flipped byte in the weights file fails the sha256 check', () => {
    const { dir } = writeKnown();
    const w = weightsPath(dir);
    const buf = fs.readFileSync(w);
    buf[5] ^= 0x10;
    fs.writeFileSync(w, buf);
    expectCheckpointError(() => loadCheckpoint(dir), w, /corrupt/, /checksum/);
  });

  test('a truncated weights file', () => {
    const { dir } = writeKnown();
    const w = weightsPath(dir);
    fs.truncateSync(w, 10);
    expectCheckpointError(() => loadCheckpoint(dir), w, /corrupt/);
  });

  test('a missing weights file', () => {
    const { dir } = writeKnown();
    const w = weightsPath(dir);
    fs.rmSync(w);
    expectCheckpointError(() => loadCheckpoint(dir), w, /missing/);
  });

  test('checkpoint.json that is not JSON (e.g. truncated)', () => {
    const { dir } = writeKnown();
    const f = path.join(dir, CHECKPOINT_FILE);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').slice(0, 40));
    expectCheckpointError(() => loadCheckpoint(dir), f, /corrupt/);
  });

  test('checkpoint.json of another format or version', () => {
    const { dir } = writeKnown();
    const f = path.join(dir, CHECKPOINT_FILE);
    const meta = JSON.parse(fs.readFileSync(f, 'utf8'));
    fs.writeFileSync(f, JSON.stringify({ ...meta, version: 99 }));
    expectCheckpointError(() => loadCheckpoint(dir), f, /version/);
    fs.writeFileSync(f, JSON.stringify({ ...meta, format: 'something-else' }));
    expectCheckpointError(() => loadCheckpoint(dir), f, /not an sqsnn checkpoint/);
  });

  test('a tensor index that does not fit the weights file names the tensor', () => {
    const { dir } = writeKnown();
    const f = path.join(dir, CHECKPOINT_FILE);
    const meta = JSON.parse(fs.readFileSync(f, 'utf8'));
    meta.tensors[1].offset += 4096;
    fs.writeFileSync(f, JSON.stringify(meta));
    expectCheckpointError(() => loadCheckpoint(dir), f, `tensor ${meta.tensors[1].name}`);
    meta.tensors[1].offset -= 4096;
    meta.tensors[1].shape = [5, 5];
    fs.writeFileSync(f, JSON.stringify(meta));
    expectCheckpointError(() => loadCheckpoint(dir), f, `tensor ${meta.tensors[1].name}`);
  });

  test('restoring into a different network names the missing tensor, or the tensor and both shapes', () => {
    const dir = freshDir();
    const a = new Network(NET, 1);
    saveCheckpoint(dir, a.namedVariables(), {}, 'e1');
    const ck = loadCheckpoint(dir);
    const wider = new Network({ ...NET, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 2 }] }, 1);
    expectCheckpointError(() => restoreVariables(ck, wider.namedVariables(), dir), dir, "'synapse.-1.0.weight'", '[1,3,5]', '[1,4,5]');
    const deeper = new Network({ ...NET, layers: [{ neuron: 'sqs', size: 3 }, { neuron: 'sqs', size: 2 }, { neuron: 'sqs', size: 2 }] }, 1);
    expectCheckpointError(() => restoreVariables(ck, deeper.namedVariables(), dir), dir, /has no tensor 'synapse\.1\.2\.weight'/);
    const opt = new Optimizer(a.namedVariables(), { kind: 'adam', lr: 0.1 });
    expectCheckpointError(() => restoreVariables(ck, { ...a.namedVariables(), ...opt.stateTensors() }, dir), /no tensor 'adam\.m\./);
    opt.dispose();
    [a, wider, deeper].forEach((m) => m.dispose());
  });

  test('a checkpoint without a network config cannot rebuild a network', () => {
    const { dir } = writeKnown('e1', { epoch: 1 });
    expectCheckpointError(() => networkFromCheckpoint(dir), dir, /no network config/);
  });
});

describe('atomic saves: a failure at any point leaves the previous checkpoint whole', () => {

  function failRenameTo(match: RegExp): void {
    jest.spyOn(fsMod, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
      if (match.test(path.basename(String(to)))) throw Object.assign(new Error(`EIO: simulated failure renaming to ${to}`), { code: 'EIO' });
      return realRename(from, to);
    });
  }

  const failures: [string, () => void][] = [
    ['the checkpoint.json rename fails', () => failRenameTo(/^checkpoint\.json$/)],
    ['the weights rename fails', () => failRenameTo(/^weights-.*\.bin$/)],
    [
      'the disk fills up while writing',
      () =>
        jest.spyOn(fsMod, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
          throw Object.assign(new Error('ENOSPC: simulated no space left on device'), { code: 'ENOSPC', fd, data, rest });
        }) as never),
    ],
  ];

  for (const [label, inject] of failures) {
    test(`${label}: the save throws and the previous checkpoint loads unchanged; the next save succeeds`, () => {
      const { dir, data, state } = writeKnown('e1');
      const before = snapshot(dir);
      inject();
      const t = { a: tf.tensor1d([42]) };
      // A one-line user error naming the file (the CLI prints it and exits 2).
      expect(() => saveCheckpoint(dir, t, { epoch: 2 }, 'e2')).toThrow(/^cannot write .*(checkpoint\.json|weights-e2-\w+\.bin): (input\/output error \(EIO\)|no space left on the device \(ENOSPC\))$/);
      jest.restoreAllMocks();
      const after = snapshot(dir);
      // Every file of the previous checkpoint is still there, byte for byte.
      for (const [f, h] of Object.entries(before)) expect(after[f]).toBe(h);
      const ck = loadCheckpoint(dir);
      expect(ck.meta.state).toEqual(state);
      for (const [k, v] of Object.entries(data)) expect(Array.from(ck.tensors[k].data)).toEqual(Array.from(Float32Array.from(v)));
      // The run can carry on: the next save works and cleans up.
      saveCheckpoint(dir, t, { epoch: 2 }, 'e2');
      expect(loadCheckpoint(dir).meta.state).toEqual({ epoch: 2 });
      expect(checkpointListing(dir)).toEqual([CHECKPOINT_FILE, 'weights-*.bin']);
      tf.dispose(Object.values(t));
    });
  }

  test('the writes go to temporary files renamed into place (weights first, then checkpoint.json)', () => {
    const { dir } = writeKnown('e1');
    const renames: [string, string][] = [];
    jest.spyOn(fsMod, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
      renames.push([path.basename(String(from)), path.basename(String(to))]);
      return realRename(from, to);
    });
    const t = { a: tf.tensor1d([1]) };
    saveCheckpoint(dir, t, {}, 'e2');
    tf.dispose(Object.values(t));
    expect(renames).toHaveLength(2);
    expect(renames[0][1]).toMatch(/^weights-.*\.bin$/);
    expect(renames[1][1]).toBe(CHECKPOINT_FILE);
    for (const [from, to] of renames) expect(from).not.toBe(to);
  });
});

// ---------------------------------------------------------------------------------------------
// BUGS (deliberately failing until fixed).
describe('regression (was a bug): checkpoint.json that parses but is not an object with the expected fields', () => {
  // loadCheckpoint only catches JSON.parse errors and then reads meta.format, meta.weightsFile and
  // meta.tensors unchecked: `null` gives a TypeError ("Cannot read properties of null"), a missing
  // weightsFile a Node ERR_INVALID_ARG_TYPE from path.join, a missing tensors list "not iterable".
  // These are not CheckpointErrors, so `sqsnn train --resume` / `sqsnn eval` crash with an internal
  // error and a stack trace instead of one line naming the file. Fix: after parsing, check that
  // meta is an object, weightsFile a plain file name (no path separators), sha256 a string and
  // tensors an array of {name, shape, offset, length}; otherwise throw CheckpointError(`${file} is corrupt: …`).
  const cases: [string, unknown][] = [
    ['null', null],
    ['right format and version, no weightsFile/tensors', { format: 'sqsnn-checkpoint', version: 1 }],
    ['tensors not a list (weights file and checksum valid)', { format: 'sqsnn-checkpoint', version: 1, tensors: 5 }],
  ];
  for (const [label, meta] of cases) {
    test(`${label} → CheckpointError naming checkpoint.json`, () => {
      const { dir } = writeKnown();
      const f = path.join(dir, CHECKPOINT_FILE);
      const m = JSON.parse(fs.readFileSync(f, 'utf8'));
      const content = meta && typeof meta === 'object' && (meta as { tensors?: unknown }).tensors === 5 ? { ...(meta as object), weightsFile: m.weightsFile, sha256: m.sha256 } : meta;
      fs.writeFileSync(f, JSON.stringify(content));
      expectCheckpointError(() => loadCheckpoint(dir), f);
    });
  }
});

describe('regression (was a bug): re-saving under the tag of the current checkpoint is not atomic', () => {
  // saveCheckpoint renames the new weights over `weights-<tag>.bin` before replacing
  // checkpoint.json. When <tag> is the tag the current checkpoint.json points to, a failure
  // between the two renames leaves the old checkpoint.json pointing at the new weights: its sha256
  // no longer matches and the previous checkpoint is lost ("a crash at any moment leaves the
  // previous checkpoint whole" does not hold). trainRun never repeats a tag today, but the API
  // allows it. Fix: give every save a unique weights file name (e.g. `weights-<tag>-<sha256 prefix>.bin`),
  // or refuse a tag equal to the current weightsFile.
  test('a failed re-save of tag e1 leaves the e1 checkpoint loadable', () => {
    const { dir, data } = writeKnown('e1');
    jest.spyOn(fsMod, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
      if (path.basename(String(to)) === CHECKPOINT_FILE) throw new Error('EIO: simulated');
      return realRename(from, to);
    });
    const t = { a: tf.tensor1d([1, 2, 3, 4]) };
    expect(() => saveCheckpoint(dir, t, { epoch: 1 }, 'e1')).toThrow(/simulated/);
    jest.restoreAllMocks();
    tf.dispose(Object.values(t));
    const ck = loadCheckpoint(dir);
    expect(Array.from(ck.tensors.a.data)).toEqual(Array.from(Float32Array.from(data.a)));
  });
});
