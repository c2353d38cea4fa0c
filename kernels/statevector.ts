/**
 * One SQS step in the statevector mode, as pure functions on tensors laid out [R, ·, B]: R rows
 * (neurons, possibly × parameter shifts), B samples last. Along one single-shot trajectory the
 * memory is a pure state [R, 2^N_M, B]; the IO qubits start in |0⟩ at every step.
 */
import { Circuit } from './circuit';
import { Complex, abs2, cmul, creshape, csum } from './complex';
import { evolveGates } from './evolve';
import { tf, Tensor } from './tf';

/** Encoding angle φ = π·max(z, 0): RX(πz) when z > 0, nothing otherwise (RX(0) = I). */
export function encodingAngles(currents: Tensor): Tensor {
  return tf.mul(tf.relu(currents), Math.PI);
}

/**
 * IO amplitudes [R, 2^N, B] of ⊗_n RX(φ_n)|0⟩ from angles φ [R, N, B]: amplitude of outcome x is
 * Π_n (x_n ? −i sin(φ_n/2) : cos(φ_n/2)).
 */
export function ioAmplitudes(phi: Tensor): Complex {
  const [r, n, b] = phi.shape as number[];
  const half = tf.mul(phi, 0.5);
  const co = tf.cos(half);
  const si = tf.sin(half);
  let amp: Complex | null = null;
  for (let q = 0; q < n; q++) {
    const c = tf.slice(co, [0, q, 0], [r, 1, b]);
    const s = tf.slice(si, [0, q, 0], [r, 1, b]);
    if (!amp) {
      amp = { re: tf.concat([c, tf.zerosLike(s)], 1), im: tf.concat([tf.zerosLike(c), tf.neg(s)], 1) };
    } else {
      // Qubit q is bit q: the new outcomes x + 2^q·bit put bit=1 in the upper half.
      const zero: Complex = { re: tf.mul(amp.re, c), im: tf.mul(amp.im, c) };
      const one: Complex = { re: tf.mul(amp.im, s), im: tf.neg(tf.mul(amp.re, s)) };
      amp = { re: tf.concat([zero.re, one.re], 1), im: tf.concat([zero.im, one.im], 1) };
    }
  }
  return amp as Complex;
}

/** Register state [R, D, B] = IO amplitudes ⊗ memory, index y + 2^N·m. */
export function inputState(io: Complex, mem: Complex): Complex {
  const [r, k, b] = io.re.shape as number[];
  const dm = mem.re.shape[1] as number;
  const prod = cmul(creshape(mem, [r, dm, 1, b]), creshape(io, [r, 1, k, b]));
  return creshape(prod, [r, dm * k, b]);
}

/** |0…0⟩ memory for R rows and B samples. */
export function initialMemory(rows: number, memoryQubits: number, batch: number): Complex {
  const dm = 2 ** memoryQubits;
  // Written on the host: the wasm backend's Tile took ~40 ms for a 1000-neuron, 256-sample layer.
  const re = new Float32Array(rows * dm * batch);
  for (let r = 0; r < rows; r++) re.fill(1, r * dm * batch, r * dm * batch + batch);
  return { re: tf.tensor3d(re, [rows, dm, batch]), im: tf.zeros([rows, dm, batch]) };
}

/** p(y) [R, 2^N, B] of each IO outcome: squared amplitudes summed over the memory index. */
export function outcomeProbabilities(psi: Complex, ioQubits: number): Tensor {
  const [r, d, b] = psi.re.shape as number[];
  const k = 2 ** ioQubits;
  return tf.sum(tf.reshape(abs2(psi), [r, d / k, k, b]), 1);
}

/**
 * One outcome per row and sample drawn from probs [R, K, B] with uniforms u [R, B] in [0, 1), as a
 * one-hot [R, K, B]: y = #{k < K−1 : cdf_k ≤ u·Σp}. It carries no gradient; surrogate gradients
 * are attached to the spikes by `surrogateSpikes`.
 */
