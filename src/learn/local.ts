/**
 * The local, hardware-friendly learning rule (docs/model.md §6): no backpropagation. At each step every
 * neuron measures its own eligibility e = ∇ log p(y | memory, current) (parameter shifts, memory
 * held fixed); output neurons are teacher-forced to their targets and ascend e; hidden neurons
 * ascend (ℓ_t − b)·e, with ℓ_t = Σ_outputs log p(y*_t) broadcast and b a running-mean baseline.
 * All neurons, shifts and samples of a batch are evaluated together; each parameter tensor gets
 * one fused update per batch.
 */
import { LOCAL_RULE_DEFAULTS } from '../schemas';
import { Tensor, matMulNT, tf } from '../../kernels/tf';
import { Network, Synapse, predict } from '../network';
import { addCurrents, dataOuterProduct, dataProduct, synapseCurrents } from '../../kernels/synapse';
import { sparseInputSupported } from '../../kernels/sqs-step';
import { Eligibility, NeuronLayer, StepContext } from '../neurons/layer';
import { Rng } from '../random';
import { BatchResult, correctCount, readScalars } from './bptt';
import { Optimizer } from './optimizer';
import type { LearningRule, RuleConfig, RuleKind } from './rule';
import { ConfigError } from '../errors';

export interface LocalConfig {
  /** Shots per estimated probability (0 = exact probabilities). */
  shots?: number;
  /** SPSA perturbations for the synaptic weights instead of the encoding shift (0 = off). */
  spsa?: number;
  spsaEpsilon?: number;
  /** Probability that the label's output neuron is told to spike at a step (others: offRate). */
  targetRate?: number;
  offRate?: number;
  /** Running-mean momentum of the baseline b. */
  baselineMomentum?: number;
  /**
   * The hidden neurons' baseline b: `running` (a running mean of ℓ_t over batches, default) or `batch`
   * (for each sample, the mean of ℓ_t over the other samples of its batch at the same step: it removes
   * what all samples share at that step, and leaving the sample out keeps the estimate unbiased).
   */
  baseline?: 'running' | 'batch';
  /**
   * Which outcome the output neurons' memory follows between steps: `forced` (the targets, default)
   * or `sampled` (their own shots, as at inference). Under teacher forcing a neuron can learn to
   * replay its target from memory (spike because it was made to spike), which inference never sees.
   */
  outputMemory?: 'forced' | 'sampled';
  /** Clip every per-sample, per-step eligibility element to [−c, c] before it is weighted (0 = off). */
  eligibilityClip?: number;
  /** Current derivative where the encoding is off (z ≤ 0): `exact` (0, default) or `one-sided` (see LocalOptions). */
  encodingGradient?: 'exact' | 'one-sided';
  /**
   * Weight each output neuron's spike and silence targets equally (a class-balanced likelihood):
   * with C classes, 1 in C targets is "spike", and unweighted the silences drive the currents
   * below zero, where the encoding RX(π·max(z, 0)) has no gradient and the neuron stops learning.
   * Default: on for more than 2 classes.
   */
  balance?: boolean;
  /**
   * The hidden neurons' learning signal: `broadcast` (the paper's: one ℓ_t − b shared by every hidden
   * neuron, default) or `flip` (per neuron: how much ℓ_t would change had this neuron's spike been the
   * other outcome, measured by re-running the output neurons with that spike flipped; see
   * docs/model.md §6). Both estimate the same gradient of E[ℓ_t]; `flip` has far less variance in wide
   * layers, where one shared scalar cannot tell a thousand neurons which of them helped.
   */
  hiddenSignal?: 'broadcast' | 'flip';
}

