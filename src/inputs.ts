/** Turning a batch of static images into input spike trains [T, P, B]. */
import { Tensor } from '../kernels/tf';
import { imagesToEventTensor, rateEncode } from './data';
import { Rng } from './random';

export type Encoding =
  | { kind: 'rate'; pMax: number }
  /** ON/OFF events from simulated saccades, binned into T frames (P doubles: OFF and ON channels). */
  | { kind: 'events' };

export function inputFeatures(pixels: number, enc: Encoding): number {
  return enc.kind === 'events' ? 2 * pixels : pixels;
}

export function encodeImages(images: Float32Array, batch: number, height: number, width: number, steps: number, enc: Encoding, rng: Rng): Tensor {
  if (enc.kind === 'rate') return rateEncode(images, batch, height * width, steps, enc.pMax, rng);
  return imagesToEventTensor(images, batch, height, width, steps, {}, rng);
}
