/**
 * A spiking network: neuron layers joined by dense (channel-wise) synapses, optional skip
 * connections, and a spike-count readout. All models — SQS and baselines — run through this class.
 */
import { addCurrents, synapseCurrents, transposedInputWeight } from '../kernels/synapse';
import { Tensor, tf } from '../kernels/tf';
import { ConfigError } from './errors';
import { LayerConfig, NeuronKind, NeuronLayer, StepContext } from './neurons/layer';
import { NEURON_KINDS, createLayer } from './neurons/registry';
import { Rng } from './random';

export interface NetworkConfig {
  /** Input features (spike channels) per step. */
  inputs: number;
  /** Hidden layers then the output layer. */
  layers: LayerConfig[];
  /** Extra connections [from, to]; from = −1 is the input. Each layer always receives the one below. */
  skip?: [number, number][];
  /** Trainable bias on every synapse target (default true). */
  bias?: boolean;
  /** Scale of the uniform weight init ±scale/√fanIn (default 1). */
  weightScale?: number;
}

export interface Synapse {
  from: number;
  to: number;
  /** [N_to, H_to, P_from]. */
  weight: tf.Variable;
}

export interface ForwardOptions {
  ctx: StepContext;
  /** Forced output spikes per step [T, H_out, N_out, B] (teacher forcing of the output layer). */
  forcedOutput?: Tensor;
  /** Record every layer's spikes per step (rasters). */
  record?: boolean;
  /**
   * The inputs are data: no gradient is wanted for them, so the input synapses skip computing one
   * (a matmul per step as large as the forward one). Leave unset to differentiate through inputs.
   */
  constantInputs?: boolean;
}

export interface ForwardResult {
  /** Output spike counts over T [C, B], C = H_out·N_out. */
  counts: Tensor;
  /** Output spike probabilities summed over T [C, B]. */
  probSum: Tensor;
  /** Per layer, per step spikes [H, N, B], when recorded. */
  spikes?: Tensor[][];
}

export function validateNetworkConfig(cfg: NetworkConfig): void {
  if (!cfg || typeof cfg !== 'object') throw new ConfigError('network config must be an object');
  if (!Number.isInteger(cfg.inputs) || cfg.inputs < 1) throw new ConfigError(`inputs must be an integer ≥ 1, got ${cfg.inputs}`);
  if (!Array.isArray(cfg.layers) || cfg.layers.length === 0) throw new ConfigError('network needs at least one layer');
  for (const [i, l] of cfg.layers.entries())
    if (!Number.isInteger(l.size) || l.size < 1) throw new ConfigError(`layer ${i}: size must be an integer ≥ 1, got ${l.size}`);
  for (const s of cfg.skip ?? []) {
    const [from, to] = s;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= -1 && to < cfg.layers.length && from < to - 1))
      throw new ConfigError(`skip connection ${JSON.stringify(s)} must go from an earlier layer (or −1, the input) to a later, non-adjacent layer`);
  }
}

/** Weights [N, H, P] with each mirrored neuron's row the negation of its partner's (partners[h] ≥ 0). */
function mirrored(w: Tensor, partners: Int32Array | null): Tensor {
  if (!partners || partners.every((p) => p < 0)) return w;
  const rows = Array.from(partners, (p, h) => (p < 0 ? h : p));
  const sign = tf.tensor3d(Array.from(partners, (p) => (p < 0 ? 1 : -1)), [1, partners.length, 1]);
  return tf.mul(tf.gather(w, rows, 1), sign);
}

export class Network {
  readonly layers: NeuronLayer[];
  readonly synapses: Synapse[];
  readonly biases: (tf.Variable | null)[];

  /** `kinds` replaces the neuron registry (src/neurons/registry.ts), e.g. with a kind of your own. */
  constructor(readonly config: NetworkConfig, seed = 0, kinds: readonly NeuronKind[] = NEURON_KINDS) {
    validateNetworkConfig(config);
    const rng = new Rng(`${seed}/init`);
    this.layers = config.layers.map((l) => createLayer(l, rng.nextSeed(), kinds));
    const edges: [number, number][] = config.layers.map((_, i) => [i - 1, i]);
    for (const s of config.skip ?? []) edges.push([s[0], s[1]]);
    const scale = config.weightScale ?? 1;
    this.synapses = edges.map(([from, to]) => {
      const post = this.layers[to];
      const fanIn = from < 0 ? config.inputs : this.layers[from].size;
      const preChannels = from < 0 ? 1 : this.layers[from].channels;
      if (preChannels !== 1 && preChannels !== post.channels)
        throw new ConfigError(`layer ${from} has ${preChannels} channels but layer ${to} has ${post.channels}: channel-wise synapses need equal channels (or 1)`);
      const a = scale / Math.sqrt(fanIn);
      const seed = rng.nextSeed();
      const weight = tf.tidy(() => tf.variable(mirrored(tf.randomUniform([post.channels, post.size, fanIn], -a, a, 'float32', seed), post.mirrorOf?.() ?? null), true));
      return { from, to, weight };
    });
    this.biases = this.layers.map((l, i) => (config.bias === false ? null : tf.tidy(() => tf.variable(tf.zeros([l.channels, l.size, 1]), true))));
  }

