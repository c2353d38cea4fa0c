/** Rate coding, saccade events, event binning, N-MNIST and AEDAT readers, batching. */
import * as fs from 'fs';
import * as path from 'path';
import { setupBackend, tf } from './helpers';
import { Rng } from '../src/random';
import {
  DataError, rateEncode, imageToEvents, binEvents, eventsToTensor, imagesToEventTensor, readNMnistBin,
  encodeNMnistBin, loadNMnist, readAedat, epochOrder, epochOrderFor, batches, gatherImages, gatherLabels,
  Events,
} from '../src/data';
import { makeTmpDir, removeDir, nmnistBytes, aedat2Bytes, TestEvent } from './data-helpers';

let dir: string;
beforeAll(async () => {
  await setupBackend();
  dir = makeTmpDir('events');
});
afterAll(() => removeDir(dir));

describe('Bernoulli rate coding', () => {
  test('shape [T, P, B], binary values, batch last, zero pixels never spike', () => {
    const B = 3;
    const P = 5;
    const T = 7;
    // Row b: pixel j = (j / 4) except that batch 2 is all zeros.
    const img = new Float32Array(B * P);
    for (let b = 0; b < 2; b++) for (let j = 0; j < P; j++) img[b * P + j] = j / 4;
    const s = rateEncode(img, B, P, T, 1, new Rng(1));
    expect(s.shape).toEqual([T, P, B]);
    expect(s.dtype).toBe('float32');
    const v = s.dataSync();
    for (const x of v) expect(x === 0 || x === 1).toBe(true);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < P; j++) {
        expect(v[(t * P + j) * B + 2]).toBe(0); // blank image
        if (j === 0) expect(v[(t * P + 0) * B + 0]).toBe(0); // pixel value 0
        if (j === 4) expect(v[(t * P + 4) * B + 1]).toBe(1); // pixel value 1 with p_max 1
      }
    }
    s.dispose();
  });

  test('spike rate ≈ min(pixel, p_max) within a binomial bound; no tensors leak', () => {
    const pix = [0, 0.1, 0.3, 0.5, 0.8, 1];
    const pMax = 0.5;
    const B = 2;
    const P = pix.length;
    const img = new Float32Array(B * P);
    for (let b = 0; b < B; b++) pix.forEach((p, j) => (img[b * P + j] = p));
    const T = 4000;
    const before = tf.memory().numTensors;
    const s = rateEncode(img, B, P, T, pMax, new Rng('rate'));
    expect(tf.memory().numTensors).toBe(before + 1);
    const mean = tf.tidy(() => s.mean(0).dataSync()); // [P, B]
    s.dispose();
    pix.forEach((p, j) => {
      const q = Math.min(p, pMax);
      const bound = 5 * Math.sqrt((q * (1 - q)) / T) + 1e-9;
      for (let b = 0; b < B; b++) expect(Math.abs(mean[j * B + b] - q)).toBeLessThanOrEqual(bound);
    });
  });

  test('same seed, same spikes; different seed, different spikes', () => {
    const img = Float32Array.from({ length: 4 * 30 }, (_, i) => (i % 7) / 7);
    const a = rateEncode(img, 4, 30, 5, 0.5, new Rng(42)).dataSync();
    const b = rateEncode(img, 4, 30, 5, 0.5, new Rng(42)).dataSync();
    const c = rateEncode(img, 4, 30, 5, 0.5, new Rng(43)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // Successive draws from one Rng differ.
    const r = new Rng(42);
    const d1 = rateEncode(img, 4, 30, 5, 0.5, r).dataSync();
    const d2 = rateEncode(img, 4, 30, 5, 0.5, r).dataSync();
    expect(Array.from(d1)).not.toEqual(Array.from(d2));
  });

  test('bad arguments are DataErrors', () => {
    expect(() => rateEncode(new Float32Array(5), 2, 3, 4, 0.5, new Rng(1))).toThrow(DataError);
    expect(() => rateEncode(new Float32Array(6), 2, 3, 4, 0, new Rng(1))).toThrow(DataError);
  });
});

/** A 12×12 image with a bright 4×4 square in the middle. */
function squareImage(): Float32Array {
  const img = new Float32Array(144);
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) img[y * 12 + x] = 1;
  return img;
}

