/**
 * The local rule's step of an SQS layer as one kernel on the host-memory backends (`cpu`, `wasm`,
 * and `tensorflow` with tfjs-node, as the SQS step's kernels; `SqsEligibility`): the step itself (sampled or forced), the same outcome forced through every
 * parameter-shifted circuit and every encoding shift φ_n ± π/2, and the log-derivatives
 * ∂log p(y)/∂θ, ∂log p(y)/∂φ, ∂log p(y)/∂z. The composed path in src/neurons/sqs.ts
 * (`SqsLayer.eligibility`) does the same with some thirty tfjs ops per step; on a GPU those ops are
 * what runs, on the CPU backends their launches cost more than the arithmetic (a paper-network
 * layer is 2 neurons × 100 samples). Both steps go through the SQS step's own loops
 * (sqs-step/forward.ts), and every float32 operation rounds as the cpu or wasm op it replaces, so
 * there both paths give the same numbers (test/local-kernel.test.ts); TensorFlow's own ops round
 * some sums differently.
 */
import { ForwardJob } from './sqs-step/forward';
import { runRowJob } from './sqs-step/pool';
import { sqsStepOptions } from './sqs-step/options';
import { SQS_STEP_MAX_DIM } from './sqs-step';
import { hostArrays } from './host-arrays';
import { tf } from './tf';

export const SQS_ELIGIBILITY_KERNEL = 'SqsEligibility';
/** On `tensorflow` only while its tensors live in host memory (option `fusedOnTensorflow`, as the SQS step's kernels). */
const BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;
type Backend = (typeof BACKENDS)[number];

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

const f32 = Math.fround;
const PI32 = f32(Math.PI);
const HALF_PI32 = f32(Math.PI / 2);
const P_FLOOR = f32(1e-12);

let enabled = true;