/** Output targets [T, C, 1, B] for C classes: the label spikes with targetRate, the others with offRate (the rule lays them out [T, H, N, B]). */
export function outputTargets(labels: Tensor, classes: number, steps: number, rng: Rng, on = 1, off = 0): Tensor {
  return tf.tidy(() => {
    const b = labels.shape[0] as number;
    const rate = tf.add(tf.mul(tf.transpose(tf.oneHot(tf.cast(labels, 'int32'), classes)), on - off), off); // [H, B]
    const u = tf.randomUniform([steps, classes, 1, b], 0, 1, 'float32', rng.nextSeed());
    return tf.cast(tf.less(u, tf.reshape(rate, [1, classes, 1, b])), 'float32');
  });
}

/**
 * The hidden neurons' learning signal ℓ_t − b for every sample, ℓ_t [B] or [T, B] (a row per step):
 * `running` subtracts the running mean; `batch` subtracts the mean of ℓ_t over the other samples of
 * the batch at the same step (leave-one-out).
 */
export function centredSignal(lt: Tensor, baseline: 'running' | 'batch', running: number): Tensor {
  const b = lt.shape[lt.rank - 1] as number;
  if (baseline === 'batch' && b > 1) return tf.sub(lt, tf.div(tf.sub(tf.sum(lt, -1, true), lt), b - 1));
  return tf.sub(lt, running);
}

/**
 * A layer state with every tensor's batch axis (the last, by the house layout [neurons, channels,
 * batch]) repeated `times` times: the new batch index is k·B + b.
 */
export function repeatBatch<S>(state: S, times: number): S {
  const walk = (v: unknown): unknown => {
    if (v instanceof tf.Tensor) {
      // A broadcasting multiply, not tf.tile: wasm's Tile is a slow generic loop.
      const lead = v.shape.slice(0, -1);
      const b = v.shape[v.rank - 1];
      const ones = tf.ones([times, 1], v.dtype);
      return tf.reshape(tf.mul(tf.reshape(v, [...lead, 1, b]), ones), [...lead, times * b]);
    }
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(state) as S;
}

/**
 * The `flip` signal of a hidden layer feeding the output layer: for every hidden neuron h and sample b,
 * (ℓ_t − ℓ_t with s_h flipped) · P(the outcome not taken) [H, 1, B]. Times e_h = ∂log p(s_h)/∂ψ its
 * expectation over s_h is ∂p_h/∂ψ · (ℓ_t(s_h = 1) − ℓ_t(s_h = 0)), the exact derivative of E[ℓ_t]
 * with the other neurons' spikes held — the paper rule's target, without the shared-signal noise.
 * `outWeighted(logProb [O, K])` sums the output neurons' (class-balanced) log-likelihoods to ℓ [K].
 */
function flipSignal(
  out: NeuronLayer, outPrep: unknown, outState: unknown, outCurrents: Tensor, targets: Tensor,
  weight: Tensor, hiddenSpikes: Tensor, hiddenLogProb: Tensor, lt: Tensor, outWeighted: (logProb: Tensor, times: number) => Tensor,
): Tensor {
  // Layout of the repeated batch: index k·B + b is sample b with hidden neuron k flipped.
  const [o, n, b] = outCurrents.shape as number[];
  const h = hiddenSpikes.shape[0] as number;
  const flip = tf.sub(1, tf.mul(tf.reshape(hiddenSpikes, [1, 1, h, b]), 2)); // +1: 0→1, −1: 1→0
  const dz = tf.mul(tf.reshape(tf.transpose(weight, [1, 0, 2]), [o, n, h, 1]), flip); // [O, N, H, B]
  const z = tf.reshape(tf.add(tf.reshape(outCurrents, [o, n, 1, b]), dz), [o, n, h * b]);
  const y = repeatBatch(targets, h);
  const flipped = out.stepForced(outPrep, repeatBatch(outState, h), z, y);
  const ltFlipped = tf.reshape(outWeighted(flipped.logProb, h), [h, b]); // [O, H·B] → [H, B]
  for (const t of out.stateTensors(flipped.state)) t.dispose();
  const other = tf.sub(1, tf.exp(hiddenLogProb)); // P(the other outcome) [H, B]
  return tf.reshape(tf.mul(tf.sub(tf.reshape(lt, [1, b]), ltFlipped), other), [h, 1, b]);
}

/**
 * Σ_t Σ_b e[h, n, t·B + b]·x_t[b, p] → [N, H, P], the weight update of one synapse over all steps,
 * from eligibilities e [H, N, T·B] and presynaptic spikes by step xt [T, N or 1, B, P] (see
 * `spikesByStep`). One channel on cpu and wasm: the sparse spike kernel over all T·B samples (the
 * spikes are ~80 % zeros). Several channels there: one product per step, then their sum (the order
 * of adding each step's product in turn). Elsewhere (a GPU pays per launch) one product over all
 * T·B columns.
 */
function outerOverSteps(e: Tensor, xt: Tensor, steps: number): Tensor {
  const [h, n, tb] = e.shape as number[];
  const [, nin, b, p] = xt.shape as number[];
  // One channel on cpu/wasm: the sparse spike product over all T·B columns at once.
  if (n === 1 && nin === 1 && sparseInputSupported()) return tf.reshape(dataOuterProduct(tf.reshape(e, [h, tb]), tf.reshape(xt, [tb, p])), [1, h, p]);
  // tfjs's batched matMul broadcasts a flattened batch (index i mod T·N_in), not an inner axis: tile.
  const x = nin !== n ? tf.tile(xt, [1, n, 1, 1]) : xt;
  if (!STEPWISE_BACKENDS.includes(tf.getBackend())) {
    const xs = n === 1 ? tf.reshape(x, [1, tb, p]) : tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [n, steps * b, p]);
    return tf.matMul(tf.transpose(e, [1, 0, 2]), xs);
  }
  const et = tf.transpose(tf.reshape(e, [h, n, steps, tb / steps]), [2, 1, 0, 3]); // [T, N, H, B]
  // Steps by tf.slice, not tf.unstack: wasm's Unpack copies its whole input once per step.
  const at = (y: Tensor, t: number) => tf.reshape(tf.slice(y, [t, 0, 0, 0], [1, -1, -1, -1]), y.shape.slice(1) as number[]);
  return tf.addN(Array.from({ length: steps }, (_, t) => tf.matMul(at(et, t), at(x, t))));
}

