/**
 * One Adam update of a parameter, p ← p − s·m̂/(√v̂ + ε) with m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²
 * and g the gradient times a clip factor (the bias corrections folded into the step size s).
 * On the host-memory backends (cpu, wasm, tfjs-node's host tensorflow) one pass over the arrays in a
 * kernel, `SqsAdam` — the composed expression is twelve passes, ~9 ms a step for the 800k
 * parameters of 784-1000-10 on wasm; elsewhere (a GPU) the composed ops, which stay on the device.
 * The kernel runs the SIMD module's `adam` (float32, four at a time, as the composed ops compute), or
 * without WebAssembly SIMD a loop in double: both agree with the composed ops to float32 rounding.
 */
import { hostArrays, HostBackendName, TensorInfoLike } from './host-arrays';
import { sqsStepOptions } from './sqs-step/options';
import { runAdam, wasmBackendHeap } from './sqs-step/simd';
import { tf, Tensor } from './tf';

export interface AdamScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ). */
  stepSize: number;
}

export const ADAM_KERNEL = 'SqsAdam';
const HOST_BACKENDS: HostBackendName[] = ['cpu', 'wasm', 'tensorflow'];

/** Whether the one-pass kernel runs here (tensorflow only on host memory: option `fusedOnTensorflow`). */
export function adamKernelApplies(backendName: string = tf.getBackend()): boolean {
  if (backendName === 'tensorflow') return sqsStepOptions().fusedOnTensorflow;
  return backendName === 'cpu' || backendName === 'wasm';
}

/** [p, m, v] after one step; `clip` is a scalar tensor (min(1, c/‖g‖)) or null. No gradient. */
export function adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, clip: Tensor | null, s: AdamScalars): [Tensor, Tensor, Tensor] {
  if (adamKernelApplies()) {
    registerAdamKernel();
    const inputs = { param, m, v, grad, clip: clip ?? tf.scalar(1) };
    return tf.engine().runKernel(ADAM_KERNEL, inputs as never, { ...s } as never) as unknown as [Tensor, Tensor, Tensor];
  }
  return adamComposed(param, m, v, grad, clip, s);
}

/** The same update as composed tfjs ops (what a GPU runs). */
export function adamComposed(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, clip: Tensor | null, s: AdamScalars): [Tensor, Tensor, Tensor] {
  return tf.tidy(() => {
    const g = clip ? tf.mul(grad, clip) : grad;
    const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const p2 = tf.sub(param, tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), s.epsilon)), s.stepSize));
    return [p2, m2, v2];
  });
}

function adamKernel(backendName: HostBackendName) {
  return ({ inputs, attrs, backend }: { inputs: Record<string, TensorInfoLike>; attrs: AdamScalars; backend: unknown }): TensorInfoLike[] => {
    const { param, m, v, grad, clip } = inputs;
    const n = param.shape.reduce((a, b) => a * b, 1);
    for (const t of [m, v, grad]) {
      if (t.shape.reduce((a, b) => a * b, 1) !== n) throw new Error(`${ADAM_KERNEL}: ${JSON.stringify(t.shape)} does not match the parameter ${JSON.stringify(param.shape)}`);
    }
    for (const t of [param, m, v, grad, clip]) if (t.dtype !== 'float32') throw new Error(`${ADAM_KERNEL}: inputs must be float32`);
    const { infos, outs, read } = hostArrays(backendName, backend, [param.shape, param.shape, param.shape]);
    const [p2, m2, v2] = outs;
    const p = read(param);
    const m1 = read(m);
    const v1 = read(v);
    const g = read(grad);
    const c = read(clip)[0];
    const { beta1, beta2, epsilon, stepSize } = attrs;
    // WebAssembly SIMD (in place on wasm's heap) where available, in float32 as the composed ops.
    if (runAdam(p, m1, v1, g, [p2, m2, v2], c, beta1, beta2, epsilon, stepSize, backendName === 'wasm' ? wasmBackendHeap(backend) : null)) return infos;
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    for (let i = 0; i < n; i++) {
      const gi = g[i] * c;
      const mi = beta1 * m1[i] + a1 * gi;
      const vi = beta2 * v1[i] + a2 * gi * gi;
      m2[i] = mi;
      v2[i] = vi;
      p2[i] = p[i] - stepSize * (mi / (Math.sqrt(vi) + epsilon));
    }
    return infos;
  };
}

let registered = false;

/** Registers the kernel on the host-memory backends (idempotent; nothing registers on import). */
export function registerAdamKernel(): void {
  if (registered) return;
  for (const backendName of HOST_BACKENDS)
    if (!tf.getKernel(ADAM_KERNEL, backendName)) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc: adamKernel(backendName) as unknown as tf.KernelFunc });
  registered = true;
}
