/**
 * The local rule's fused step (kernels/sqs-eligibility.ts) against the composed ops it replaces on the
 * CPU backends: the same eligibilities, states and random draws, the same training step; the
 * kernel launches per time step of a local-rule batch, on the kernel and on the composed ops (what a
 * GPU runs; counts, not timings); and the rule, batched over T, against the same rule assembled
 * one step at a time on the network's own currents.
 */
import { countStep } from '../bench/step-counts';
import { PAPER_LOCAL_NETWORK } from '../bench/local';
import { useEligibilityKernel } from '../kernels/sqs-eligibility';
import { withSqsStepOptions } from '../kernels/sqs-step';
import { rateEncode } from '../src/data';
import { LocalRule, centredSignal, outputTargets } from '../src/learn/local';
import { Network } from '../src/network';
import { SqsLayer, SqsLayerConfig } from '../src/neurons/sqs';
import { Rng } from '../src/random';
import { setupBackend, tf } from './helpers';

let backendAtStart = 'wasm';

beforeAll(async () => {
  backendAtStart = await setupBackend();
});

afterAll(async () => {
  useEligibilityKernel(true);
  await tf.setBackend(backendAtStart);
});

/** Largest |a − b| / max(|b|, 1e-3) over two arrays of the same length. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  return m;
}

const LAYERS: [string, SqsLayerConfig][] = [
  ['the paper neuron', { size: 3 }],
  ['N = 2, N_M = 2, hardware-efficient', { size: 2, ioQubits: 2, memoryQubits: 2, ansatz: { type: 'hardware-efficient', layers: 2 } }],
];

/** Every output of one eligibility call, and the next draw of its random stream. */
function eligibilityOutputs(layer: SqsLayer, forced: boolean, opts: { encodingGradient: 'exact' | 'one-sided'; memoryFollows: 'forced' | 'sampled' }) {
  return tf.tidy(() => {
    const h = layer.size;
    const n = layer.channels;
    const b = 37;
    const prep = layer.prepare({ local: true });
    const rng = new Rng('kernel-vs-ops');
    // A non-trivial memory: two sampled steps from |0…0⟩.
    const ctx = { rng, train: false, surrogate: 'straight-through' as const };
    let state = layer.initialState(b);
    for (let t = 0; t < 2; t++) state = layer.step(prep, state, tf.randomUniform([h, n, b], -0.2, 1, 'float32', rng.nextSeed()), ctx).state;
    const z = tf.randomUniform([h, n, b], -0.4, 1, 'float32', rng.nextSeed());
    const y = forced ? tf.cast(tf.less(tf.randomUniform([h, n, b], 0, 1, 'float32', rng.nextSeed()), 0.5), 'float32') : null;
    const e = layer.eligibility(prep, state, z, y, ctx, { shots: 0, ...opts });
    const out: Record<string, Float32Array | number> = {
      theta: e.dLogPdParams.theta.dataSync() as Float32Array,
      current: e.dLogPdCurrent.dataSync() as Float32Array,
      encoding: e.dLogPdEncoding.dataSync() as Float32Array,
      logProb: e.logProb.dataSync() as Float32Array,
      spikes: e.spikes.dataSync() as Float32Array,
      spikeProb: e.spikeProb.dataSync() as Float32Array,
      memRe: e.state.mem.re.dataSync() as Float32Array,
      memIm: e.state.mem.im.dataSync() as Float32Array,
      probAt: (e.probAt as (z: tf.Tensor) => tf.Tensor)(tf.mul(z, 0.5)).dataSync() as Float32Array,
      nextDraw: rng.next(),
    };
    return out;
  });
}