export const sampleOneHot: (probs: Tensor, uniforms: Tensor) => Tensor = tf.customGrad(
  ((probs: Tensor, uniforms: Tensor) => {
    // Gradient functions run after the forward tidy: they may only use dy and saved tensors.
    const probShape = probs.shape;
    const uShape = uniforms.shape;
    const [r, k, b] = probs.shape as number[];
    let value: Tensor;
    if (k === 2) {
      const p0 = tf.slice(probs, [0, 0, 0], [r, 1, b]);
      const tot = tf.sum(probs, 1, true);
      const one = tf.cast(tf.lessEqual(p0, tf.mul(tf.reshape(uniforms, [r, 1, b]), tot)), 'float32');
      value = tf.concat([tf.sub(1, one), one], 1);
    } else {
      const cdf = tf.cumsum(probs, 1);
      const tot = tf.slice(cdf, [0, k - 1, 0], [r, 1, b]);
      const target = tf.mul(tf.reshape(uniforms, [r, 1, b]), tot);
      const below = tf.cast(tf.lessEqual(tf.slice(cdf, [0, 0, 0], [r, k - 1, b]), target), 'float32');
      const y = tf.sum(below, 1, true);
      value = tf.cast(tf.equal(y, tf.reshape(tf.range(0, k, 1, 'float32'), [1, k, 1])), 'float32');
    }
    return { value, gradFunc: () => [tf.zeros(probShape), tf.zeros(uShape)] };
  }) as any,
) as any;

/** Memory after measuring outcome `oneHot`: (⟨y|⊗I)|ψ⟩/√p(y), and p(y) [R, B]. */
export function collapseMemory(psi: Complex, oneHot: Tensor, ioQubits: number): { mem: Complex; prob: Tensor } {
  const [r, d, b] = psi.re.shape as number[];
  const k = 2 ** ioQubits;
  const sel = tf.reshape(oneHot, [r, 1, k, b]);
  const branch = csum(
    { re: tf.mul(tf.reshape(psi.re, [r, d / k, k, b]), sel), im: tf.mul(tf.reshape(psi.im, [r, d / k, k, b]), sel) },
    2,
  );
  const prob = tf.sum(abs2(branch), 1);
  // A zero-probability branch is only reachable by forcing; callers check forced outcomes first.
  const norm = tf.reshape(tf.rsqrt(tf.maximum(prob, 1e-30)), [r, 1, b]);
  return { mem: { re: tf.mul(branch.re, norm), im: tf.mul(branch.im, norm) }, prob };
}

/** Constant [1, K, N] table with entry (k, n) = bit n of k. */
function bitTable(ioQubits: number): Tensor {
  const k = 2 ** ioQubits;
  const t = new Float32Array(k * ioQubits);
  for (let y = 0; y < k; y++) for (let n = 0; n < ioQubits; n++) t[y * ioQubits + n] = (y >> n) & 1;
  return tf.tensor3d(t, [1, k, ioQubits]);
}

/** Per-qubit values [R, N, B] = Σ_y v[R, y, B]·bit_n(y): spikes from a one-hot, marginals from p(y). */
export function perQubit(v: Tensor, ioQubits: number): Tensor {
  const [r, k, b] = v.shape as number[];
  if (ioQubits === 1) return tf.slice(v, [0, 1, 0], [r, 1, b]);
  const table = tf.tile(bitTable(ioQubits), [r, 1, 1]);
  return tf.matMul(table, v, true, false);
}

