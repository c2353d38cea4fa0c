/**
 * On tensorflow a neuron step runs the composed tfjs ops (what a GPU runs) or, with tfjs-node's host
 * memory, the fused kernels (option fusedOnTensorflow). Both agree with the float64 reference, and with
 * the fused step kernel of the wasm backend fed the same inputs.
 */
import { composedStep, configureSqsStep, sqsStepOp, sqsStepPath, withSqsStepOptions } from '../../kernels/sqs-step';
import { tf } from '../../kernels/tf';
import { SqsLayer } from '../../src/neurons/sqs';
import { pickLikely, randomCurrents, randomSpec, randomThetas, rng } from '../reference/bridge';
import { engineTrajectory, referenceTrajectory, trajectoryDiff } from '../reference/drive';
import { sampleIndex } from '../reference/sim64';
import { onBackend, useTensorflow } from './helpers';

beforeAll(useTensorflow);

test.each([false, true])('statevector trajectories on tensorflow equal the float64 reference (dense and gate paths, forced and sampled), host kernels %s', async (fusedOnTensorflow) => {
  const saved = configureSqsStep({ fusedOnTensorflow });
  const r = rng(1212);
  for (const [n, nm] of [[1, 1], [1, 3], [2, 2], [3, 1]]) {
    const spec = randomSpec(r, n, nm);
    const rows = 3;
    const batch = 4;
    const T = 4;
    const thetas = randomThetas(r, spec, rows);
    const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
    const uniforms = Array.from({ length: T }, () => Array.from({ length: rows }, () => Array.from({ length: batch }, () => r())));
    const forced = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
    const sampled = referenceTrajectory({ spec, thetas, currents, choose: (t, row, b, p) => sampleIndex(p, uniforms[t][row][b]) });
    for (const path of ['dense', 'gates'] as const) {
      const before = tf.memory().numTensors;
      const engineForced = engineTrajectory({ spec, thetas, currents, forced: forced.ys, path });
      const engineSampled = engineTrajectory({ spec, thetas, currents, uniforms, path });
      expect(tf.memory().numTensors).toBe(before);
      for (const [engine, ref] of [[engineForced, forced.records], [engineSampled, sampled.records]] as const) {
        const d = trajectoryDiff(engine, ref);
        expect({ n, nm, path, d: d.probs < 2e-5 && d.mem < 2e-5 && d.prob < 2e-5 && d.oneHot === 0 ? 'ok' : d }).toEqual({ n, nm, path, d: 'ok' });
      }
    }
  }
  configureSqsStep(saved);
});

/** One step of `rows` neurons × `batch` samples from fixed random inputs; plain arrays out. */
function stepArrays(n: number, m: number, how: 'fused' | 'composed', outcome: 'seed' | 'forced') {
  const rows = 5;
  const batch = 7;
  const ansatz = n === 1 && m === 1 ? 'paper' : { type: 'hardware-efficient' as const, layers: 2 };
  const layer = new SqsLayer({ size: rows, ioQubits: n, memoryQubits: m, ansatz, path: 'dense' }, { seed: 31 + 7 * n + m });
  const prep = layer.prepare();
  const dm = 2 ** m;
  // A normalised, generic memory state, and encoding angles in [0, π].
  const re = tf.randomNormal([rows, dm, batch], 0, 1, 'float32', 5);
  const im = tf.randomNormal([rows, dm, batch], 0, 1, 'float32', 6);
  const norm = tf.sqrt(tf.sum(tf.add(tf.square(re), tf.square(im)), 1, true));
  const mem = { re: tf.div(re, norm), im: tf.div(im, norm) };
  const phi = tf.randomUniform([rows, n, batch], 0, Math.PI, 'float32', 7);
  const k = 2 ** n;
  const forced = tf.transpose(tf.oneHot(tf.randomUniform([rows, batch], 0, k, 'int32', 8), k), [0, 2, 1]);
  const input = { unitary: prep.unitary as NonNullable<typeof prep.unitary>, mem, phi, ...(outcome === 'seed' ? { seed: 99 } : { forced: tf.cast(forced, 'float32') }) };
  const out = how === 'fused' ? sqsStepOp(input) : composedStep(input);
  const arrays = {
    probs: Array.from(out.probs.dataSync()),
    oneHot: Array.from(out.oneHot.dataSync()),
    memRe: Array.from(out.mem.re.dataSync()),
    memIm: Array.from(out.mem.im.dataSync()),
    prob: Array.from(out.prob.dataSync()),
  };
  layer.dispose();
  return arrays;
}

test('composed step on tensorflow equals the fused kernel on wasm, sampled (same seeded uniforms) and forced', async () => {
  for (const [n, m] of [[1, 1], [1, 2], [2, 1], [1, 5]])
    for (const outcome of ['seed', 'forced'] as const) {
      const fused = await onBackend('wasm', () => stepArrays(n, m, 'fused', outcome));
      const composed = await onBackend('tensorflow', () => stepArrays(n, m, 'composed', outcome));
      const worst = Math.max(...(['probs', 'memRe', 'memIm', 'prob'] as const).map((k) => Math.max(...fused[k].map((v, i) => Math.abs(v - composed[k][i])))));
      expect({ n, m, outcome, worst: worst < 2e-5 ? 'ok' : worst }).toEqual({ n, m, outcome, worst: 'ok' });
      expect(composed.oneHot).toEqual(fused.oneHot);
    }
  expect(tf.getBackend()).toBe('tensorflow');
});

test('host kernels on tensorflow (tfjs-node) equal the fused kernel on wasm; the option switches the path', async () => {
  for (const [n, m] of [[1, 1], [1, 2], [2, 1], [1, 5]])
    for (const outcome of ['seed', 'forced'] as const) {
      const wasm = await onBackend('wasm', () => stepArrays(n, m, 'fused', outcome));
      // (The inputs, e.g. the unitaries built from θ, differ by float32 rounding between the backends.)
      const host = await withSqsStepOptions({ fusedOnTensorflow: true }, () => onBackend('tensorflow', () => stepArrays(n, m, 'fused', outcome)));
      const worst = Math.max(...(['probs', 'memRe', 'memIm', 'prob'] as const).map((k) => Math.max(...wasm[k].map((v, i) => Math.abs(v - host[k][i])))));
      expect({ n, m, outcome, worst: worst < 2e-5 ? 'ok' : worst }).toEqual({ n, m, outcome, worst: 'ok' });
      expect(host.oneHot).toEqual(wasm.oneHot);
    }
  await onBackend('tensorflow', () => {
    const probe = { unitary: { re: tf.zeros([2, 4, 4]), im: tf.zeros([2, 4, 4]) }, mem: { re: tf.zeros([2, 2, 3]), im: tf.zeros([2, 2, 3]) }, phi: tf.zeros([2, 1, 3]), seed: 1 };
    expect(withSqsStepOptions({ fusedOnTensorflow: true }, () => sqsStepPath(probe))).toBe('fused');
    expect(withSqsStepOptions({ fusedOnTensorflow: false }, () => sqsStepPath(probe))).toBe('composed');
  });
});