for (const backend of ['cpu', 'wasm']) {
  describe(`on ${backend}`, () => {
    beforeAll(async () => {
      await setupBackend(backend);
    });

    // The cpu backend runs the gate-by-gate composed ops slowly: the larger circuit on wasm only.
    for (const [name, cfg] of backend === 'cpu' ? LAYERS.slice(0, 1) : LAYERS)
      for (const forced of [false, true])
        test(`${name}, ${forced ? 'forced' : 'sampled'} outcome: the kernel's eligibilities equal the composed ops'`, () => {
          const layer = new SqsLayer(cfg, { seed: 5 });
          for (const opts of [
            { encodingGradient: 'exact' as const, memoryFollows: 'forced' as const },
            { encodingGradient: 'one-sided' as const, memoryFollows: 'sampled' as const },
          ]) {
            useEligibilityKernel(true);
            const fused = eligibilityOutputs(layer, forced, opts);
            useEligibilityKernel(false);
            const composed = eligibilityOutputs(layer, forced, opts);
            useEligibilityKernel(true);
            // The same random stream afterwards: the kernel draws what the composed ops draw.
            expect(fused.nextDraw).toBe(composed.nextDraw);
            // Spikes are sampled from the same probabilities and uniforms.
            expect(Array.from(fused.spikes as Float32Array)).toEqual(Array.from(composed.spikes as Float32Array));
            const worst = Object.keys(composed)
              .filter((key) => key !== 'nextDraw' && key !== 'spikes')
              .map((key) => [key, relDiff(fused[key] as Float32Array, composed[key] as Float32Array)] as const)
              .filter(([, d]) => !(d < 1e-5));
            expect(worst).toEqual([]);
            // The derivatives are not all zero (the comparison compares something).
            expect((fused.theta as Float32Array).some((v) => Math.abs(v) > 1e-3)).toBe(true);
          }
          layer.dispose();
        });

    test('a training batch of the paper network on the kernel equals one on the composed ops', () => {
      const run = (kernel: boolean) => {
        useEligibilityKernel(kernel);
        const net = new Network(PAPER_LOCAL_NETWORK, 3);
        const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.5 }, bptt: { surrogate: 'straight-through' } });
        const rng = new Rng('kernel-batch');
        const b = 12;
        const images = Float32Array.from({ length: b * 256 }, () => rng.next());
        const labels = tf.tensor1d(Int32Array.from({ length: b }, () => Math.floor(rng.next() * 2)), 'int32');
        const results = [];
        for (let i = 0; i < 2; i++) {
          const x = rateEncode(images, b, 256, 6, 0.5, rng);
          results.push(rule.trainBatch(x, labels, rng));
          x.dispose();
        }
        const weights = Object.fromEntries(Object.entries(net.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]));
        labels.dispose();
        rule.dispose();
        net.dispose();
        useEligibilityKernel(true);
        return { results, weights };
      };
      const before = tf.memory().numTensors;
      const fused = run(true);
      const composed = run(false);
      expect(tf.memory().numTensors).toBe(before);
      expect(fused.results.map((r) => r.correct)).toEqual(composed.results.map((r) => r.correct));
      fused.results.forEach((r, i) => expect(Math.abs(r.loss - composed.results[i].loss)).toBeLessThan(1e-5));
      for (const k of Object.keys(composed.weights)) expect([k, relDiff(fused.weights[k], composed.weights[k]) < 1e-5]).toEqual([k, true]);
    });

    test('launches per time step of a local-rule batch: a handful on the kernel, a few dozen on the composed ops', async () => {
      const perStep = async (kernel: boolean) => {
        useEligibilityKernel(kernel);
        const net = new Network(PAPER_LOCAL_NETWORK, 1);
        const rule = new LocalRule(net, { optimizer: { kind: 'adam', lr: 0.02 }, bptt: { surrogate: 'straight-through' } });
        const rng = new Rng('counts');
        const b = 8;
        const images = Float32Array.from({ length: b * 256 }, () => rng.next());
        const labels = tf.tensor1d(Int32Array.from({ length: b }, () => Math.floor(rng.next() * 2)), 'int32');
        const count = async (steps: number) => {
          const batch = () => {
            const x = rateEncode(images, b, 256, steps, 0.5, rng);
            rule.trainBatch(x, labels, rng);
            x.dispose();
          };
          batch();
          return countStep(batch);
        };
        const [short, long] = [await count(2), await count(6)];
        labels.dispose();
        rule.dispose();
        net.dispose();
        useEligibilityKernel(true);
        // Everything but the steps (set-up, updates, the one read) cancels in the difference.
        return { launches: (long.launches - short.launches) / 4, syncs: [short.syncs, long.syncs] };
      };
      const fused = await perStep(true);
      const composed = await perStep(false);
      // Two layers: per step each runs its eligibility; the output layer also gets the hidden spikes;
      // each synapse's update is one product per step. Measured: 29 on the kernel, 96 on the composed
      // ops (with the fused SQS step inside).
      expect(fused.launches).toBeLessThanOrEqual(35);
      expect(composed.launches).toBeLessThanOrEqual(110);
      expect(fused.launches).toBeLessThan(composed.launches / 2.5);
      // One read per batch, whatever T.
      expect(fused.syncs).toEqual([1, 1]);
      expect(composed.syncs).toEqual([1, 1]);
    });
  });
}

/**
 * The rule as written in docs/model.md §6, one step at a time, on the network's own currentsInto:
 * Σ_t Σ_b signal·e with ℓ_t − b (running baseline 0, or leave-one-out) for the hidden layers and the
 * class-balance weight for the outputs, clipped per sample and step. The same draws as the rule.
 */
