/**
 * Input spike trains in the engine's layout, [T, features, batch] (batch last):
 * - Bernoulli rate coding of static images with probability min(pixel, p_max) (docs/model.md §5);
 * - neuromorphic input: static images turned into ON/OFF event streams by simulated saccades
 *   (as N-MNIST was recorded), and any event stream binned into T binary frames.
 */
import { tf, Tensor } from '../../kernels/tf';
import { seededBernoulli } from '../../kernels/counter-hash';
import { Rng } from '../random';
import { DataError } from './idx';
import { Events } from './events';

/**
 * Bernoulli rate coding. `images` holds `batch` rows of `P` pixels (row-major [batch, P]); the
 * result is a float32 tensor [T, P, batch] whose entries are independent Bernoulli draws with
 * probability min(pixel, pMax): a seeded uniform (seed from `rng`) compared with that probability.
 * A pixel ≤ 0 never spikes.
 */
export function rateEncode(images: Float32Array, batch: number, P: number, T: number, pMax: number, rng: Rng): Tensor {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(P) || P < 1 || !Number.isInteger(T) || T < 1) {
    throw new DataError(`rateEncode: batch, P and T must be positive integers, got ${batch}, ${P}, ${T}`);
  }
  if (images.length !== batch * P) {
    throw new DataError(`rateEncode: ${images.length} pixel values for batch ${batch} × P ${P}`);
  }
  if (!(pMax > 0 && pMax <= 1)) throw new DataError(`rateEncode: p_max must be in (0, 1], got ${pMax}`);
  const seed = rng.nextSeed();
  // On the host, one upload; the draws from a counter hash (kernels/counter-hash.ts), element
  // (t, p, b) the (t·P·B + p·B + b)-th of the stream.
  const cap = Math.fround(pMax);
  const prob = new Float32Array(P * batch); // [P, B]
  for (let b = 0; b < batch; b++) for (let p = 0; p < P; p++) prob[p * batch + b] = Math.min(images[b * P + p], cap);
  return tf.tensor3d(seededBernoulli(prob, T, seed), [T, P, batch]);
}

// ---------------------------------------------------------------------------------------------
// Static images → events by simulated saccades

export interface SaccadeOptions {
  /** Number of saccades; they follow a triangle, as in N-MNIST's recording. Default 3. */
  saccades?: number;
  /** Total duration in µs (N-MNIST: ~100 ms per saccade). Default 300,000. */
  durationUs?: number;
  /** Size of the triangle in pixels (the largest displacement). Default 2. */
  amplitude?: number;
  /** Simulation steps per saccade (timestamp resolution). Default 30. */
  stepsPerSaccade?: number;
  /** Contrast threshold on log intensity for an event. Default 0.15. */
  threshold?: number;
  /**
   * Relative per-pixel spread of the threshold (sensor mismatch), drawn from `rng` (std of a
   * normal factor around 1). Default 0.03; 0, or no `rng`, gives identical thresholds.
   */
  thresholdSigma?: number;
  /** Offset in log(intensity + epsilon), the sensor's dark level. Default 0.05. */
  epsilon?: number;
}

function gauss(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Simulates a DVS watching a static image (`h`×`w`, row-major, values in [0, 1]) while the image
 * moves along a triangle of saccades: each sensor pixel keeps a reference log intensity and emits
 * an ON (OFF) event each time the current log intensity rises (falls) past it by the threshold,
 * moving the reference by one threshold per event. Sub-pixel motion is rendered by bilinear
 * interpolation (outside the image is dark). The sensor is the same `h`×`w` grid as the image.
 * A blank (uniform) image gives no events. Events are sorted by time; times lie in [0, durationUs).
 */
export function imageToEvents(
  image: ArrayLike<number>,
  h: number,
  w: number,
  opts: SaccadeOptions = {},
  rng?: Rng,
): Events {
  if (image.length !== h * w) throw new DataError(`imageToEvents: ${image.length} pixels for a ${h}×${w} image`);
  const saccades = opts.saccades ?? 3;
  const duration = opts.durationUs ?? 300_000;
  const amp = opts.amplitude ?? 2;
  const steps = opts.stepsPerSaccade ?? 30;
  const threshold = opts.threshold ?? 0.15;
  const sigma = rng ? (opts.thresholdSigma ?? 0.03) : 0;
  const eps = opts.epsilon ?? 0.05;
  if (!(threshold > 0)) throw new DataError(`imageToEvents: threshold must be > 0, got ${threshold}`);
  if (!(saccades >= 1 && steps >= 1 && duration >= 1)) {
    throw new DataError('imageToEvents: saccades, stepsPerSaccade and durationUs must be ≥ 1');
  }
  const n = h * w;
  const thr = new Float32Array(n);
  for (let i = 0; i < n; i++) thr[i] = sigma > 0 ? threshold * Math.max(0.2, 1 + sigma * gauss(rng!)) : threshold;
  // Triangle vertices, centred so the image stays about where it is.
  const verts: Array<[number, number]> = [
    [-amp / 2, -amp / 3],
    [0, (2 * amp) / 3],
    [amp / 2, -amp / 3],
  ];
  // The image inside a dark margin wider than any displacement, so sampling needs no bounds checks.
  const m = Math.ceil(amp) + 2;
  const W = w + 2 * m;
  const padded = new Float32Array((h + 2 * m) * W);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) padded[(y + m) * W + x + m] = Math.max(0, image[y * w + x]);
  const logI = new Float32Array(n);
  /** Log intensity seen by each sensor pixel when the image is shifted by (dx, dy), bilinear. */
  const render = (dx: number, dy: number): void => {
    const x0 = Math.floor(-dx);
    const fx = -dx - x0;
    const y0 = Math.floor(-dy);
    const fy = -dy - y0;
    const w00 = (1 - fy) * (1 - fx);
    const w01 = (1 - fy) * fx;
    const w10 = fy * (1 - fx);
    const w11 = fy * fx;
    for (let y = 0; y < h; y++) {
      let o = (y + y0 + m) * W + x0 + m;
      let k = y * w;
      for (let x = 0; x < w; x++, o++, k++) {
        const v = w00 * padded[o] + w01 * padded[o + 1] + w10 * padded[o + W] + w11 * padded[o + W + 1];
        logI[k] = Math.log(v + eps);
      }
    }
  };
  render(verts[0][0], verts[0][1]);
  const ref = Float32Array.from(logI);
  const xs: number[] = [];
  const ys: number[] = [];
  const ts: number[] = [];
  const ps: number[] = [];
  const total = saccades * steps;
  for (let k = 0; k < saccades; k++) {
    const [ax, ay] = verts[k % 3];
    const [bx, by] = verts[(k + 1) % 3];
    for (let s = 1; s <= steps; s++) {
      const f = s / steps;
      render(ax + (bx - ax) * f, ay + (by - ay) * f);
      const t = Math.min(duration - 1, Math.floor(((k * steps + s - 0.5) / total) * duration));
      for (let i = 0; i < n; i++) {
        const d = logI[i] - ref[i];
        if (Math.abs(d) < thr[i]) continue;
        const count = Math.floor(Math.abs(d) / thr[i]);
        const pol = d > 0 ? 1 : 0;
        ref[i] += (d > 0 ? 1 : -1) * count * thr[i];
        const x = i % w;
        const y = (i - x) / w;
        for (let c = 0; c < count; c++) {
          xs.push(x);
          ys.push(y);
          ts.push(t);
          ps.push(pol);
        }
      }
    }
  }
  return {
    x: Uint16Array.from(xs), y: Uint16Array.from(ys), t: Uint32Array.from(ts), p: Uint8Array.from(ps),
    durationUs: duration,
  };
}

