/**
 * Density-matrix mode, needed only for noise. The register's ρ [R, D, D, B] is handled as a vector
 * [R, D², B] on 2·N_tot virtual qubits (flat index i·D + j): the column index j holds the low N_tot
 * bits and the row index i the high ones, so UρU† is U on the row qubits and U* on the column
 * qubits, with no transposes. Noise channels act on every qubit after each gate layer.
 */
import { SqsnnError } from './errors';
import { assertStepFits } from './memory';
import { applyOneQubit } from './apply';
import { Circuit } from './circuit';
import { Complex, cadd, cmul, cconj, creshape, csum } from './complex';
import { Matrix2, conjMatrix } from './gates';
import { opMatrices } from './evolve';
import { ioAmplitudes } from './statevector';
import { sampleOneHot } from './statevector';
import { tf, Tensor } from './tf';

export class NoiseError extends SqsnnError {}

export interface NoiseSpec {
  /** Amplitude-damping time T1 (same unit as gateTime). */
  t1?: number;
  /** Coherence time T2 ≤ 2·T1; dephasing beyond what T1 causes. */
  t2?: number;
  /** Duration of one gate layer (default 1). */
  gateTime?: number;
  /** Single-qubit depolarising probability per layer. */
  depolarizing?: number;
}

/** Kraus operators (per qubit, applied after each layer) for a noise spec; empty when noiseless. */
export function noiseKraus(noise: NoiseSpec | undefined): Matrix2[][] {
  if (!noise) return [];
  const dt = noise.gateTime ?? 1;
  const pos = (x: number | undefined, name: string) => {
    if (x !== undefined && !(typeof x === 'number' && x > 0 && Number.isFinite(x)))
      throw new NoiseError(`noise.${name} must be a positive number, got ${JSON.stringify(x)}`);
  };
  pos(noise.t1, 't1');
  pos(noise.t2, 't2');
  pos(noise.gateTime, 'gateTime');
  const channels: Matrix2[][] = [];
  const c = (re: number, im = 0) => ({ re, im });
  if (noise.t1 !== undefined) {
    const g = 1 - Math.exp(-dt / noise.t1);
    channels.push([
      [c(1), c(0), c(0), c(Math.sqrt(1 - g))],
      [c(0), c(Math.sqrt(g)), c(0), c(0)],
    ]);
  }
  if (noise.t2 !== undefined) {
    if (noise.t1 !== undefined && noise.t2 > 2 * noise.t1)
      throw new NoiseError(`noise.t2 (${noise.t2}) must be ≤ 2·t1 (${2 * noise.t1})`);
    const rate = 1 / noise.t2 - (noise.t1 !== undefined ? 1 / (2 * noise.t1) : 0);
    const p = (1 - Math.exp(-dt * rate)) / 2;
    if (p > 0)
      channels.push([
        [c(Math.sqrt(1 - p)), c(0), c(0), c(Math.sqrt(1 - p))],
        [c(Math.sqrt(p)), c(0), c(0), c(-Math.sqrt(p))],
      ]);
  }
  if (noise.depolarizing !== undefined) {
    const p = noise.depolarizing;
    if (!(p >= 0 && p <= 1)) throw new NoiseError(`noise.depolarizing must be in [0, 1], got ${p}`);
    const a = Math.sqrt(1 - (3 * p) / 4);
    const b = Math.sqrt(p / 4);
    channels.push([
      [c(a), c(0), c(0), c(a)],
      [c(0), c(b), c(b), c(0)],
      [c(0), c(0, -b), c(0, b), c(0)],
      [c(b), c(0), c(0), c(-b)],
    ]);
  }
  return channels;
}

/** |m⟩⟨m| [R, Dm, Dm, B] from a pure memory state [R, Dm, B]. */
export function densityFromPure(mem: Complex): Complex {
  const [r, dm, b] = mem.re.shape as number[];
  return cmul(creshape(mem, [r, dm, 1, b]), cconj(creshape(mem, [r, 1, dm, b])));
}

/** Apply a one-qubit operator K on register qubit q as ρ → KρK† (one Kraus term). */
function sandwich(rho: Complex, nQubits: number, k: Matrix2, q: number, control?: number): Complex {
  const rowSide = applyOneQubit(rho, 2 * nQubits, k, nQubits + q, control === undefined ? undefined : nQubits + control);
  return applyOneQubit(rowSide, 2 * nQubits, conjMatrix(k), q, control);
}

