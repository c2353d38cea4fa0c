/**
 * Choose the tfjs backend: `tensorflow` (tfjs-node-gpu, then tfjs-node) when installed, else `wasm`,
 * else `cpu`. `--backend` / SQSNN_BACKEND override. Every choice records why the others were skipped.
 */
import { SqsnnError } from '../kernels/errors';
import { tf } from '../kernels/tf';
import { useFastWasmKernels } from '../kernels/wasm-kernels';
import { configureSqsStep, tensorflowFusedAllowed } from '../kernels/sqs-step/options';

export class BackendError extends SqsnnError {}

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCE: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendReport {
  backend: BackendName;
  tfjsVersion: string;
  skipped: { backend: string; reason: string }[];
  nodePackage?: string;
}

let report: BackendReport | null = null;

function tryRequire(name: string): { ok: true } | { ok: false; reason: string } {
  try {
    require.resolve(name);
  } catch {
    return { ok: false, reason: `${name} is not installed` };
  }
  try {
    require(name);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `${name} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function activate(name: BackendName, skipped: BackendReport['skipped']): Promise<{ ok: boolean; pkg?: string }> {
  if (name === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const r = tryRequire(pkg);
      if (!r.ok) {
        skipped.push({ backend: `tensorflow (${pkg})`, reason: r.reason });
        continue;
      }
      if (await tf.setBackend('tensorflow')) {
        // tfjs-node keeps tensors in host memory: the fused kernels run there too (not on a GPU build).
        configureSqsStep({ fusedOnTensorflow: pkg === '@tensorflow/tfjs-node' && tensorflowFusedAllowed() });
        return { ok: true, pkg };
      }
      skipped.push({ backend: `tensorflow (${pkg})`, reason: 'backend did not initialise' });
    }
    return { ok: false };
  }
  if (name === 'wasm') {
    const r = tryRequire('@tensorflow/tfjs-backend-wasm');
    if (!r.ok) {
      skipped.push({ backend: 'wasm', reason: r.reason });
      return { ok: false };
    }
    useFastWasmKernels();
  }
  try {
    if (await tf.setBackend(name)) {
      // The cpu backend otherwise prints an advert for tfjs-node on first use.
      if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
      return { ok: true };
    }
    skipped.push({ backend: name, reason: 'backend did not initialise' });
  } catch (e) {
    skipped.push({ backend: name, reason: (e as Error).message });
  }
  return { ok: false };
}

/** Initialise the backend once; later calls return the same report unless `requested` differs. */
export async function initBackend(requested?: string): Promise<BackendReport> {
  const want = requested || process.env.SQSNN_BACKEND || '';
  if (report && (!want || want === report.backend)) return report;
  if (want && !BACKEND_PREFERENCE.includes(want as BackendName))
    throw new BackendError(`unknown backend '${want}': choose one of ${BACKEND_PREFERENCE.join(', ')}`);
  const order = want ? [want as BackendName] : BACKEND_PREFERENCE;
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    const got = await activate(name, skipped);
    if (got.ok) {
      await tf.ready();
      for (const other of BACKEND_PREFERENCE)
        if (other !== name && !skipped.some((s) => s.backend.startsWith(other)))
          skipped.push({ backend: other, reason: want ? `backend ${want} was requested` : `${name} is preferred` });
      report = { backend: name, tfjsVersion: tf.version.tfjs, skipped, ...(got.pkg ? { nodePackage: got.pkg } : {}) };
      return report;
    }
  }
  throw new BackendError(`backend '${want || 'any'}' is not available: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

export function currentBackend(): BackendName {
  return tf.getBackend() as BackendName;
}