function stepByStepGrads(net: Network, inputs: tf.Tensor, labels: tf.Tensor, rng: Rng, opts: { baseline: 'running' | 'batch'; clip: number }): Record<string, tf.Tensor> {
  const [steps, p, b] = inputs.shape as number[];
  const last = net.layers.length - 1;
  const ctx = { rng, train: false, surrogate: 'straight-through' as const };
  const preps = net.layers.map((l) => l.prepare({ local: true }));
  let states = net.layers.map((l) => l.initialState(b));
  const targets = tf.reshape(outputTargets(labels, net.classes, steps, rng, 1, 0), [steps, net.output.size, net.output.channels, b]);
  const grads: Record<string, tf.Tensor> = {};
  const add = (k: string, g: tf.Tensor) => (grads[k] = grads[k] ? tf.add(grads[k], g) : g);
  const c = net.classes;
  for (let t = 0; t < steps; t++) {
    const x = tf.reshape(tf.slice(inputs, [t, 0, 0], [1, p, b]), [p, 1, b]);
    const y = tf.reshape(tf.slice(targets, [t, 0, 0, 0], [1, -1, -1, -1]), targets.shape.slice(1) as number[]);
    const outputs: tf.Tensor[] = [];
    const el = net.layers.map((layer, i) => {
      const e = layer.eligibility!(preps[i], states[i], net.currentsInto(i, outputs, x), i === last ? y : null, ctx, { shots: 0, encodingGradient: 'exact', memoryFollows: 'forced' });
      outputs.push(e.spikes);
      return e;
    });
    states = el.map((e) => e.state);
    const lt = tf.sum(el[last].logProb, 0);
    el.forEach((e, i) => {
      const sig = i === last ? tf.add(tf.mul(y, c / 2 - c / (2 * (c - 1))), c / (2 * (c - 1))) : tf.reshape(centredSignal(lt, opts.baseline, 0), [1, 1, b]);
      const scaled = (g: tf.Tensor) => tf.mul(opts.clip > 0 ? tf.clipByValue(g, -opts.clip, opts.clip) : g, sig);
      add(`layer.${i}.theta`, tf.sum(scaled(e.dLogPdParams.theta), 2));
      const ez = scaled(e.dLogPdCurrent);
      add(`layer.${i}.bias`, tf.transpose(tf.sum(ez, 2, true), [1, 0, 2]));
      for (const s of net.synapses.filter((q) => q.to === i)) {
        const pre = s.from < 0 ? x : outputs[s.from];
        add(`synapse.${s.from}.${s.to}.weight`, tf.reshape(tf.matMul(tf.reshape(ez, [-1, b]), tf.reshape(pre, [-1, b]), false, true), s.weight.shape));
      }
    });
  }
  return grads;
}

describe('the batched rule against the rule assembled step by step', () => {
  beforeAll(async () => {
    await setupBackend(backendAtStart);
  });

  for (const opts of [{ baseline: 'running' as const, clip: 0 }, { baseline: 'batch' as const, clip: 2 }])
    test(`baseline ${opts.baseline}, clip ${opts.clip}: the same directions for every variable`, () => {
      const net = new Network({ inputs: 20, layers: [{ neuron: 'sqs', size: 4 }, { neuron: 'sqs', size: 3 }], skip: [[-1, 1]] }, 6);
      const rule = new LocalRule(net, { optimizer: { kind: 'sgd', lr: 0.1 }, bptt: { surrogate: 'straight-through' }, local: { baseline: opts.baseline, eligibilityClip: opts.clip, targetRate: 1, offRate: 0 } });
      tf.tidy(() => {
        const inputs = tf.cast(tf.less(tf.randomUniform([5, 20, 9], 0, 1, 'float32', 4), 0.4), 'float32');
        const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
        // The structure (batching over T, the step slices) with the dense products: equal to rounding.
        const batched = withSqsStepOptions({ sparseInputs: false }, () => rule.estimate(inputs, labels, new Rng('same-draws')).grads);
        const reference = stepByStepGrads(net, inputs, labels, new Rng('same-draws'), opts);
        expect(Object.keys(batched).sort()).toEqual(Object.keys(reference).sort());
        const off = Object.keys(reference)
          .map((k) => [k, relDiff(batched[k].dataSync(), reference[k].dataSync())] as const)
          // 2e-5: on tensorflow the batched update is one product over all T·B columns, summed in another order.
          .filter(([, d]) => !(d < 2e-5));
        expect(off).toEqual([]);
        // With the sparse spike products (cpu, wasm), sums in another order: the currents round
        // differently, which θ's eligibilities (unclipped, ∂p/p) amplify where a sum cancels, so each
        // variable is compared against its own largest entry.
        const sparse = rule.estimate(inputs, labels, new Rng('same-draws')).grads;
        const scaledOff = Object.keys(reference)
          .map((k) => {
            const [a, r] = [sparse[k].dataSync(), reference[k].dataSync()];
            const top = Math.max(...Array.from(r, Math.abs));
            return [k, Math.max(...Array.from(a, (v, i) => Math.abs(v - r[i]))) / top] as const;
          })
          .filter(([, d]) => !(d < 2e-5));
        expect(scaledOff).toEqual([]);
        expect(Object.values(reference).every((g) => tf.max(tf.abs(g)).dataSync()[0] > 0)).toBe(true);
      });
      rule.dispose();
      net.dispose();
    });
});
