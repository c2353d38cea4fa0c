/**
 * Atomic checkpoints: DIR/checkpoint.json (config, training state, tensor index, checksum) and a
 * weights file named per epoch. The weights are written and renamed into place first, then the
 * JSON pointer is replaced by rename, so a crash at any moment leaves the previous checkpoint whole.
 */
import { SqsnnError } from '../kernels/errors';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../kernels/tf';
import { writeFileAtomic } from './run-folder';

export class CheckpointError extends SqsnnError {}

export const CHECKPOINT_FILE = 'checkpoint.json';
const FORMAT = 'sqsnn-checkpoint';
const VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export interface CheckpointMeta {
  format: string;
  version: number;
  weightsFile: string;
  sha256: string;
  tensors: TensorEntry[];
  /** Everything else a run needs to resume: network config, training options, epoch, rng, … */
  state: Record<string, unknown>;
}

/** Save named tensors plus JSON state into `dir` atomically. */
export function saveCheckpoint(dir: string, tensors: Record<string, tf.Tensor>, state: Record<string, unknown>, tag: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const entries: TensorEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = t.dataSync() as Float32Array;
    const buf = Buffer.from(new Float32Array(data).buffer);
    entries.push({ name, shape: t.shape as number[], offset, length: data.length });
    chunks.push(buf);
    offset += buf.length;
  }
  const weights = Buffer.concat(chunks);
  const sha256 = crypto.createHash('sha256').update(weights).digest('hex');
  // Named by content too, so re-saving a tag never rewrites the file the current pointer names.
  const weightsFile = `weights-${tag}-${sha256.slice(0, 12)}.bin`;
  writeFileAtomic(path.join(dir, weightsFile), weights);
  const meta: CheckpointMeta = {
    format: FORMAT,
    version: VERSION,
    weightsFile,
    sha256,
    tensors: entries,
    state,
  };
  try {
    writeFileAtomic(path.join(dir, CHECKPOINT_FILE), JSON.stringify(meta, null, 1));
  } catch (e) {
    // The pointer still names the previous weights: the new file would be an orphan.
    fs.rmSync(path.join(dir, weightsFile), { force: true });
    throw e;
  }
  // Only now is the old weights file unreferenced.
  for (const f of fs.readdirSync(dir))
    if (/^weights-.*\.bin$/.test(f) && f !== weightsFile) fs.rmSync(path.join(dir, f), { force: true });
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CHECKPOINT_FILE));
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** Float32 data by tensor name. */
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

/** Read and verify a checkpoint (format, checksum, tensor bounds). */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) throw new CheckpointError(`no checkpoint in ${dir} (${CHECKPOINT_FILE} is missing)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${file} is corrupt: ${(e as Error).message}`);
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta))
    throw new CheckpointError(`${file} is corrupt: not a JSON object`);
  if (meta.format !== FORMAT || meta.version !== VERSION)
    throw new CheckpointError(`${file} is not an sqsnn checkpoint of version ${VERSION} (format ${meta.format}, version ${meta.version})`);
  if (typeof meta.weightsFile !== 'string' || !/^weights-[\w.-]+\.bin$/.test(meta.weightsFile) || typeof meta.sha256 !== 'string' || !Array.isArray(meta.tensors) || !meta.state || typeof meta.state !== 'object')
    throw new CheckpointError(`${file} is corrupt: weightsFile, sha256, tensors or state is missing or malformed`);
  for (const e of meta.tensors)
    if (!e || typeof e.name !== 'string' || !Array.isArray(e.shape) || !Number.isInteger(e.offset) || !Number.isInteger(e.length))
      throw new CheckpointError(`${file} is corrupt: a tensor entry is malformed (${JSON.stringify(e).slice(0, 80)})`);
  const wfile = path.join(dir, meta.weightsFile);
  if (!fs.existsSync(wfile)) throw new CheckpointError(`${wfile} named by ${file} is missing`);
  const buf = fs.readFileSync(wfile);
  const sum = crypto.createHash('sha256').update(buf).digest('hex');
  if (sum !== meta.sha256) throw new CheckpointError(`${wfile} is corrupt: checksum ${sum.slice(0, 12)}… does not match ${meta.sha256.slice(0, 12)}…`);
  const tensors: LoadedCheckpoint['tensors'] = {};
  for (const e of meta.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n !== e.length || e.offset + 4 * e.length > buf.length)
      throw new CheckpointError(`${file}: tensor ${e.name} [${e.shape}] does not fit the weights file`);
    const data = new Float32Array(e.length);
    Buffer.from(data.buffer).set(buf.subarray(e.offset, e.offset + 4 * e.length));
    tensors[e.name] = { shape: e.shape, data };
  }
  return { meta, tensors };
}

/**
 * Assign checkpoint tensors to variables by name (`prefix` + name, e.g. the averaged parameters);
 * every variable must be present with its shape.
 */
export function restoreVariables(ck: LoadedCheckpoint, vars: Record<string, tf.Variable>, dir: string, prefix = ''): void {
  for (const [varName, v] of Object.entries(vars)) {
    const name = prefix + varName;
    const t = ck.tensors[name];
    if (!t) throw new CheckpointError(`checkpoint in ${dir} has no tensor '${name}': it does not match this network`);
    if (t.shape.join(',') !== v.shape.join(','))
      throw new CheckpointError(`checkpoint in ${dir}: '${name}' has shape [${t.shape}] but the network needs [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
  }
}
