/**
 * A stateful handle on a neuron layer for interactive use and tools: reset(), step(), stepForced().
 * It owns its state tensors and disposes the old state at each step, so the tensor count stays flat.
 */
import { Tensor, disposeAll, keepAll, tf } from '../../kernels/tf';
import { Rng } from '../random';
import { NeuronLayer, StepContext } from './layer';

export interface StatefulStep {
  spikes: Tensor;
  spikeProb: Tensor;
  outcomeProbs?: Tensor;
  logProb?: Tensor;
}

export class StatefulLayer<S, P> {
  private state: S | null = null;
  private prep: P | null = null;
  private readonly ctx: StepContext;

  constructor(readonly layer: NeuronLayer<S, P>, seed = 0) {
    this.ctx = { rng: new Rng(seed), train: false, surrogate: 'straight-through' };
  }

  /** Start a new sequence for `batch` samples (memory back to |0…0⟩). */
  reset(batch = 1): void {
    this.disposeState();
    this.prep = tf.tidy(() => keepAll(this.layer.prepare()) as never) as P;
    this.state = tf.tidy(() => keepAll(this.layer.initialState(batch)) as never) as S;
  }

  /** One step from currents [H, N, B]; returned tensors belong to the caller. */
  step(currents: Tensor): StatefulStep {
    return this.advance((prep, state) => this.layer.step(prep, state, currents, this.ctx));
  }

  /** One teacher-forced step with spikes [H, N, B]. */
  stepForced(currents: Tensor, spikes: Tensor): StatefulStep {
    return this.advance((prep, state) => this.layer.stepForced(prep, state, currents, spikes));
  }

  dispose(): void {
    this.disposeState();
  }

  private advance(f: (prep: P, state: S) => StatefulStep & { state: S }): StatefulStep {
    if (!this.state || !this.prep) throw new Error('call reset(batch) before step()');
    const prep = this.prep;
    const old = this.state;
    const out = tf.tidy(() => {
      const r = f(prep, old);
      keepAll(r.state);
      const res: Record<string, Tensor> = { spikes: r.spikes, spikeProb: r.spikeProb };
      if (r.outcomeProbs) res.outcomeProbs = r.outcomeProbs;
      if ((r as { logProb?: Tensor }).logProb) res.logProb = (r as { logProb: Tensor }).logProb;
      this.state = r.state;
      return res;
    }) as unknown as StatefulStep;
    for (const t of this.layer.stateTensors(old)) t.dispose();
    return out;
  }

  private disposeState(): void {
    disposeAll(this.state);
    disposeAll(this.prep);
    this.state = null;
    this.prep = null;
  }
}