describe('saccade event conversion and binning', () => {
  test('a blank (or uniform) image gives no events', () => {
    expect(imageToEvents(new Float32Array(144), 12, 12, {}, new Rng(1)).x.length).toBe(0);
    const grey = new Float32Array(144).fill(0.5);
    // Uniform inside; the frame border is dark, so only motion at the borders could create events,
    // but the image fills the frame and the border is outside: count them and check where they are.
    const ev = imageToEvents(grey, 12, 12, {}, new Rng(1));
    for (let i = 0; i < ev.x.length; i++) {
      const edge = ev.x[i] <= 1 || ev.x[i] >= 10 || ev.y[i] <= 1 || ev.y[i] >= 10;
      expect(edge).toBe(true);
    }
  });

  test('events appear at edges, both polarities, sorted in time within the window', () => {
    const ev = imageToEvents(squareImage(), 12, 12, { durationUs: 300000 }, new Rng(5));
    const n = ev.x.length;
    expect(n).toBeGreaterThan(20);
    let on = 0;
    for (let i = 0; i < n; i++) {
      // Near the square's border (the square moves by at most ~2 px).
      const nearEdge = ev.x[i] >= 1 && ev.x[i] <= 10 && ev.y[i] >= 1 && ev.y[i] <= 10;
      expect(nearEdge).toBe(true);
      if (i > 0) expect(ev.t[i]).toBeGreaterThanOrEqual(ev.t[i - 1]);
      expect(ev.t[i]).toBeLessThan(300000);
      on += ev.p[i];
    }
    expect(on).toBeGreaterThan(0);
    expect(on).toBeLessThan(n);
    expect(ev.durationUs).toBe(300000);
    // Deterministic from the seed; without an rng, no threshold mismatch and still deterministic.
    const again = imageToEvents(squareImage(), 12, 12, { durationUs: 300000 }, new Rng(5));
    expect(Array.from(again.t)).toEqual(Array.from(ev.t));
    const plain1 = imageToEvents(squareImage(), 12, 12);
    const plain2 = imageToEvents(squareImage(), 12, 12);
    expect(Array.from(plain1.x)).toEqual(Array.from(plain2.x));
  });

  test('only pixels the moving edges pass over emit events (not deep inside or far outside)', () => {
    // 20×20 with a bright 10×10 square at 5..14; amplitude 2 moves it by at most 4/3 px.
    const img = new Float32Array(400);
    for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) img[y * 20 + x] = 1;
    const ev = imageToEvents(img, 20, 20, { amplitude: 2 }, new Rng(2));
    const hit = new Set<number>();
    for (let i = 0; i < ev.x.length; i++) hit.add(ev.y[i] * 20 + ev.x[i]);
    const dist = (x: number, y: number): number => {
      // Chebyshev distance from the pixel to the square's border line.
      const inside = x >= 5 && x < 15 && y >= 5 && y < 15;
      const dIn = Math.min(x - 5, 14 - x, y - 5, 14 - y);
      const dOut = Math.max(5 - x, x - 14, 5 - y, y - 14);
      return inside ? dIn : dOut;
    };
    for (const k of hit) expect(dist(k % 20, Math.floor(k / 20))).toBeLessThanOrEqual(2);
    // Every border pixel of the square fires at some point.
    for (let x = 5; x < 15; x++) expect(hit.has(5 * 20 + x) || hit.has(4 * 20 + x)).toBe(true);
  });

  test('binEvents: shape [T, 2hw], OFF channel first, binary, time bins', () => {
    const ev: Events = {
      x: Uint16Array.from([0, 0, 2, 1, 1]),
      y: Uint16Array.from([0, 0, 1, 1, 1]),
      t: Uint32Array.from([0, 10, 50, 99, 150]),
      p: Uint8Array.from([1, 1, 0, 1, 1]),
      durationUs: 100,
    };
    const h = 2;
    const w = 3;
    const T = 4;
    const f = binEvents(ev, h, w, T);
    expect(f.length).toBe(T * 2 * h * w);
    const at = (t: number, c: number, y: number, x: number): number => f[t * 12 + c * 6 + y * w + x];
    expect(at(0, 1, 0, 0)).toBe(1); // two ON events in bin 0 → clipped to 1
    expect(at(2, 0, 1, 2)).toBe(1); // OFF at t=50 → bin 2
    expect(at(3, 1, 1, 1)).toBe(1); // t=99 and t=150 (past the window) → last bin
    expect(Array.from(f).reduce((s, v) => s + v, 0)).toBe(3);
    for (const v of f) expect(v === 0 || v === 1).toBe(true);
    // Window defaults to the last timestamp + 1 without durationUs.
    const g = binEvents({ ...ev, durationUs: undefined }, h, w, 2);
    expect(g[0 * 12 + 6 + 0]).toBe(1); // t=0 → bin 0
    expect(g[1 * 12 + 6 + 4]).toBe(1); // t=99 → bin 1 of [0, 151)
  });

  test('batch tensors [T, 2hw, B] match per-stream binning', () => {
    const rng = new Rng(9);
    const img2 = squareImage().map((v, i) => (i % 12 < 6 ? v : 0));
    const streams = [imageToEvents(squareImage(), 12, 12, {}, rng), imageToEvents(img2, 12, 12, {}, rng)];
    const t = eventsToTensor(streams, 12, 12, 5);
    expect(t.shape).toEqual([5, 288, 2]);
    const v = t.dataSync();
    t.dispose();
    for (let b = 0; b < 2; b++) {
      const f = binEvents(streams[b], 12, 12, 5);
      for (let k = 0; k < f.length; k++) expect(v[k * 2 + b]).toBe(f[k]);
    }
    const imgs = new Float32Array(3 * 144);
    imgs.set(squareImage(), 0);
    imgs.set(img2, 288);
    const u = imagesToEventTensor(imgs, 3, 12, 12, 4, {}, new Rng(3));
    expect(u.shape).toEqual([4, 288, 3]);
    const uv = u.dataSync();
    u.dispose();
    let s1 = 0;
    for (let k = 0; k < 4 * 288; k++) s1 += uv[k * 3 + 1];
    expect(s1).toBe(0); // the blank middle image
    let s0 = 0;
    for (let k = 0; k < 4 * 288; k++) s0 += uv[k * 3];
    expect(s0).toBeGreaterThan(0);
  });
});

