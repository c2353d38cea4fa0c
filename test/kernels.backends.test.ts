/**
 * The same computations on the cpu and wasm backends agree with each other and with the float64
 * reference; the backend active before the test is restored afterwards.
 */
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from './helpers';
import { tf } from '../kernels/tf';
import { pickLikely, randomCurrents, randomSpec, randomThetas, rng } from './reference/bridge';
import { StepRecord, engineTrajectory, referenceTrajectory, trajectoryDiff } from './reference/drive';
import { sampleIndex } from './reference/sim64';

let original = '';

beforeAll(async () => {
  await setupBackend();
  original = tf.getBackend();
});

afterAll(async () => {
  await tf.setBackend(original);
});

test('cpu and wasm: forced and sampled trajectories, dense and gate paths, agree to 1e-5', async () => {
  const r = rng(808);
  const cases = ([
    [1, 1],
    [2, 2],
    [3, 1],
  ] as [number, number][]).map(([n, nm]) => {
    const spec = randomSpec(r, n, nm);
    const rows = 2;
    const batch = 5;
    const T = 3;
    const thetas = randomThetas(r, spec, rows);
    const currents = Array.from({ length: T }, () => randomCurrents(r, rows, n, batch));
    const uniforms = Array.from({ length: T }, () => Array.from({ length: rows }, () => Array.from({ length: batch }, () => r())));
    const forced = referenceTrajectory({ spec, thetas, currents, choose: (_t, _r, _b, p) => pickLikely(r, p, 0.1) });
    const sampled = referenceTrajectory({ spec, thetas, currents, choose: (t, row, b, p) => sampleIndex(p, uniforms[t][row][b]) });
    return { n, nm, spec, thetas, currents, uniforms, forced, sampled };
  });
  const results: Record<string, StepRecord[][]> = {};
  for (const backend of ['cpu', 'wasm']) {
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
    expect(tf.getBackend()).toBe(backend);
    const before = tf.memory().numTensors;
    results[backend] = [];
    for (const c of cases)
      for (const path of ['dense', 'gates'] as const) {
        results[backend].push(engineTrajectory({ spec: c.spec, thetas: c.thetas, currents: c.currents, forced: c.forced.ys, path }));
        results[backend].push(engineTrajectory({ spec: c.spec, thetas: c.thetas, currents: c.currents, uniforms: c.uniforms, path }));
      }
    // The drivers dispose everything they create: no tensor leaks on either backend.
    expect(tf.memory().numTensors).toBe(before);
  }
  let i = 0;
  for (const c of cases)
    for (const path of ['dense', 'gates']) {
      for (const ref of [c.forced.records, c.sampled.records]) {
        const cpu = results.cpu[i];
        const wasm = results.wasm[i];
        i++;
        const dcw = trajectoryDiff(cpu, wasm);
        const dcr = trajectoryDiff(cpu, ref);
        const dwr = trajectoryDiff(wasm, ref);
        const ok = (d: typeof dcw) => d.probs < 1e-5 && d.mem < 1e-5 && d.prob < 1e-5 && d.oneHot === 0;
        expect({ n: c.n, nm: c.nm, path, ok: ok(dcw) && ok(dcr) && ok(dwr) ? true : { dcw, dcr, dwr } }).toEqual({
          n: c.n,
          nm: c.nm,
          path,
          ok: true,
        });
      }
    }
});