/** One channel Σ_k K_k ρ K_k† on qubit q. */
export function applyChannel(rho: Complex, nQubits: number, kraus: Matrix2[], q: number): Complex {
  let out: Complex | null = null;
  for (const k of kraus) {
    const term = sandwich(rho, nQubits, k, q);
    out = out ? cadd(out, term) : term;
  }
  return out as Complex;
}

/** Circuit layers with noise after each, on ρ as [R, D², B]. */
export function evolveDensity(circuit: Circuit, angles: Tensor, rho: Complex, noise?: NoiseSpec): Complex {
  const mats = opMatrices(circuit, angles);
  const channels = noiseKraus(noise);
  const n = circuit.totalQubits;
  let s = rho;
  let start = 0;
  for (const end of circuit.layerEnds) {
    for (let i = start; i <= end; i++) {
      const op = circuit.ops[i];
      s = op.qubits.length === 2 ? sandwich(s, n, mats[i], op.qubits[1], op.qubits[0]) : sandwich(s, n, mats[i], op.qubits[0]);
    }
    start = end + 1;
    for (const ch of channels) for (let q = 0; q < n; q++) s = applyChannel(s, n, ch, q);
  }
  return s;
}

export interface DensityStepInput {
  circuit: Circuit;
  angles: Tensor;
  /** Memory density matrices [R, Dm, Dm, B]. */
  rhoMem: Complex;
  /** Encoding angles φ [R, N, B]. */
  phi: Tensor;
  noise?: NoiseSpec;
  uniforms?: Tensor;
  forced?: Tensor;
  /** Do not condition on an outcome: the memory becomes Σ_y Tr_IO[Π_y ρ Π_y] (trace 1). */
  average?: boolean;
}

export interface DensityStepOutput {
  probs: Tensor;
  oneHot: Tensor | null;
  rhoMem: Complex;
  prob: Tensor;
  /** Full register state after the circuit, [R, D, D, B]. */
  rho: Complex;
}

export function densityStep(x: DensityStepInput): DensityStepOutput {
  const { circuit } = x;
  const k = 2 ** circuit.ioQubits;
  const dm = 2 ** circuit.memoryQubits;
  const d = circuit.dim;
  const [r, , b] = x.phi.shape as number[];
  assertStepFits('one density-mode step', { qubits: circuit.totalQubits, gates: circuit.ops.length }, r * b, 'density');
  const a = ioAmplitudes(x.phi);
  const aa = cmul(creshape(a, [r, k, 1, b]), cconj(creshape(a, [r, 1, k, b])));
  // ρ_in[(y, m), (y', m')] = σ[m, m'] · a_y a*_y'; row index y + K·m.
  // σ is broadcast explicitly: TensorFlow's binary ops take at most 5 broadcast groups, and this
  // product alternates 6 ("Broadcast between … is not supported yet" on the tensorflow backend).
  const sigma = creshape(x.rhoMem, [r, dm, 1, dm, 1, b]);
  const full = [r, dm, k, dm, k, b];
  const rhoIn = cmul({ re: tf.broadcastTo(sigma.re, full), im: tf.broadcastTo(sigma.im, full) }, creshape(aa, [r, 1, k, 1, k, b]));
  const rho = creshape(evolveDensity(circuit, x.angles, creshape(rhoIn, [r, d * d, b]), x.noise), [r, d, d, b]);
  const diag = tf.sum(tf.mul(rho.re, tf.reshape(tf.eye(d), [1, d, d, 1])), 2);
  const probs = tf.sum(tf.reshape(diag, [r, dm, k, b]), 1);
  const oneHot = x.average ? null : x.forced ?? sampleOneHot(probs, x.uniforms as Tensor);
  const weights = oneHot ?? tf.ones([r, k, b]);
  const mask = tf.mul(tf.reshape(weights, [r, 1, k, 1, 1, b]), tf.reshape(tf.eye(k), [1, 1, k, 1, k, 1]));
  const blocks = creshape(rho, [r, dm, k, dm, k, b]);
  const sel = csum({ re: tf.mul(blocks.re, mask), im: tf.mul(blocks.im, mask) }, [2, 4]);
  const prob = oneHot ? tf.sum(tf.mul(probs, oneHot), 1) : tf.ones([r, b]);
  const inv = tf.reshape(tf.div(1, tf.maximum(prob, 1e-30)), [r, 1, 1, b]);
  return { probs, oneHot, rhoMem: { re: tf.mul(sel.re, inv), im: tf.mul(sel.im, inv) }, prob, rho };
}