/** Backends whose weight updates keep the step-by-step sums (see outerOverSteps). */
const STEPWISE_BACKENDS = ['cpu', 'wasm'];

/** Spikes [P, N, B] of each step → [T, N, B, P], the layout `outerOverSteps` takes. */
function spikesByStep(spikes: Tensor[]): Tensor {
  return tf.transpose(tf.stack(spikes), [0, 2, 3, 1]);
}

/** Σ over steps and samples of x [A, C, T·B] → [A, C]: per step first, then over steps (as a step-by-step sum adds them). */
function sumOverSteps(x: Tensor, steps: number): Tensor {
  const [a, c, tb] = x.shape as number[];
  return tf.sum(tf.sum(tf.reshape(x, [a, c, steps, tb / steps]), 3), 2);
}

/**
 * Currents [H, N, T·B] from weights W [N, H, P] and the input spikes of all steps, x [P, 1, T·B] and
 * the same sample-major, xT [T·B, P]. For N = 1 a plain product (the sparse spike kernel on cpu and
 * wasm): synapseCurrents would first slice x to its one channel.
 */
function inputCurrents(w: Tensor, x: Tensor, xT: () => Tensor): Tensor {
  const [n, h, p] = w.shape as number[];
  if (n > 1) return synapseCurrents(w, x);
  const t = xT();
  return tf.reshape(dataProduct(tf.reshape(w, [h, p]), t), [h, 1, t.shape[0] as number]);
}

/**
 * Currents into each layer at each step (as Network.currentsInto: the synapses in order, then the
 * bias). What the input spikes contribute is known before the loop: one product per synapse for
 * all T steps, laid out [H, N, T·B]; a layer fed by the input alone gets its whole current, bias
 * included, that way, and a step only slices it.
 */
