/**
 * IDX files (the MNIST family's format), raw or gzip-compressed.
 *
 * Layout: two zero bytes, a type byte, a byte with the number of dimensions `d`, then `d`
 * big-endian uint32 sizes, then the data in row-major order, big-endian:
 *
 * | type | data    |
 * |------|---------|
 * | 0x08 | uint8   |
 * | 0x09 | int8    |
 * | 0x0B | int16   |
 * | 0x0C | int32   |
 * | 0x0D | float32 |
 * | 0x0E | float64 |
 *
 * A file starting with the gzip magic 1f 8b is decompressed first, whatever its name.
 * Every problem is reported as a {@link DataError} whose message names the file and the problem.
 */
import { SqsnnError } from '../../kernels/errors';
import * as fs from 'fs';
import * as zlib from 'zlib';

/** A missing, corrupt or inconsistent data file or an unknown dataset (the CLI prints just the message). */
export class DataError extends SqsnnError {}

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  /** Sizes, outermost first (e.g. [n, rows, cols] for images). */
  dims: number[];
  data: IdxData;
}

const TYPE_CODES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Reads a whole file, gunzipping it if it starts with the gzip magic. */
export function readMaybeGzip(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${file}: file not found`);
    if (code === 'EISDIR') throw new DataError(`${file}: is a directory, expected a file`);
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (!isGzip(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const out = zlib.gunzipSync(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new DataError(`${file}: corrupt gzip data (${(e as Error).message})`);
  }
}

/** Parses IDX bytes; `source` names the file in error messages. */
export function parseIdx(buf: Uint8Array, source: string): IdxArray {
  if (buf.length < 4) {
    throw new DataError(`${source}: truncated IDX file: ${buf.length} bytes, shorter than the 4-byte magic number`);
  }
  const magic = Array.from(buf.subarray(0, 4), hex).join(' ');
  const type = TYPE_CODES[buf[2]];
  if (buf[0] !== 0 || buf[1] !== 0 || !type || buf[3] === 0) {
    throw new DataError(
      `${source}: wrong magic number ${magic}: not an IDX file (expected 00 00 <type 08/09/0b/0c/0d/0e> <ndims ≥ 1>)`,
    );
  }
  const nd = buf[3];
  const headerBytes = 4 + 4 * nd;
  if (buf.length < headerBytes) {
    throw new DataError(
      `${source}: truncated IDX header: expected ${headerBytes} bytes for ${nd} dimensions, got ${buf.length}`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = count * type.bytes;
  const got = buf.length - headerBytes;
  if (got < dataBytes) {
    throw new DataError(
      `${source}: truncated IDX file: dims [${dims.join(', ')}] of ${type.dtype} need ${dataBytes} data bytes ` +
        `(${headerBytes + dataBytes} in all), got ${got} (${buf.length} in all)`,
    );
  }
  if (got > dataBytes) {
    throw new DataError(
      `${source}: corrupt IDX file: ${got - dataBytes} unexpected bytes after the ${dataBytes} data bytes ` +
        `of dims [${dims.join(', ')}]`,
    );
  }
  let data: IdxData;
  const off = headerBytes;
  switch (type.dtype) {
    case 'uint8':
      data = buf.slice(off, off + count);
      break;
    case 'int8':
      data = new Int8Array(buf.slice(off, off + count).buffer);
      break;
    case 'int16': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(off + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(off + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(off + 4 * i, false);
      data = a;
      break;
    }
    case 'float64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(off + 8 * i, false);
      data = a;
      break;
    }
  }
  return { dtype: type.dtype, dims, data };
}

/** Reads an IDX file, raw or gzip (detected by content, not by name). */
export function readIdx(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/** Encodes an array as IDX bytes (for tests and for exporting data); `gzip` compresses them. */
export function encodeIdx(dims: number[], data: ArrayLike<number>, dtype: IdxDtype = 'uint8', gzip = false): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeIdx: ${data.length} values for dims [${dims.join(', ')}]`);
  const code = Number(Object.keys(TYPE_CODES).find((k) => TYPE_CODES[Number(k)].dtype === dtype));
  const bytes = TYPE_CODES[code].bytes;
  const header = 4 + 4 * dims.length;
  const buf = Buffer.alloc(header + count * bytes);
  buf[2] = code;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 0; i < count; i++) {
    const o = header + i * bytes;
    const v = data[i];
    switch (dtype) {
      case 'uint8': buf.writeUInt8(v, o); break;
      case 'int8': buf.writeInt8(v, o); break;
      case 'int16': buf.writeInt16BE(v, o); break;
      case 'int32': buf.writeInt32BE(v, o); break;
      case 'float32': buf.writeFloatBE(v, o); break;
      case 'float64': buf.writeDoubleBE(v, o); break;
    }
  }
  return gzip ? zlib.gzipSync(buf) : buf;
}

/** An images file and a labels file read together and checked against each other. */
export interface IdxImageSet {
  /** Row-major [n, height*width]; uint8 pixels divided by 255, other types as stored. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
}

/** Like {@link IdxImageSet}, with the pixels as stored and the factor that maps them to [0, 1]. */
export interface RawIdxImageSet {
  pixels: IdxData;
  scale: number;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
}

/**
 * Reads an images file ([n, rows, cols]) and a labels file ([n]) and checks that they agree:
 * same count, labels non-negative integers (and below `maxClasses` when given). Pixels are kept
 * as stored, with `scale` = 1/255 for uint8 and 1 otherwise.
 */
export function readIdxImageSetRaw(imagesFile: string, labelsFile: string, maxClasses?: number): RawIdxImageSet {
  const im = readIdx(imagesFile);
  if (im.dims.length !== 3) {
    throw new DataError(
      `${imagesFile}: expected an images file with 3 dimensions [n, rows, cols], got [${im.dims.join(', ')}]`,
    );
  }
  const lb = readIdx(labelsFile);
  if (lb.dims.length !== 1) {
    throw new DataError(`${labelsFile}: expected a labels file with 1 dimension [n], got [${lb.dims.join(', ')}]`);
  }
  const [n, height, width] = im.dims;
  if (lb.dims[0] !== n) {
    throw new DataError(`${labelsFile}: label count ${lb.dims[0]} ≠ image count ${n} of ${imagesFile}`);
  }
  if (lb.dtype === 'float32' || lb.dtype === 'float64') {
    throw new DataError(`${labelsFile}: labels must be integers, the file stores ${lb.dtype}`);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lb.data[i];
    if (v < 0 || (maxClasses !== undefined && v >= maxClasses)) {
      const range = maxClasses !== undefined ? `0..${maxClasses - 1}, the classes of the training set` : '≥ 0';
      throw new DataError(`${labelsFile}: label ${v} at index ${i} is out of range (expected ${range})`);
    }
    labels[i] = v;
  }
  return { pixels: im.data, scale: im.dtype === 'uint8' ? 1 / 255 : 1, labels, n, height, width };
}

/** {@link readIdxImageSetRaw} with the pixels converted to Float32 in [0, 1] (for uint8 files). */
export function readIdxImageSet(imagesFile: string, labelsFile: string, maxClasses?: number): IdxImageSet {
  const r = readIdxImageSetRaw(imagesFile, labelsFile, maxClasses);
  const images = new Float32Array(r.pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = r.pixels[i] * r.scale;
  return { images, labels: r.labels, n: r.n, height: r.height, width: r.width };
}
