/**
 * Synapses: channel n of a neuron receives channel n of its presynaptic spikes,
 * z[h, n, b] = Σ_p W[n, h, p] x[p, n, b] (+ bias). For one channel this is an ordinary dense layer.
 */
import { rowDenseProduct, rowSparseProduct, sparseInputProduct, sparseInputSupported } from './sqs-step';
import { matMulNT, tf, Tensor } from './tf';

/**
 * W @ x with a gradient that transposes explicitly: tfjs's own MatMul gradient computes dW with
 * matMul(dy, x, false, true), which dominates BPTT on wasm (see matMulNT).
 */
const denseMatMul: (w: Tensor, x: Tensor) => Tensor = tf.customGrad(((w: Tensor, x: Tensor, save: (t: Tensor[]) => void) => {
  save([w, x]);
  return {
    value: tf.matMul(w, x),
    gradFunc: (dy: Tensor, saved: Tensor[]) => [matMulNT(dy, saved[1]), tf.matMul(tf.transpose(saved[0]), dy)],
  };
}) as never) as never;

/**
 * W @ x where x is data (no gradient wanted): the backward pass computes only dW. The dense version
 * also computes dx = Wᵀ·dy, a matmul as large as the forward one, which is thrown away for inputs.
 */
function constantInputMatMul(w: Tensor, x: Tensor): Tensor {
  if (sparseInputSupported()) return sparseInputMatMul(w, x);
  const f = tf.customGrad(((wIn: Tensor, save: (t: Tensor[]) => void) => {
    save([x]);
    return { value: tf.matMul(wIn, x), gradFunc: (dy: Tensor, saved: Tensor[]) => [matMulNT(dy, saved[0])] };
  }) as never) as unknown as (w: Tensor) => Tensor;
  return f(w);
}

/**
 * The same product over sparse data (rate-coded spikes: ~85 % zeros on Fashion-MNIST): both
 * z = W·x and dW = dy·xᵀ visit only the nonzero x, adding rows of a transposed W (or dy) with SIMD
 * (`sparseInputProduct`). The transposes are of W, dy and x, small next to the products they replace.
 */
function sparseInputMatMul(w: Tensor, x: Tensor): Tensor {
  // Through Wᵀ: the tape's Transpose turns the kernel's dWᵀ back into dW (one transpose each way).
  return sparseInputMatMulT(tf.transpose(w), x);
}

/**
 * Up to this many neurons (H), the data products run dense along P: the sparse kernel's work per
 * nonzero entry (~10 cycles) outweighs what skipping zeros saves when each adds only H values.
 */
const NARROW = 8;

/**
 * W·x [H, B] for weights W [H, P] and data given sample-major, xT [B, P]: on cpu and wasm a kernel
 * that reads each sample's row and visits only its nonzero entries (spikes), elsewhere a matmul.
 */
export function dataProduct(w: Tensor, xT: Tensor): Tensor {
  if (!sparseInputSupported()) return tf.matMul(w, xT, false, true);
  if ((w.shape[0] as number) <= NARROW) return rowDenseProduct(xT, w, false);
  return tf.transpose(rowSparseProduct(xT, tf.transpose(w), false));
}

/**
 * Σ_b e[:, b]·x[b, :] [H, P] for e [H, B] and data xT [B, P] (a weight update from presynaptic
 * spikes), visiting only the nonzero x on cpu and wasm.
 */
export function dataOuterProduct(e: Tensor, xT: Tensor): Tensor {
  if (!sparseInputSupported()) return tf.matMul(e, xT);
  if ((e.shape[0] as number) <= NARROW) return rowDenseProduct(xT, e, true);
  return tf.transpose(rowSparseProduct(xT, tf.transpose(e), true));
}

export interface SynapseOptions {
  /**
   * The presynaptic spikes are data, not a function of anything being differentiated: skip their
   * gradient (a tape then sees none flow to them). Only for inputs; hidden spikes carry gradients.
   */
  constantInput?: boolean;
  /**
   * With `constantInput`, one channel and the sparse kernel: the weights transposed, Wᵀ [P, H], made
   * once for all T steps by `transposedInputWeight` (and differentiated through it), instead of a
   * transpose of W per step and of its gradient per step.
   */
  weightT?: Tensor;
}

/**
 * Wᵀ [P, H] of a one-channel synapse's weights [1, H, P] for `SynapseOptions.weightT`, where the
 * sparse kernel runs (else null): under a tape its gradient is one transpose of the summed dWᵀ.
 */
export function transposedInputWeight(weights: Tensor): Tensor | null {
  const [n, h, p] = weights.shape as number[];
  if (n !== 1 || !sparseInputSupported()) return null;
  return tf.transpose(tf.reshape(weights, [h, p]));
}

/** W·x [H, B] from Wᵀ [P, H] and data x [P, B]; the gradient is dWᵀ [P, H] (see `SynapseOptions.weightT`). */
function sparseInputMatMulT(wt: Tensor, x: Tensor): Tensor {
  const f = tf.customGrad(((wtIn: Tensor, save: (t: Tensor[]) => void) => {
    save([x]);
    return {
      value: tf.transpose(sparseInputProduct(wtIn, x)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [sparseInputProduct(tf.transpose(dy), tf.transpose(saved[0]))],
    };
  }) as never) as unknown as (wt: Tensor) => Tensor;
  return f(wt);
}

/**
 * Currents [H, N, B] from weights W [N, H, P], presynaptic spikes x [P, Nin, B] (Nin = N, or 1 to
 * feed every channel the same input) and an optional bias [N, H, 1].
 */
export function synapseCurrents(weights: Tensor, pre: Tensor, bias?: Tensor, opts: SynapseOptions = {}): Tensor {
  const [n, h, p] = weights.shape as number[];
  const [pp, nin, b] = pre.shape as number[];
  if (pp !== p) throw new Error(`synapse expects ${p} presynaptic neurons, got ${pp}`);
  if (nin !== n && nin !== 1) throw new Error(`synapse expects 1 or ${n} presynaptic channels, got ${nin}`);
  let z: Tensor;
  if (n === 1) {
    const x = nin === 1 ? tf.reshape(pre, [p, b]) : tf.reshape(tf.slice(pre, [0, 0, 0], [p, 1, b]), [p, b]);
    z = opts.constantInput && opts.weightT ? sparseInputMatMulT(opts.weightT, x) : (opts.constantInput ? constantInputMatMul : denseMatMul)(tf.reshape(weights, [h, p]), x);
    if (bias) z = tf.add(z, tf.reshape(bias, [h, 1]));
    return tf.reshape(z, [h, 1, b]);
  }
  let x = tf.transpose(pre, [1, 0, 2]);
  if (nin === 1) x = tf.tile(x, [n, 1, 1]);
  z = tf.matMul(weights, x);
  if (bias) z = tf.add(z, bias);
  return tf.transpose(z, [1, 0, 2]);
}

/** Sum of several synapse contributions (e.g. a skip connection into the same layer). */
export function addCurrents(parts: Tensor[]): Tensor {
  return parts.length === 1 ? parts[0] : tf.addN(parts);
}