class StepCurrents {
  /** Input spikes [P, 1, T·B] (column t·B + b). */
  readonly inputAll: Tensor;
  /** Input spikes by step [T, 1, B, P] (for the weight updates), made on first use. */
  private inputSteps: Tensor | null = null;
  private readonly inputs: Tensor;
  private readonly batch: number;
  private readonly fromInput = new Map<Synapse, Tensor>();
  private readonly whole: (Tensor | null)[];
  private readonly biasT: (Tensor | null)[];
  private readonly flatWeights = new Map<Synapse, Tensor>();

  constructor(private readonly net: Network, inputs: Tensor) {
    const [steps, p, b] = inputs.shape as number[];
    this.batch = b;
    this.inputAll = tf.reshape(tf.transpose(inputs, [1, 0, 2]), [p, 1, steps * b]);
    this.inputs = inputs;
    const xT = () => tf.reshape(this.inputByStep(), [steps * b, p]);
    for (const s of net.synapses) if (s.from < 0) this.fromInput.set(s, inputCurrents(s.weight, this.inputAll, xT));
    this.biasT = net.biases.map((bias) => (bias ? tf.transpose(bias, [1, 0, 2]) : null));
    this.whole = net.layers.map((_, i) => {
      const into = net.synapses.filter((s) => s.to === i);
      if (into.some((s) => s.from >= 0)) return null;
      return this.withBias(i, into.map((s) => this.fromInput.get(s) as Tensor));
    });
  }

  /** The input spikes laid out [T, 1, B, P], for `outerOverSteps`. */
  inputByStep(): Tensor {
    if (!this.inputSteps) {
      const [steps, p, b] = this.inputs.shape as number[];
      this.inputSteps = tf.reshape(tf.transpose(this.inputs, [0, 2, 1]), [steps, 1, b, p]);
    }
    return this.inputSteps;
  }

  /** Input spikes [P, 1, B] of step t. */
  inputAt(t: number): Tensor {
    return tf.slice(this.inputAll, [0, 0, t * this.batch], [-1, -1, this.batch]);
  }

  /** Currents [H, N, B] into layer `to` at step t, given this step's spikes of the layers below. */
  into(to: number, t: number, outputs: Tensor[]): Tensor {
    const at = (x: Tensor) => tf.slice(x, [0, 0, t * this.batch], [-1, -1, this.batch]);
    const whole = this.whole[to];
    if (whole) return at(whole);
    const parts = this.net.synapses
      .filter((s) => s.to === to)
      .map((s) => (s.from < 0 ? at(this.fromInput.get(s) as Tensor) : this.fromLayer(s, outputs[s.from])));
    return this.withBias(to, parts);
  }

  /** Currents [H, N, B] through synapse s from this step's spikes [P, N_in, B] (N = 1: the product alone, W reshaped once per batch). */
  private fromLayer(s: Synapse, spikes: Tensor): Tensor {
    const [n, h, p] = s.weight.shape as number[];
    if (n > 1) return synapseCurrents(s.weight, spikes);
    let w = this.flatWeights.get(s);
    if (!w) this.flatWeights.set(s, (w = tf.reshape(s.weight, [h, p])));
    return tf.reshape(tf.matMul(w, tf.reshape(spikes, [p, this.batch])), [h, 1, this.batch]);
  }

  private withBias(to: number, parts: Tensor[]): Tensor {
    const z = addCurrents(parts);
    const bias = this.biasT[to];
    return bias ? tf.add(z, bias) : z;
  }
}

export class LocalRule implements LearningRule {
  readonly name = 'local';
  readonly optimizer: Optimizer;
  private baseline = 0;
  private baselineReady = false;
  private readonly cfg: Required<LocalConfig>;