export interface BinOptions {
  /** Window length in µs split into T equal bins; default `events.durationUs`, else last t + 1. */
  durationUs?: number;
}

function windowOf(ev: Events, opts: BinOptions): number {
  let d = opts.durationUs ?? ev.durationUs;
  if (d === undefined) {
    d = 1;
    for (let i = 0; i < ev.t.length; i++) d = Math.max(d, ev.t[i] + 1);
  }
  return d;
}

/**
 * Bins an event stream into T binary frames: a Float32Array [T, 2*h*w] where feature
 * `c*h*w + y*w + x` is channel c (0 = OFF, 1 = ON) at pixel (x, y), and an entry is 1 when at least
 * one such event falls in that bin (bin = floor(t·T/duration); events at or after the window end
 * go to the last bin). Events outside the h×w grid are dropped.
 */
export function binEvents(events: Events, h: number, w: number, T: number, opts: BinOptions = {}): Float32Array {
  const F = 2 * h * w;
  const out = new Float32Array(T * F);
  scatterEvents(events, h, w, T, windowOf(events, opts), (bin, f) => {
    out[bin * F + f] = 1;
  });
  return out;
}

function scatterEvents(
  ev: Events, h: number, w: number, T: number, duration: number, set: (bin: number, feature: number) => void,
): void {
  const hw = h * w;
  for (let i = 0; i < ev.x.length; i++) {
    const x = ev.x[i];
    const y = ev.y[i];
    if (x >= w || y >= h) continue;
    const bin = Math.min(T - 1, Math.floor((ev.t[i] * T) / duration));
    set(bin, (ev.p[i] ? hw : 0) + y * w + x);
  }
}

/** Bins a batch of event streams into one float32 tensor [T, 2*h*w, B] (batch last). */
export function eventsToTensor(streams: Events[], h: number, w: number, T: number, opts: BinOptions = {}): Tensor {
  const B = streams.length;
  if (B < 1) throw new DataError('eventsToTensor: empty batch');
  const F = 2 * h * w;
  const buf = new Float32Array(T * F * B);
  streams.forEach((ev, b) => {
    scatterEvents(ev, h, w, T, windowOf(ev, opts), (bin, f) => {
      buf[(bin * F + f) * B + b] = 1;
    });
  });
  return tf.tensor3d(buf, [T, F, B]);
}

/**
 * Static images (row-major [batch, h*w]) → saccade event streams → binary frames, as one float32
 * tensor [T, 2*h*w, batch]. The streams are drawn from `rng` in batch order.
 */
export function imagesToEventTensor(
  images: Float32Array, batch: number, h: number, w: number, T: number, opts: SaccadeOptions = {}, rng?: Rng,
): Tensor {
  const P = h * w;
  if (images.length !== batch * P) {
    throw new DataError(`imagesToEventTensor: ${images.length} pixel values for batch ${batch} × ${h}×${w}`);
  }
  const streams: Events[] = [];
  for (let b = 0; b < batch; b++) streams.push(imageToEvents(images.subarray(b * P, (b + 1) * P), h, w, opts, rng));
  return eventsToTensor(streams, h, w, T);
}