/** Outcome one-hot [R, 2^N, B] from spike bits [R, N, B] (teacher forcing). */
export function oneHotFromBits(bits: Tensor): Tensor {
  const [r, n, b] = bits.shape as number[];
  // One qubit: outcomes (0, 1) are (1 − y, y); cheaper than comparing indices on large batches.
  if (n === 1) return tf.concat([tf.sub(1, bits), bits], 1);
  const weights = tf.reshape(tf.tensor1d(Array.from({ length: n }, (_, i) => 2 ** i)), [1, n, 1]);
  const y = tf.sum(tf.mul(bits, weights), 1, true);
  return tf.cast(tf.equal(y, tf.reshape(tf.range(0, 2 ** n, 1, 'float32'), [1, 2 ** n, 1])), 'float32');
}

export type Surrogate = 'straight-through' | 'pq';

/**
 * Spikes whose value is the sampled bits and whose gradient flows to the spike probabilities:
 * unchanged (straight-through) or scaled by p(1−p).
 */
export function surrogateSpikes(marginals: Tensor, bits: Tensor, kind: Surrogate): Tensor {
  const f = tf.customGrad(((p: Tensor, s: Tensor, save: (ts: Tensor[]) => void) => {
    save([p]);
    const sShape = s.shape;
    return {
      value: tf.clone(s),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [kind === 'pq' ? tf.mul(dy, tf.mul(saved[0], tf.sub(1, saved[0]))) : dy, tf.zeros(sShape)],
    };
  }) as any) as any;
  return f(marginals, bits);
}

export interface StepInput {
  circuit: Circuit;
  /** Dense per-row unitaries [R, D, D]; when absent, `angles` [R, G] drive the gate-by-gate path. */
  unitary?: Complex;
  /** `foldedUnitary(unitary, N)`, when the caller keeps it across steps (else built per step). */
  folded?: Tensor;
  angles?: Tensor;
  mem: Complex;
  /** Encoding angles φ [R, N, B]. */
  phi: Tensor;
  /** Uniforms [R, B] for sampling, or a forced outcome one-hot [R, 2^N, B]. */
  uniforms?: Tensor;
  forced?: Tensor;
}

export interface StepOutput {
  probs: Tensor;
  oneHot: Tensor;
  mem: Complex;
  /** Probability [R, B] of the outcome taken. */
  prob: Tensor;
}

/**
 * The dense unitary with the IO encoding's phases folded in, as one real matrix [R, K·2D, 2·2^M]
 * (K = 2^N). The register after the step is ψ = Σ_x a_x(φ)·U_x·e, where U_x = U[:, :, x + K·m] are
 * the columns that read IO input x and a_x = Π_n (x_n ? −i sin(φ_n/2) : cos(φ_n/2)) = (−i)^|x|·r_x
 * with r_x real. Block x of the result is the real form [[Re V, −Im V], [Im V, Re V]] of
 * V_x = (−i)^|x|·U_x, so that one real matMul against [e.re; e.im] gives every V_x·e at once.
 * Depends only on θ: compute it once per batch (`SqsLayer.prepare`) and pass it as `folded`.
 */
export function foldedUnitary(unitary: Complex, ioQubits: number): Tensor {
  const [r, d] = unitary.re.shape as number[];
  const k = 2 ** ioQubits;
  const dm = d / k;
  // Column j = x + K·m → [R, D, dm, K] → [R, K, D, dm].
  const cols = (t: Tensor) => tf.transpose(tf.reshape(t, [r, d, dm, k]), [0, 3, 1, 2]);
  const ure = cols(unitary.re);
  const uim = cols(unitary.im);
  // (−i)^|x| is 1, −i, −1, i for |x| mod 4 = 0..3: V = phase·U.
  const phRe = new Float32Array(k);
  const phIm = new Float32Array(k);
  for (let x = 0; x < k; x++) {
    let ones = 0;
    for (let b = x; b; b >>= 1) ones += b & 1;
    phRe[x] = [1, 0, -1, 0][ones % 4];
    phIm[x] = [0, -1, 0, 1][ones % 4];
  }
  const pr = tf.tensor4d(phRe, [1, k, 1, 1]);
  const pi = tf.tensor4d(phIm, [1, k, 1, 1]);
  const vre = tf.sub(tf.mul(ure, pr), tf.mul(uim, pi));
  const vim = tf.add(tf.mul(ure, pi), tf.mul(uim, pr));
  const top = tf.concat([vre, tf.neg(vim)], 3);
  const bottom = tf.concat([vim, vre], 3);
  return tf.reshape(tf.concat([top, bottom], 2), [r, k * 2 * d, 2 * dm]);
}

