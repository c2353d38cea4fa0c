/** Writers for the small data files the data tests read back (independent of src/data's encoders). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

export function makeTmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sqsnn-${label}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** IDX bytes of uint8 data with the given dims, built byte by byte. */
export function idxUbyte(dims: number[], values: ArrayLike<number>): Buffer {
  const header = [0, 0, 0x08, dims.length];
  for (const d of dims) header.push((d >>> 24) & 0xff, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff);
  return Buffer.concat([Buffer.from(header), Buffer.from(Array.from(values))]);
}

export interface TinySet {
  images: number[]; // uint8, [n, h, w]
  labels: number[];
  n: number;
  h: number;
  w: number;
}

/** n images of h×w whose pixel j of image i is (i*7 + j*3) mod 256, with labels i mod classes. */
export function tinySet(n: number, h: number, w: number, classes: number, offset = 0): TinySet {
  const images: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < h * w; j++) images.push(((i + offset) * 7 + j * 3) % 256);
  const labels = Array.from({ length: n }, (_, i) => (i + offset) % classes);
  return { images, labels, n, h, w };
}

/** Writes the four standard MNIST-format files of a train and a test set into dir. */
export function writeIdxFolder(dir: string, train: TinySet, test: TinySet, gzip = false, names?: Partial<Record<string, string>>): void {
  const files: Array<[string, Buffer]> = [
    ['train-images-idx3-ubyte', idxUbyte([train.n, train.h, train.w], train.images)],
    ['train-labels-idx1-ubyte', idxUbyte([train.n], train.labels)],
    ['t10k-images-idx3-ubyte', idxUbyte([test.n, test.h, test.w], test.images)],
    ['t10k-labels-idx1-ubyte', idxUbyte([test.n], test.labels)],
  ];
  for (const [name, buf] of files) {
    const out = names?.[name] ?? (gzip ? `${name}.gz` : name);
    fs.writeFileSync(path.join(dir, out), gzip ? zlib.gzipSync(buf) : buf);
  }
}

export interface TestEvent {
  x: number;
  y: number;
  t: number;
  p: number;
}

/** N-MNIST binary encoding: x, y, then polarity bit + 23-bit timestamp, big-endian. */
export function nmnistBytes(events: TestEvent[]): Buffer {
  const b = Buffer.alloc(events.length * 5);
  events.forEach((e, i) => {
    b[5 * i] = e.x;
    b[5 * i + 1] = e.y;
    b[5 * i + 2] = (e.p << 7) | ((e.t >> 16) & 0x7f);
    b[5 * i + 3] = (e.t >> 8) & 0xff;
    b[5 * i + 4] = e.t & 0xff;
  });
  return b;
}

/** AEDAT 2.0 file from a DVS128: '#' header lines then (address, timestamp) big-endian uint32 pairs. */
export function aedat2Bytes(events: TestEvent[]): Buffer {
  const header = Buffer.from('#!AER-DAT2.0\r\n# This is a raw AE data file\r\n# created by a test\r\n', 'latin1');
  const body = Buffer.alloc(events.length * 8);
  events.forEach((e, i) => {
    body.writeUInt32BE((e.y << 8) | (e.x << 1) | e.p, 8 * i);
    body.writeUInt32BE(e.t, 8 * i + 4);
  });
  return Buffer.concat([header, body]);
}
