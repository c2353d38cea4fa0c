/**
 * Glue between circuit specs (plain data, the engine's input format) and the independent float64
 * reference in `sim64.ts`, plus random test data. Nothing here calls engine kernels: a spec and a
 * name → angle map are turned into a `RefCircuit` by reading the data directly.
 */
import { RefCircuit, RefGateName, isParametric, isTwoQubit, mulberry32 } from './sim64';

/** The engine's circuit spec shape, restated so the reference does not depend on engine types. */
export interface SpecGate {
  gate: RefGateName;
  qubits: number[];
  param?: string;
}
export interface Spec {
  ioQubits: number;
  memoryQubits: number;
  layers: SpecGate[][];
}

/** Concrete reference circuit for one neuron whose named parameters take the values `theta`. */
export function refCircuit(spec: Spec, theta: Record<string, number>): RefCircuit {
  return {
    n: spec.ioQubits,
    nm: spec.memoryQubits,
    layers: spec.layers.map((layer) =>
      layer.map((g) => {
        if (!isParametric(g.gate)) return { gate: g.gate, qubits: g.qubits.slice() };
        const a = theta[g.param as string];
        if (typeof a !== 'number') throw new Error(`no value for parameter ${g.param}`);
        return { gate: g.gate, qubits: g.qubits.slice(), angle: a };
      }),
    ),
  };
}

/** Distinct parameter names of a spec (any order). */
export function specParams(spec: Spec): string[] {
  const s = new Set<string>();
  for (const layer of spec.layers) for (const g of layer) if (g.param) s.add(g.param);
  return [...s];
}

export type Rand = () => number;

export function rng(seed: number): Rand {
  return mulberry32(seed);
}

export function randInt(r: Rand, lo: number, hiExclusive: number): number {
  return lo + Math.floor(r() * (hiExclusive - lo));
}

export function randUniform(r: Rand, lo: number, hi: number): number {
  return lo + (hi - lo) * r();
}

/**
 * A random circuit on N IO + N_M memory qubits using every gate type the register allows (all ten
 * when N_tot ≥ 2), in random order, split into random layers; some parameter names are shared
 * between gates so the name → occurrence mapping is exercised.
 */
export function randomSpec(r: Rand, n: number, nm: number, extraGates = 6): Spec {
  const nq = n + nm;
  const names: RefGateName[] = ['RX', 'RY', 'RZ', 'H', 'X'];
  if (nq >= 2) names.push('CRX', 'CRY', 'CRZ', 'CNOT', 'CZ');
  const seq: RefGateName[] = names.slice();
  for (let i = 0; i < extraGates; i++) seq.push(names[randInt(r, 0, names.length)]);
  // Fisher–Yates shuffle.
  for (let i = seq.length - 1; i > 0; i--) {
    const j = randInt(r, 0, i + 1);
    [seq[i], seq[j]] = [seq[j], seq[i]];
  }
  const gates: SpecGate[] = [];
  let paramCount = 0;
  for (const gate of seq) {
    let qubits: number[];
    if (isTwoQubit(gate)) {
      const c = randInt(r, 0, nq);
      let t = randInt(r, 0, nq - 1);
      if (t >= c) t++;
      qubits = [c, t];
    } else {
      qubits = [randInt(r, 0, nq)];
    }
    const g: SpecGate = { gate, qubits };
    if (isParametric(gate)) {
      // Reuse an earlier name a quarter of the time.
      g.param = paramCount > 0 && r() < 0.25 ? `p${randInt(r, 0, paramCount)}` : `p${paramCount++}`;
    }
    gates.push(g);
  }
  const layers: SpecGate[][] = [];
  let i = 0;
  while (i < gates.length) {
    const len = randInt(r, 1, 4);
    layers.push(gates.slice(i, i + len));
    i += len;
  }
  return { ioQubits: n, memoryQubits: nm, layers };
}

/** Random angles for each named parameter, one map per neuron (row). */
export function randomThetas(r: Rand, spec: Spec, rows: number): Record<string, number>[] {
  const names = specParams(spec);
  return Array.from({ length: rows }, () => {
    const t: Record<string, number> = {};
    for (const nm of names) t[nm] = randUniform(r, -Math.PI, Math.PI) * 1.3;
    return t;
  });
}

/**
 * Random input currents [rows][n][batch]: a mix of positive values (some above 1), exact zeros and
 * negative values (which encode to no rotation).
 */
export function randomCurrents(r: Rand, rows: number, n: number, batch: number): number[][][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: n }, () =>
      Array.from({ length: batch }, () => {
        const u = r();
        if (u < 0.15) return 0;
        if (u < 0.35) return -randUniform(r, 0, 1);
        return randUniform(r, 0, 1.6);
      }),
    ),
  );
}

/** Flatten a nested [a][b][c] array row-major. */
export function flat3(x: number[][][]): number[] {
  const out: number[] = [];
  for (const a of x) for (const b of a) for (const c of b) out.push(c);
  return out;
}

/** Pick an outcome with probability ≥ minProb (uniformly among those), for teacher forcing. */
export function pickLikely(r: Rand, probs: number[], minProb = 0.1): number {
  const ok = probs.map((p, k) => (p >= minProb ? k : -1)).filter((k) => k >= 0);
  if (ok.length === 0) return probs.indexOf(Math.max(...probs));
  return ok[randInt(r, 0, ok.length)];
}