/** Real amplitudes r_x [R, K, B] of the IO encoding (a_x = (−i)^|x|·r_x), from angles φ [R, N, B]. */
function realIoAmplitudes(phi: Tensor): Tensor {
  const [r, n, b] = phi.shape as number[];
  const half = tf.mul(phi, 0.5);
  const co = tf.cos(half);
  const si = tf.sin(half);
  if (n === 1) return tf.concat([co, si], 1);
  let amp: Tensor | null = null;
  for (let q = 0; q < n; q++) {
    const c = tf.slice(co, [0, q, 0], [r, 1, b]);
    const s = tf.slice(si, [0, q, 0], [r, 1, b]);
    // Qubit q is bit q: outcomes x + 2^q·bit put bit = 1 in the upper half.
    amp = amp ? tf.concat([tf.mul(amp, c), tf.mul(amp, s)], 1) : tf.concat([c, s], 1);
  }
  return amp as Tensor;
}

/**
 * The dense step with the register as one real tensor (re rows over im rows) and the encoding folded
 * into the unitary (`foldedUnitary`): about half the tfjs ops of encoding, evolving and collapsing
 * complex pairs, which is what a GPU pays for per op. Same results up to float rounding.
 */
function denseStep(x: StepInput, folded: Tensor): StepOutput {
  const [r, dm, b] = x.mem.re.shape as number[];
  const k = 2 ** x.circuit.ioQubits;
  const d = k * dm;
  const evolved = tf.matMul(folded, tf.concat([x.mem.re, x.mem.im], 1)); // [R, K·2D, B]: every V_x·e
  const amp = tf.reshape(realIoAmplitudes(x.phi), [r, k, 1, b]);
  const psi = tf.sum(tf.mul(tf.reshape(evolved, [r, k, 2 * d, b]), amp), 1); // [R, 2D, B]
  // Index i = y + K·m of the register; re/im, then m, then y.
  const parts = tf.reshape(psi, [r, 2, dm, k, b]);
  const probs = tf.sum(tf.square(parts), [1, 2]); // [R, K, B]
  const oneHot = x.forced ?? sampleOneHot(probs, x.uniforms as Tensor);
  const branch = tf.sum(tf.mul(parts, tf.reshape(oneHot, [r, 1, 1, k, b])), 3); // [R, 2, dm, B]
  const prob = tf.sum(tf.square(branch), [1, 2]); // [R, B]
  // A zero-probability branch is only reachable by forcing; callers check forced outcomes first.
  const mem = tf.mul(branch, tf.reshape(tf.rsqrt(tf.maximum(prob, 1e-30)), [r, 1, 1, b]));
  const [re, im] = tf.split(tf.reshape(mem, [r, 2 * dm, b]), 2, 1);
  return { probs, oneHot, mem: { re, im }, prob };
}

/** Encode, evolve, measure (sample or force), collapse. */
export function sqsStep(x: StepInput): StepOutput {
  if (x.unitary) return denseStep(x, x.folded ?? foldedUnitary(x.unitary, x.circuit.ioQubits));
  const state = inputState(ioAmplitudes(x.phi), x.mem);
  const psi = evolveGates(x.circuit, x.angles as Tensor, state);
  const probs = outcomeProbabilities(psi, x.circuit.ioQubits);
  const oneHot = x.forced ?? sampleOneHot(probs, x.uniforms as Tensor);
  const { mem, prob } = collapseMemory(psi, oneHot, x.circuit.ioQubits);
  return { probs, oneHot, mem, prob };
}