describe('N-MNIST binary format', () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, t: 0, p: 0 },
    { x: 33, y: 12, t: 1234, p: 1 },
    { x: 5, y: 33, t: 300000, p: 0 },
    { x: 17, y: 4, t: (1 << 23) - 1, p: 1 },
  ];

  test('round-trips events written by an independent encoder', () => {
    const f = path.join(dir, 'one.bin');
    fs.writeFileSync(f, nmnistBytes(events));
    const ev = readNMnistBin(f);
    expect(Array.from(ev.x)).toEqual(events.map((e) => e.x));
    expect(Array.from(ev.y)).toEqual(events.map((e) => e.y));
    expect(Array.from(ev.t)).toEqual(events.map((e) => e.t));
    expect(Array.from(ev.p)).toEqual(events.map((e) => e.p));
    expect(Buffer.from(encodeNMnistBin(ev)).equals(nmnistBytes(events))).toBe(true);
    expect(readNMnistBin(new Uint8Array(nmnistBytes(events))).t[1]).toBe(1234);
  });

  test('an overflow marker (y = 240) adds 2^13 µs to later events', () => {
    const ev = readNMnistBin(new Uint8Array(nmnistBytes([
      { x: 1, y: 1, t: 100, p: 1 },
      { x: 0, y: 240, t: 0, p: 0 },
      { x: 2, y: 2, t: 50, p: 0 },
    ])));
    expect(Array.from(ev.t)).toEqual([100, 50 + 8192]);
    expect(Array.from(ev.x)).toEqual([1, 2]);
  });

  test('corrupt length and missing files are DataErrors naming the file', () => {
    const f = path.join(dir, 'bad.bin');
    fs.writeFileSync(f, Buffer.concat([nmnistBytes(events), Buffer.from([1, 2])]));
    expect(() => readNMnistBin(f)).toThrow(DataError);
    expect(() => readNMnistBin(f)).toThrow(/bad\.bin.*22 bytes is not a multiple of 5/);
    expect(() => readNMnistBin(path.join(dir, 'absent.bin'))).toThrow(/absent\.bin: file not found/);
  });

  test('folder reader: Train/<digit>/*.bin and Test/<digit>/*.bin, class-interleaved, limits', () => {
    const root = path.join(dir, 'nmnist');
    const write = (split: string, digit: number, name: string, evs: TestEvent[]): void => {
      fs.mkdirSync(path.join(root, split, String(digit)), { recursive: true });
      fs.writeFileSync(path.join(root, split, String(digit), name), nmnistBytes(evs));
    };
    for (const d of [0, 1, 2]) {
      for (let k = 0; k < 3; k++) write('Train', d, `0000${k}.bin`, [{ x: d, y: k, t: 10 * k, p: 1 }]);
      write('Test', d, '00000.bin', [{ x: d, y: 9, t: 5, p: 0 }, { x: d + 1, y: 9, t: 6, p: 1 }]);
    }
    const ds = loadNMnist(root);
    expect([ds.nTrain, ds.nTest, ds.classes, ds.width, ds.height]).toEqual([9, 3, 3, 34, 34]);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(ds.train.events[4].x[0]).toBe(1); // second example of digit 1
    expect(ds.train.events[4].y[0]).toBe(1);
    expect(ds.test.events[2].x.length).toBe(2);
    const lim = loadNMnist(root, { limitTrain: 4, limitTest: 1 });
    expect([lim.nTrain, lim.nTest]).toEqual([4, 1]);
    const frames = eventsToTensor(ds.train.events.slice(0, 2), ds.height, ds.width, 3);
    expect(frames.shape).toEqual([3, 2 * 34 * 34, 2]);
    frames.dispose();
    // An event outside the sensor is reported with its file.
    write('Train', 2, '00009.bin', [{ x: 40, y: 1, t: 1, p: 1 }]);
    expect(() => loadNMnist(root)).toThrow(/00009\.bin.*outside the 34×34 sensor/);
    expect(() => loadNMnist(path.join(dir, 'no-nmnist'))).toThrow(DataError);
  });
});