/** Switch the kernel off (the composed ops run instead) or on; returns the previous setting. For tests and benchmarks. */
export function useEligibilityKernel(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/** Whether the kernel runs a layer here: dense unitaries of dimension D on a host-memory backend, exact probabilities (no shots). */
export function eligibilityKernelApplies(d: number, shots: number, backendName: string = tf.getBackend()): boolean {
  if (!(enabled && shots === 0 && d <= SQS_STEP_MAX_DIM)) return false;
  if (backendName === 'tensorflow') return sqsStepOptions().fusedOnTensorflow;
  return (BACKENDS as readonly string[]).includes(backendName);
}

const EMPTY = new Float32Array(0);
const scratchArrays = new Map<string, Float32Array>();

/** A reusable work array of at least `length` elements (views of exactly `length`; contents undefined). */
function scratch(name: string, length: number): Float32Array {
  let a = scratchArrays.get(name);
  if (!a || a.length < length) scratchArrays.set(name, (a = new Float32Array(Math.ceil(length * 1.25))));
  return a.subarray(0, length);
}

const scratch64Arrays = new Map<string, Float64Array>();

function scratch64(name: string, length: number): Float64Array {
  let a = scratch64Arrays.get(name);
  if (!a || a.length < length) scratch64Arrays.set(name, (a = new Float64Array(Math.ceil(length * 1.25))));
  return a.subarray(0, length);
}

/** One-hot outcomes [H, 2^N, B] of spikes [H, N, B] (bits 0/1): outcome y = Σ_n s_n·2^n. */
function oneHotFromBits(spikes: Float32Array, out: Float32Array, h: number, n: number, b: number): void {
  const outcomes = 2 ** n;
  out.fill(0);
  for (let r = 0; r < h; r++)
    for (let j = 0; j < b; j++) {
      let y = 0;
      for (let q = 0; q < n; q++) if (spikes[(r * n + q) * b + j] > 0.5) y |= 1 << q;
      out[(r * outcomes + y) * b + j] = 1;
    }
}

/** A forward job over all rows (options the job may grow, e.g. a SIMD path, keep their defaults). */
function forwardJob(fields: Omit<ForwardJob, 'r0' | 'r1' | 'rowBase' | 'k1' | 'k2' | 'specialise' | 'simd'>, rows: number): ForwardJob {
  // The same step loops (SIMD or not) as the SQS-step op the composed eligibility calls.
  return { ...fields, r0: 0, r1: rows, rowBase: 0, k1: 0, k2: 0, specialise: sqsStepOptions().specialise, simd: sqsStepOptions().simd } as ForwardJob;
}

/**
 * Inputs: uRe, uIm [(1 + C)·H, D, D] (the layer's own unitaries, then the C stacked copies: S
 * shifted circuits, then the unshifted one 2N times, copy-major), memRe, memIm [H, 2^M, B],
 * z [H, N, B] (currents), coeffs [K + N, C] (see LocalShifts in src/neurons/sqs.ts), and either
 * uniforms [H, B] (attr mode 0) or the given spikes [H, N, B] (mode 2). Attr oneSided: ∂log p/∂z where z ≤ 0.
 * Outputs: probs [H, 2^N, B], (mode 0: the sampled spikes [H, N, B]), memRe, memIm, prob [H, B],
 * spikeProb [H, N, B], dTheta [H, K, B], dPhi [H, N, B], dCurrent [H, N, B]. (log p(y) is left to tf.log: wasm's log
 * rounds differently from Math.log in the last bit, and the composed path uses tf.log.)
 */
function eligibilityKernel(backendName: Backend) {
  const fail = (msg: string): never => {
    throw new Error(`${SQS_ELIGIBILITY_KERNEL}: ${msg}`);
  };
  return ({ inputs, attrs, backend }: { inputs: Record<string, Info>; attrs?: Record<string, unknown>; backend: unknown }): Info[] => {
    const mode = Number(attrs?.mode ?? 0);
    const oneSided = Boolean(attrs?.oneSided);
    const { uRe, uIm, memRe, memIm, z, coeffs } = inputs;
    const [h, dm, b] = memRe.shape;
    const n = z.shape[1];
    const outcomes = 2 ** n;
    const d = outcomes * dm;
    const [kn, copies] = coeffs.shape;
    const k = kn - n;
    const s = copies - 2 * n;
    if (z.shape[0] !== h || z.shape[2] !== b) fail(`currents ${JSON.stringify(z.shape)} do not match memory ${JSON.stringify(memRe.shape)}`);
    if (uRe.shape[0] !== (1 + copies) * h || uRe.shape[1] !== d || uRe.shape[2] !== d || uIm.shape[0] !== uRe.shape[0]) fail(`unitaries ${JSON.stringify(uRe.shape)} for H = ${h}, D = ${d}, ${copies} copies`);
    if (k < 0 || s < 0) fail(`coefficients ${JSON.stringify(coeffs.shape)} for N = ${n}`);
    if (d > SQS_STEP_MAX_DIM) fail(`D = ${d} is above ${SQS_STEP_MAX_DIM}`);
    const extra = mode === 0 ? inputs.uniforms : inputs.spikes;
    if (!extra) fail(mode === 0 ? 'mode 0 needs uniforms' : 'mode 2 needs spikes');
    for (const t of [uRe, uIm, memRe, memIm, z, coeffs, extra]) if (t.dtype !== 'float32') fail(`inputs must be float32, got ${t.dtype}`);

    const shapes = [[h, outcomes, b], ...(mode === 0 ? [[h, n, b]] : []), [h, dm, b], [h, dm, b], [h, b], [h, n, b], [h, k, b], [h, n, b], [h, n, b]];
    const { infos, outs, read } = hostArrays(backendName, backend, shapes);
    const [probs, outRe, outIm, prob, spikeProb, dTheta, dPhi, dCurrent] = mode === 0 ? [outs[0], ...outs.slice(2)] : outs;
    const spikes = mode === 0 ? outs[1] : read(extra);
    const zs = read(z);
    const uAllRe = read(uRe);
    const uAllIm = read(uIm);
    const own = h * d * d; // the step's own unitaries come first
    const mRe = read(memRe);
    const mIm = read(memIm);
    const cf = read(coeffs);

    // φ = π·max(z, 0), as tf.mul(tf.relu(z), π) rounds it.
    const rows = copies * h;
    const block = h * n * b;
    const phi = scratch('phi', block);
    for (let i = 0; i < block; i++) phi[i] = f32((zs[i] > 0 ? zs[i] : 0) * PI32);
    // The step itself; outcome y as a one-hot [H, 2^N, B], forced from the given spikes or sampled.
    const taken = scratch('taken', h * outcomes * b);
    if (mode === 2) oneHotFromBits(spikes, taken, h, n, b);
    runRowJob('forward', 
      forwardJob({ n, dm, b, mode, uRe: uAllRe, uIm: uAllIm, memRe: mRe, memIm: mIm, phi, uni: mode === 0 ? read(extra) : EMPTY, forced: mode === 0 ? EMPTY : taken, probs, oneHot: mode === 0 ? taken : EMPTY, outRe, outIm, prob }, h),
      h,
    );
    // Per IO qubit: the spike, and its probability Σ_{y: bit n set} p(y) (summed as perQubit's matMul).
    const sumInDouble = backendName === 'cpu';
    for (let r = 0; r < h; r++)
      for (let q = 0; q < n; q++)
        for (let j = 0; j < b; j++) {
          let p = 0;
          let spike = 0;
          for (let y = 0; y < outcomes; y++)
            if ((y >> q) & 1) {
              const at = (r * outcomes + y) * b + j;
              p = sumInDouble ? p + probs[at] : f32(p + probs[at]);
              spike += taken[at];
            }
          spikeProb[(r * n + q) * b + j] = f32(p);
          if (mode === 0) spikes[(r * n + q) * b + j] = spike;
        }

    // The taken outcome forced through every stacked row: the memory and the outcome repeated, φ shifted.
    const memBlock = h * dm * b;
    const outcomeBlock = h * outcomes * b;
    const sPhi = scratch('sPhi', rows * n * b);
    const sMemRe = scratch('sMemRe', rows * dm * b);
    const sMemIm = scratch('sMemIm', rows * dm * b);
    const sForced = scratch('sForced', rows * outcomes * b);
    for (let c = 0; c < copies; c++) {
      sPhi.set(phi, c * block);
      sMemRe.set(mRe, c * memBlock);
      sMemIm.set(mIm, c * memBlock);
      sForced.set(taken, c * outcomeBlock);
    }
    // Rows s + q: φ_q + π/2; rows s + n + q: φ_q − π/2 (as tf.add rounds the sum).
    for (let q = 0; q < n; q++)
      for (let r = 0; r < h; r++) {
        const plus = (s + q) * block + (r * n + q) * b;
        const minus = (s + n + q) * block + (r * n + q) * b;
        for (let j = 0; j < b; j++) {
          sPhi[plus + j] = f32(sPhi[plus + j] + HALF_PI32);
          sPhi[minus + j] = f32(sPhi[minus + j] - HALF_PI32);
        }
      }
    const sProb = scratch('sProb', rows * b);
    const sOut = { probs: scratch('sProbs', rows * outcomes * b), outRe: scratch('sOutRe', rows * dm * b), outIm: scratch('sOutIm', rows * dm * b) };
    runRowJob('forward', forwardJob({ n, dm, b, mode: 2, uRe: uAllRe.subarray(own), uIm: uAllIm.subarray(own), memRe: sMemRe, memIm: sMemIm, phi: sPhi, uni: EMPTY, forced: sForced, oneHot: EMPTY, prob: sProb, ...sOut }, rows), rows);

    // [∂p/∂θ; ∂p/∂φ] = coeffs · p(shifted) summed as the backend's matMul sums (wasm in float32, in
    // order; cpu in double, rounded once), divided by p(y).
    const hb = h * b;
    const inv = scratch64('inv', hb);
    for (let col = 0; col < hb; col++) {
      const p = prob[col];
      inv[col] = p > 0 ? f32(1 / (p > P_FLOOR ? p : P_FLOOR)) : 0;
    }
    const acc = scratch64('acc', hb);
    for (let row = 0; row < kn; row++) {
      acc.fill(0);
      // Zero coefficients (most of them) add exact zeros: skipped.
      for (let c = 0; c < copies; c++) {
        const w = cf[row * copies + c];
        if (w === 0) continue;
        const at = c * hb;
        if (sumInDouble) for (let col = 0; col < hb; col++) acc[col] += w * sProb[at + col];
        else for (let col = 0; col < hb; col++) acc[col] = f32(acc[col] + f32(w * sProb[at + col]));
      }
      const q = row - k;
      for (let r = 0; r < h; r++)
        for (let j = 0; j < b; j++) {
          const v = f32(f32(acc[r * b + j]) * inv[r * b + j]);
          if (q < 0) dTheta[(r * k + row) * b + j] = v;
          else {
            const at = (r * n + q) * b + j;
            dPhi[at] = v;
            dCurrent[at] = f32((oneSided || zs[at] > 0 ? v : 0) * PI32);
          }
        }
    }
    return infos;
  };
}

let registered = false;

/** Registers the kernel on the host-memory backends (idempotent; nothing registers on import). */
export function registerEligibilityKernel(): void {
  if (registered) return;
  for (const backendName of BACKENDS)
    if (!tf.getKernel(SQS_ELIGIBILITY_KERNEL, backendName))
      tf.registerKernel({ kernelName: SQS_ELIGIBILITY_KERNEL, backendName, kernelFunc: eligibilityKernel(backendName) as unknown as tf.KernelFunc });
  registered = true;
}