  constructor(private readonly net: Network, ruleCfg: RuleConfig) {
    const c = (ruleCfg.local ?? {}) as LocalConfig;
    const d = LOCAL_RULE_DEFAULTS;
    this.cfg = {
      shots: c.shots ?? d.shots,
      spsa: c.spsa ?? d.spsa,
      spsaEpsilon: c.spsaEpsilon ?? d.spsaEpsilon,
      targetRate: c.targetRate ?? d.targetRate,
      offRate: c.offRate ?? d.offRate,
      baselineMomentum: c.baselineMomentum ?? d.baselineMomentum,
      balance: c.balance ?? net.classes > 2,
      encodingGradient: c.encodingGradient ?? d.encodingGradient,
      baseline: c.baseline ?? d.baseline,
      eligibilityClip: c.eligibilityClip ?? d.eligibilityClip,
      outputMemory: c.outputMemory ?? d.outputMemory,
      hiddenSignal: c.hiddenSignal ?? d.hiddenSignal,
    };
    if (!['broadcast', 'flip'].includes(this.cfg.hiddenSignal)) throw new ConfigError(`local.hiddenSignal must be broadcast or flip, got '${this.cfg.hiddenSignal}'`);
    if (this.cfg.hiddenSignal === 'flip') {
      const last = net.layers.length - 1;
      for (let i = 0; i < last; i++) {
        const into = net.synapses.filter((q) => q.from === i).map((q) => q.to);
        if (into.length !== 1 || into[0] !== last || net.layers[i].channels !== 1)
          throw new ConfigError(`local.hiddenSignal 'flip' needs every hidden layer to have one channel and feed only the output layer; layer ${i} feeds [${into}] with ${net.layers[i].channels} channels`);
      }
    }
    if (!['forced', 'sampled'].includes(this.cfg.outputMemory)) throw new ConfigError(`local.outputMemory must be forced or sampled, got '${this.cfg.outputMemory}'`);
    if (!['running', 'batch'].includes(this.cfg.baseline)) throw new ConfigError(`local.baseline must be running or batch, got '${this.cfg.baseline}'`);
    if (!['exact', 'one-sided'].includes(this.cfg.encodingGradient)) throw new ConfigError(`local.encodingGradient must be exact or one-sided, got '${this.cfg.encodingGradient}'`);
    for (const [i, l] of net.layers.entries())
      if (!l.eligibility) throw new Error(`layer ${i} (${l.kind}) has no local rule; train it with the bptt rule`);
    this.optimizer = new Optimizer(net.namedVariables(), ruleCfg.optimizer);
  }

