/**
 * Every random draw flows from one seed: a seedrandom stream hands out seeds for tfjs's seeded ops
 * and numbers for JavaScript-side choices (shuffles), so the same seed gives the same run.
 */
import seedrandom from 'seedrandom';
import { tf, Tensor } from '../kernels/tf';
import { seededUniform } from '../kernels/uniform';

/** Where a stream stands (seedrandom's ARC4 state: plain JSON), to continue it exactly later. */
export type RngState = object;

export class Rng {
  private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  /** `state` (from `state()`) continues a stream where it stood instead of starting it at `seed`. */
  constructor(readonly seed: number | string, state?: RngState) {
    this.prng = seedrandom(String(seed), { state: (state as seedrandom.State.Arc4 | undefined) ?? true });
  }
  /** The stream's position: `new Rng(seed, rng.state())` draws what `rng` would draw next. */
  state(): RngState {
    return this.prng.state();
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }
  /** A fresh integer seed for a seeded tfjs op. */
  nextSeed(): number {
    return Math.floor(this.prng() * 2 ** 31);
  }
  /** A child stream, so that independent consumers do not shift each other's draws. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}/${this.nextSeed()}`);
  }
  /** Uniforms in [0, 1): the values of tf.randomUniform(shape, 0, 1, 'float32', nextSeed()), drawn faster. */
  uniform(shape: number[]): Tensor {
    return seededUniform(shape, this.nextSeed());
  }
  normal(shape: number[], std = 1): Tensor {
    return tf.randomNormal(shape, 0, std, 'float32', this.nextSeed());
  }
  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