  get output(): NeuronLayer {
    return this.layers[this.layers.length - 1];
  }

  get classes(): number {
    return this.output.size * this.output.channels;
  }

  /** All trainable variables by a stable name (checkpoints, optimisers). */
  namedVariables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.synapses.forEach((s) => (out[`synapse.${s.from}.${s.to}.weight`] = s.weight));
    this.biases.forEach((b, i) => b && (out[`layer.${i}.bias`] = b));
    this.layers.forEach((l, i) => Object.entries(l.variables).forEach(([k, v]) => (out[`layer.${i}.${k}`] = v)));
    return out;
  }

  parameterCount(): number {
    return Object.values(this.namedVariables()).reduce((s, v) => s + v.size, 0);
  }

  /** Currents [H, N, B] into layer `to` from the spikes available at this step. */
  currentsInto(to: number, outputs: Tensor[], input: Tensor, constantInputs = false, weightsT?: Map<Synapse, Tensor | null>): Tensor {
    const parts = this.synapses
      .filter((s) => s.to === to)
      .map((s) =>
        s.from < 0 ? synapseCurrents(s.weight, input, undefined, { constantInput: constantInputs, weightT: weightsT?.get(s) ?? undefined }) : synapseCurrents(s.weight, outputs[s.from]),
      );
    const bias = this.biases[to];
    const z = addCurrents(parts);
    return bias ? tf.add(z, tf.transpose(bias, [1, 0, 2])) : z;
  }

  /**
   * Run T steps on input spikes [T, P, B] (or T tensors [P, B]). Call inside tf.tidy (inference) or inside the loss
   * function of a gradient tape (training); nothing here disposes intermediate tensors.
   */
  forward(inputs: Tensor | Tensor[], opts: ForwardOptions): ForwardResult {
    // Per-step inputs may come pre-split ([P, B] each): under a gradient tape every slice of the whole
    // [T, P, B] input would save (copy) all of it for its backward pass.
    const split = Array.isArray(inputs);
    const steps = split ? inputs.length : (inputs.shape[0] as number);
    if (steps === 0) throw new ConfigError('network forward needs at least one time step');
    const [p, b] = (split ? inputs[0].shape : inputs.shape.slice(1)) as number[];
    if (p !== this.config.inputs) throw new ConfigError(`network expects ${this.config.inputs} input features, got ${p}`);
    const preps = this.layers.map((l) => l.prepare());
    let states = this.layers.map((l) => l.initialState(b));
    let counts: Tensor | null = null;
    let probSum: Tensor | null = null;
    const record: Tensor[][] | undefined = opts.record ? this.layers.map(() => []) : undefined;
    const last = this.layers.length - 1;
    // Inputs that are data: each input synapse's weights transposed once for all steps (sparse kernel).
    const weightsT = opts.constantInputs ? new Map(this.synapses.filter((s) => s.from < 0).map((s) => [s, transposedInputWeight(s.weight)])) : undefined;
    for (let t = 0; t < steps; t++) {
      const x = tf.reshape(split ? inputs[t] : tf.slice(inputs, [t, 0, 0], [1, p, b]), [p, 1, b]);
      const outputs: Tensor[] = [];
      const next = states.slice();
      this.layers.forEach((layer, i) => {
        const z = this.currentsInto(i, outputs, x, opts.constantInputs, weightsT);
        const r =
          i === last && opts.forcedOutput
            ? layer.stepForced(preps[i], states[i], z, tf.squeeze(tf.slice(opts.forcedOutput, [t, 0, 0, 0], [1, -1, -1, -1]), [0]))
            : layer.step(preps[i], states[i], z, opts.ctx);
        next[i] = r.state;
        outputs.push(r.spikes);
        record?.[i].push(r.spikes);
        if (i === last) {
          const c = layer.size * layer.channels;
          const s2 = tf.reshape(r.spikes, [c, b]);
          const p2 = tf.reshape(r.spikeProb, [c, b]);
          counts = counts ? tf.add(counts, s2) : s2;
          probSum = probSum ? tf.add(probSum, p2) : p2;
        }
      });
      states = next;
    }
    return { counts: counts as unknown as Tensor, probSum: probSum as unknown as Tensor, spikes: record };
  }

  dispose(): void {
    for (const v of Object.values(this.namedVariables())) v.dispose();
    for (const l of this.layers) l.dispose();
  }
}

/** Class scores: spike counts first, ties broken by summed spike probabilities (both [C, B]). */
export function readoutScores(counts: Tensor, probSum: Tensor, steps: number): Tensor {
  return tf.add(tf.mul(counts, steps + 1), probSum);
}

/** Predicted class per sample [B] (int32). */
export function predict(counts: Tensor, probSum: Tensor, steps: number): Tensor {
  return tf.argMax(readoutScores(counts, probSum, steps), 0);
}