  /**
   * Ascent directions Σ_t Σ_b signal·e for every named variable, plus the batch's metrics.
   *
   * Only what is recurrent runs step by step: each layer's eligibility (its memory carries over) and
   * the currents from the layer below. Everything else is batched over the T steps: the currents
   * from the input spikes are one product per synapse for all steps, and the eligibilities of every
   * step are kept (laid side by side along the batch axis, column t·B + b) so that the learning
   * signals, clipping and the sums into each update are a few ops per batch, not per step.
   */
  estimate(inputs: Tensor, labels: Tensor, rng: Rng): { grads: Record<string, Tensor>; loss: Tensor; predictions: Tensor; signalMean: Tensor } {
    const net = this.net;
    const [steps, , b] = inputs.shape as number[];
    const last = net.layers.length - 1;
    const spsa = this.cfg.spsa > 0;
    const flip = this.cfg.hiddenSignal === 'flip';
    const ctx: StepContext = { rng, train: false, surrogate: 'straight-through' };
    const preps = net.layers.map((l) => l.prepare({ local: true }));
    let states = net.layers.map((l) => l.initialState(b));
    // Targets [T, H, N, B]: class c is channel c mod N of output neuron ⌊c/N⌋, as the readout counts them.
    const targets = tf.reshape(
      outputTargets(labels, net.classes, steps, rng, this.cfg.targetRate, this.cfg.offRate),
      [steps, net.output.size, net.output.channels, b],
    );
    const targetAt = tf.unstack(targets);
    const currents = new StepCurrents(net, inputs);
    const acc: Record<string, Tensor> = {};
    const add = (name: string, t: Tensor) => (acc[name] = acc[name] ? tf.add(acc[name], t) : t);
    // Per layer, every step's eligibilities (and spikes, and flip signals), joined after the loop.
    const kept = net.layers.map(() => ({ params: {} as Record<string, Tensor[]>, current: [] as Tensor[], spikes: [] as Tensor[], signal: [] as Tensor[] }));
    const outLogProb: Tensor[] = [];
    const outProb: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const outputs: Tensor[] = [];
      const el: Eligibility<unknown>[] = [];
      const z: Tensor[] = [];
      net.layers.forEach((layer: NeuronLayer, i) => {
        z.push(currents.into(i, t, outputs));
        const e = (layer.eligibility as NonNullable<NeuronLayer['eligibility']>)(preps[i], states[i], z[i], i === last ? targetAt[t] : null, ctx, {
          shots: this.cfg.shots,
          encodingGradient: this.cfg.encodingGradient,
          memoryFollows: i === last ? this.cfg.outputMemory : 'forced',
        });
        el.push(e);
        outputs.push(e.spikes);
      });
      const before = states;
      states = el.map((e) => e.state);
      outLogProb.push(el[last].logProb);
      outProb.push(tf.reshape(el[last].spikeProb, [net.classes, b]));
      const outWeight = (flip || spsa) && this.cfg.balance ? this.balanceWeights(targetAt[t]) : null;
      const flipped = flip ? this.flipSignals(preps[last], before[last], el, z, outputs, targetAt[t], outWeight) : null;
      el.forEach((e, i) => {
        const k = kept[i];
        for (const [name, g] of Object.entries(e.dLogPdParams)) (k.params[name] ??= []).push(g);
        k.current.push(e.dLogPdCurrent);
        k.spikes.push(e.spikes);
        if (flipped && i < last) k.signal.push(flipped[i]);
      });
      // SPSA estimates need each step's signal as the step runs: output weight, flip, or ℓ_t − b.
      if (spsa)
        el.forEach((e, i) => {
          const sig = i === last ? outWeight : flipped ? flipped[i] : tf.reshape(centredSignal(tf.sum(e === el[last] ? e.logProb : el[last].logProb, 0), this.cfg.baseline, this.baseline), [1, 1, b]);
          for (const s of net.synapses.filter((q) => q.to === i)) {
            const pre = s.from < 0 ? currents.inputAt(t) : outputs[s.from];
            add(`synapse.${s.from}.${s.to}.weight`, this.spsaWeights(e, z[i], s.weight, pre, sig, rng));
          }
          if (net.biases[i]) add(`layer.${i}.bias`, this.spsaBias(e, z[i], sig, rng));
        });
    }
    // ℓ_t = Σ_outputs log p(y*_t) for every step and sample [T, B].
    const lt = tf.reshape(tf.sum(tf.concat(outLogProb, 1), 0), [steps, b]);
    // Output neurons: signal 1 (or the class-balance weight of their target); hidden: ℓ_t − b (or flip).
    const flat = (x: Tensor) => tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [x.shape[1] as number, x.shape[2] as number, steps * b]); // [T, H, N, B] → [H, N, T·B]
    const outSignal = this.cfg.balance ? this.balanceWeights(flat(targets)) : null;
    const broadcast = flip ? null : tf.reshape(centredSignal(lt, this.cfg.baseline, this.baseline), [1, 1, steps * b]);
    const c = this.cfg.eligibilityClip;
    net.layers.forEach((_, i) => {
      const k = kept[i];
      const sig = i === last ? outSignal : flip ? tf.concat(k.signal, 2) : broadcast;
      // ∂log p = ∂p/p is unbounded where p → 0 (e.g. log sin²(φ/2) near φ = 0): one such sample
      // can swamp a batch, so each per-sample, per-step eligibility may be clipped to [−c, c].
      const scaled = (g: Tensor) => {
        const clipped = c > 0 ? tf.clipByValue(g, -c, c) : g;
        return sig ? tf.mul(clipped, sig) : clipped;
      };
      for (const [name, gs] of Object.entries(k.params)) add(`layer.${i}.${name}`, sumOverSteps(scaled(tf.concat(gs, 2)), steps));
      if (spsa) return;
      const ez = scaled(tf.concat(k.current, 2)); // [H, N, T·B]
      if (net.biases[i]) add(`layer.${i}.bias`, tf.expandDims(tf.transpose(sumOverSteps(ez, steps)), 2));
      for (const s of net.synapses.filter((q) => q.to === i))
        add(`synapse.${s.from}.${s.to}.weight`, outerOverSteps(ez, s.from < 0 ? currents.inputByStep() : spikesByStep(kept[s.from].spikes), steps));
    });
    const lossPerSample = tf.neg(tf.div(tf.sum(lt, 0), steps));
    const predictions = predict(tf.zeros([net.classes, b]), tf.addN(outProb), steps);
    // The mean of ℓ_t over samples, averaged over steps: what the running baseline follows.
    return { grads: acc, loss: tf.mean(lossPerSample), predictions, signalMean: tf.div(tf.sum(tf.mean(lt, 1)), steps) };
  }

  /** The `flip` signal [H, 1, B] of every hidden layer (all feed the output layer; checked in the constructor). */
  private flipSignals(outPrep: unknown, outState: unknown, el: Eligibility<unknown>[], currents: Tensor[], outputs: Tensor[], y: Tensor, outWeight: Tensor | null): Tensor[] {
    const last = el.length - 1;
    const b = y.shape[2] as number;
    // ℓ as the output neurons learn it: with class balance, each target's log-likelihood weighted.
    const weighted = (logProb: Tensor, times: number) => {
      const lp = tf.reshape(logProb, [-1, times, b]);
      return tf.sum(outWeight ? tf.mul(lp, tf.reshape(outWeight, [-1, 1, b])) : lp, 0);
    };
    const lt = tf.reshape(weighted(el[last].logProb, 1), [b]);
    return el.slice(0, last).map((e, i) => {
      const syn = this.net.synapses.find((q) => q.from === i && q.to === last) as { weight: Tensor };
      return flipSignal(this.net.output, outPrep, outState, currents[last], y, syn.weight, outputs[i], e.logProb, lt, weighted);
    });
  }

  /**
   * Per-neuron weights [H, 1, B] from targets y [H, N, B]: C/2 for a spike target, C/(2(C−1)) for
   * silence (C = classes). A neuron of N > 1 IO qubits has one likelihood, of its joint outcome, and
   * takes the mean of its qubits' weights (N = 1: the target's own weight).
   */
  private balanceWeights(y: Tensor): Tensor {
    const c = this.net.classes;
    const w = tf.add(tf.mul(y, c / 2 - c / (2 * (c - 1))), c / (2 * (c - 1)));
    return (y.shape[1] as number) === 1 ? w : tf.mean(w, 1, true);
  }

  /** SPSA on one synapse: Δ ∈ {±1}^{N×H×P}, z± = z ± εΔx, ĝ = (p₊ − p₋)/(2ε)·Δ, divided by p. */
  private spsaWeights(e: Eligibility<unknown>, z: Tensor, w: Tensor, pre: Tensor, sig: Tensor | null, rng: Rng): Tensor {
    const { spsa, spsaEpsilon: eps } = this.cfg;
    const probAt = e.probAt as (z: Tensor) => Tensor;
    const p = tf.exp(e.logProb);
    let sum: Tensor | null = null;
    for (let j = 0; j < spsa; j++) {
      const delta = tf.sub(tf.mul(tf.cast(tf.less(tf.randomUniform(w.shape, 0, 1, 'float32', rng.nextSeed()), 0.5), 'float32'), 2), 1);
      const dz = tf.mul(this.synapseOnly(delta, pre), eps);
      const diff = tf.div(tf.sub(probAt(tf.add(z, dz)), probAt(tf.sub(z, dz))), tf.mul(tf.maximum(p, 1e-12), 2 * eps)); // [H, B]
      let coef = tf.sum(sig ? tf.mul(diff, tf.reshape(sig, [-1, z.shape[2] as number])) : diff, 1); // [H]
      coef = tf.reshape(coef, [1, -1, 1]);
      const g = tf.mul(delta, coef);
      sum = sum ? tf.add(sum, g) : g;
    }
    return tf.div(sum as unknown as Tensor, spsa);
  }

  private spsaBias(e: Eligibility<unknown>, z: Tensor, sig: Tensor | null, rng: Rng): Tensor {
    const [h, n] = z.shape as number[];
    const { spsa, spsaEpsilon: eps } = this.cfg;
    const probAt = e.probAt as (z: Tensor) => Tensor;
    const p = tf.exp(e.logProb);
    let sum: Tensor | null = null;
    for (let j = 0; j < spsa; j++) {
      const delta = tf.sub(tf.mul(tf.cast(tf.less(tf.randomUniform([h, n, 1], 0, 1, 'float32', rng.nextSeed()), 0.5), 'float32'), 2), 1);
      const diff = tf.div(tf.sub(probAt(tf.add(z, tf.mul(delta, eps))), probAt(tf.sub(z, tf.mul(delta, eps)))), tf.mul(tf.maximum(p, 1e-12), 2 * eps));
      const coef = tf.reshape(tf.sum(sig ? tf.mul(diff, tf.reshape(sig, [-1, z.shape[2] as number])) : diff, 1), [h, 1, 1]);
      const g = tf.transpose(tf.mul(delta, coef), [1, 0, 2]);
      sum = sum ? tf.add(sum, g) : g;
    }
    return tf.div(sum as unknown as Tensor, spsa);
  }

  /** Currents [H, N, B] produced by weights alone (no bias), for perturbations. */
  private synapseOnly(w: Tensor, pre: Tensor): Tensor {
    const [n, h, p] = w.shape as number[];
    const b = pre.shape[2] as number;
    if (n === 1) return tf.reshape(tf.matMul(tf.reshape(w, [h, p]), tf.reshape(tf.slice(pre, [0, 0, 0], [p, 1, b]), [p, b])), [h, 1, b]);
    let x = tf.transpose(pre, [1, 0, 2]);
    if (pre.shape[1] === 1) x = tf.tile(x, [n, 1, 1]);
    return tf.transpose(tf.matMul(w, x), [1, 0, 2]);
  }

  trainBatch(inputs: Tensor, labels: Tensor, rng: Rng): BatchResult {
    const b = labels.shape[0] as number;
    let loss = 0;
    let correct = 0;
    let signal = 0;
    tf.tidy(() => {
      const r = this.estimate(inputs, labels, rng);
      // The optimiser descends; the rule ascends the log-likelihood: negate, average over the batch.
      const grads: Record<string, Tensor> = {};
      for (const [k, g] of Object.entries(r.grads)) grads[k] = tf.div(g, -b);
      this.optimizer.applyOnDevice(grads);
      [loss, correct, signal] = readScalars(r.loss, correctCount(r.predictions, labels), r.signalMean);
    });
    const mu = this.cfg.baselineMomentum;
    this.baseline = this.baselineReady ? mu * this.baseline + (1 - mu) * signal : signal;
    this.baselineReady = true;
    return { loss, correct, size: b };
  }

  saveState(): Record<string, unknown> {
    return { step: this.optimizer.step, baseline: this.baseline, baselineReady: this.baselineReady };
  }

  loadState(s: Record<string, unknown>): void {
    this.optimizer.step = Number(s.step ?? 0);
    this.baseline = Number(s.baseline ?? 0);
    this.baselineReady = Boolean(s.baselineReady);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

export const localRule: RuleKind = {
  name: 'local',
  summary: 'the local rule: eligibilities from parameter shifts times a learning signal, one update per batch',
  create: (net, cfg) => new LocalRule(net, cfg),
};
