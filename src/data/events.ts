/**
 * Event streams from neuromorphic (DVS/ATIS) sensors: the in-memory type, readers for the
 * N-MNIST binary format and its folder layout, and a reader for jAER AEDAT 1/2 files from a
 * DVS128 (the MNIST-DVS recordings).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from './idx';
import { classInterleavedOrder } from './datasets';

/** One stream of address events, sorted by time as recorded. */
export interface Events {
  x: Uint16Array;
  y: Uint16Array;
  /** Timestamps in microseconds. */
  t: Uint32Array;
  /** Polarity: 1 = ON (brighter), 0 = OFF (darker). */
  p: Uint8Array;
  /** Length of the recording in µs, when known (used as the default binning window). */
  durationUs?: number;
}

export function emptyEvents(durationUs?: number): Events {
  return { x: new Uint16Array(0), y: new Uint16Array(0), t: new Uint32Array(0), p: new Uint8Array(0), durationUs };
}

function readBytes(source: Uint8Array | string): { buf: Uint8Array; name: string } {
  if (typeof source !== 'string') return { buf: source, name: '<buffer>' };
  try {
    const b = fs.readFileSync(source);
    return { buf: new Uint8Array(b.buffer, b.byteOffset, b.byteLength), name: source };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`${source}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`}`);
  }
}

/**
 * Reads the N-MNIST / N-Caltech101 binary format: 5 bytes (40 bits) per event, byte 0 = x,
 * byte 1 = y, bit 7 of byte 2 = polarity (1 = ON), bits 6..0 of byte 2 then bytes 3 and 4 = a
 * 23-bit big-endian timestamp in µs. As in the dataset authors' reader, an entry with y = 240 is
 * a timestamp-overflow marker, not an event: it adds 2^13 µs to all later timestamps.
 */
export function readNMnistBin(source: Uint8Array | string): Events {
  const { buf, name } = readBytes(source);
  if (buf.length % 5 !== 0) {
    throw new DataError(
      `${name}: corrupt N-MNIST event file: ${buf.length} bytes is not a multiple of 5 (5 bytes per event)`,
    );
  }
  const n = buf.length / 5;
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Uint32Array(n);
  const p = new Uint8Array(n);
  let k = 0;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const o = 5 * i;
    if (buf[o + 1] === 240) {
      offset += 1 << 13;
      continue;
    }
    x[k] = buf[o];
    y[k] = buf[o + 1];
    p[k] = buf[o + 2] >> 7;
    t[k] = (((buf[o + 2] & 0x7f) << 16) | (buf[o + 3] << 8) | buf[o + 4]) + offset;
    k++;
  }
  return { x: x.slice(0, k), y: y.slice(0, k), t: t.slice(0, k), p: p.slice(0, k) };
}

/** Encodes events in the N-MNIST binary format (x, y < 256 and t < 2^23 µs). */
export function encodeNMnistBin(ev: Events): Uint8Array {
  const n = ev.x.length;
  const out = new Uint8Array(5 * n);
  for (let i = 0; i < n; i++) {
    if (ev.x[i] > 255 || ev.y[i] > 255 || ev.t[i] >= 1 << 23) {
      throw new DataError(`event ${i} (x=${ev.x[i]}, y=${ev.y[i]}, t=${ev.t[i]}) does not fit the N-MNIST format`);
    }
    const o = 5 * i;
    out[o] = ev.x[i];
    out[o + 1] = ev.y[i];
    out[o + 2] = ((ev.p[i] ? 1 : 0) << 7) | ((ev.t[i] >> 16) & 0x7f);
    out[o + 3] = (ev.t[i] >> 8) & 0xff;
    out[o + 4] = ev.t[i] & 0xff;
  }
  return out;
}

export interface EventSplit {
  events: Events[];
  labels: Int32Array;
  /** The file each stream came from. */
  files: string[];
}

export interface EventDataset {
  name: string;
  height: number;
  width: number;
  classes: number;
  train: EventSplit;
  test: EventSplit;
  nTrain: number;
  nTest: number;
  source: string;
}

export interface NMnistOptions {
  limitTrain?: number;
  limitTest?: number;
  /** Sensor size; N-MNIST's is 34×34. Events outside it are a DataError. */
  width?: number;
  height?: number;
}

function findSubdir(dir: string, names: string[]): string {
  for (const n of names) {
    const p = path.join(dir, n);
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) return p;
  }
  throw new DataError(`${path.join(dir, names[0])}: folder not found (N-MNIST layout: ${names[0]}/<digit>/*.bin)`);
}

function readEventSplit(dir: string, limit: number | undefined, width: number, height: number): EventSplit & { classes: number } {
  const classDirs = fs
    .readdirSync(dir)
    .filter((d) => /^\d+$/.test(d) && fs.statSync(path.join(dir, d)).isDirectory())
    .sort((a, b) => Number(a) - Number(b));
  if (classDirs.length === 0) throw new DataError(`${dir}: no class folders (expected ${dir}/<digit>/*.bin)`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const c of classDirs) {
    const names = fs.readdirSync(path.join(dir, c)).filter((f) => f.toLowerCase().endsWith('.bin')).sort();
    for (const f of names) {
      files.push(path.join(dir, c, f));
      labels.push(Number(c));
    }
  }
  const classes = Math.max(...labels) + 1;
  const order = classInterleavedOrder(labels, classes);
  const n = Math.min(order.length, limit ?? Infinity);
  const out: EventSplit = { events: [], labels: new Int32Array(n), files: [] };
  for (let k = 0; k < n; k++) {
    const file = files[order[k]];
    const ev = readNMnistBin(file);
    for (let i = 0; i < ev.x.length; i++) {
      if (ev.x[i] >= width || ev.y[i] >= height) {
        throw new DataError(
          `${file}: event ${i} at x=${ev.x[i]}, y=${ev.y[i]} lies outside the ${width}×${height} sensor`,
        );
      }
    }
    out.events.push(ev);
    out.labels[k] = labels[order[k]];
    out.files.push(file);
  }
  return { ...out, classes };
}

/**
 * Reads an N-MNIST folder: `Train/<digit>/*.bin` and `Test/<digit>/*.bin` (lower-case `train`,
 * `test` also accepted). Files are taken in the fixed class-interleaved order (name order within
 * a class) and the limits keep a prefix of it, so only the files needed are read.
 */
export function loadNMnist(dir: string, opts: NMnistOptions = {}): EventDataset {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataError(`${dir}: N-MNIST folder not found`);
  const width = opts.width ?? 34;
  const height = opts.height ?? 34;
  const train = readEventSplit(findSubdir(dir, ['Train', 'train']), opts.limitTrain, width, height);
  const test = readEventSplit(findSubdir(dir, ['Test', 'test']), opts.limitTest, width, height);
  return {
    name: `nmnist:${dir}`, height, width, classes: Math.max(train.classes, test.classes), source: dir,
    train: { events: train.events, labels: train.labels, files: train.files },
    test: { events: test.events, labels: test.labels, files: test.files },
    nTrain: train.labels.length, nTest: test.labels.length,
  };
}

export interface AedatOptions {
  /** Mirror x (x → 127 − x), as jAER displays DVS128 recordings. Default false (raw address). */
  flipX?: boolean;
}

/**
 * Reads a jAER AEDAT file from a DVS128 (e.g. MNIST-DVS): header lines starting with '#', then
 * big-endian events of 8 bytes (AEDAT 2.0: uint32 address, uint32 timestamp in µs) or, if the
 * header says `#!AER-DAT1.0`, 6 bytes (uint16 address, uint32 timestamp). DVS128 address bits:
 * x = bits 7..1, y = bits 14..8, polarity = bit 0 (as stored). Events with the special-event
 * bits (0x8000 or bit 31) set are skipped. Timestamps are made relative to the first event.
 */
export function readAedat(source: Uint8Array | string, opts: AedatOptions = {}): Events {
  const { buf, name } = readBytes(source);
  let pos = 0;
  let version = 2;
  while (pos < buf.length && buf[pos] === 0x23 /* '#' */) {
    let end = pos;
    while (end < buf.length && buf[end] !== 0x0a) end++;
    const line = new TextDecoder().decode(buf.subarray(pos, end)).trim();
    if (line.startsWith('#!AER-DAT')) version = Math.floor(parseFloat(line.slice(9)));
    pos = end + 1;
  }
  const size = version === 1 ? 6 : 8;
  const body = buf.length - Math.min(pos, buf.length);
  if (body % size !== 0) {
    throw new DataError(
      `${name}: corrupt AEDAT ${version}.0 file: ${body} data bytes is not a multiple of ${size} (bytes per event)`,
    );
  }
  const n = body / size;
  const view = new DataView(buf.buffer, buf.byteOffset + pos, body);
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Uint32Array(n);
  const p = new Uint8Array(n);
  let k = 0;
  let t0 = -1;
  for (let i = 0; i < n; i++) {
    const addr = version === 1 ? view.getUint16(i * size, false) : view.getUint32(i * size, false);
    const ts = view.getUint32(i * size + (version === 1 ? 2 : 4), false);
    if (addr & 0x8000 || (version !== 1 && addr & 0x80000000)) continue;
    if (t0 < 0) t0 = ts;
    const xr = (addr >> 1) & 0x7f;
    x[k] = opts.flipX ? 127 - xr : xr;
    y[k] = (addr >> 8) & 0x7f;
    p[k] = addr & 1;
    t[k] = ts - t0;
    k++;
  }
  return { x: x.slice(0, k), y: y.slice(0, k), t: t.slice(0, k), p: p.slice(0, k) };
}