describe('AEDAT (DVS128, MNIST-DVS)', () => {
  test('reads header and 8-byte events; relative timestamps', () => {
    const evs: TestEvent[] = [
      { x: 3, y: 100, t: 5000, p: 1 },
      { x: 127, y: 0, t: 5100, p: 0 },
    ];
    const f = path.join(dir, 'rec.aedat');
    fs.writeFileSync(f, aedat2Bytes(evs));
    const ev = readAedat(f);
    expect(Array.from(ev.x)).toEqual([3, 127]);
    expect(Array.from(ev.y)).toEqual([100, 0]);
    expect(Array.from(ev.p)).toEqual([1, 0]);
    expect(Array.from(ev.t)).toEqual([0, 100]);
    expect(Array.from(readAedat(f, { flipX: true }).x)).toEqual([124, 0]);
    fs.writeFileSync(f, Buffer.concat([aedat2Bytes(evs), Buffer.from([0, 1, 2])]));
    expect(() => readAedat(f)).toThrow(/rec\.aedat: corrupt AEDAT/);
  });
});

describe('deterministic shuffling and batching', () => {
  test('epoch orders are permutations, reproducible from the seed, different across epochs', () => {
    const a = epochOrder(100, new Rng(7));
    const b = epochOrder(100, new Rng(7));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const r = new Rng(7);
    const e0 = epochOrder(100, r);
    const e1 = epochOrder(100, r);
    expect(Array.from(e0)).toEqual(Array.from(a));
    expect(Array.from(e1)).not.toEqual(Array.from(e0));
    expect(Array.from(epochOrderFor(50, 1, 3))).toEqual(Array.from(epochOrderFor(50, 1, 3)));
    expect(Array.from(epochOrderFor(50, 1, 3))).not.toEqual(Array.from(epochOrderFor(50, 1, 4)));
  });

  test('batches, dropLast, gathering rows and labels', () => {
    const order = Int32Array.from([4, 2, 0, 3, 1]);
    expect(batches(order, 2).map((x) => Array.from(x))).toEqual([[4, 2], [0, 3], [1]]);
    expect(batches(order, 2, true).map((x) => Array.from(x))).toEqual([[4, 2], [0, 3]]);
    expect(batches(order, 5, true).length).toBe(1);
    expect(() => batches(order, 0)).toThrow(DataError);
    const images = Float32Array.from({ length: 5 * 3 }, (_, i) => i);
    expect(Array.from(gatherImages(images, 3, [4, 0]))).toEqual([12, 13, 14, 0, 1, 2]);
    expect(Array.from(gatherLabels([9, 8, 7, 6, 5], [4, 0]))).toEqual([5, 9]);
    expect(() => gatherImages(images, 3, [5])).toThrow(DataError);
  });
});
