/** Small dependency-free SVG charts for experiment reports: line charts with error bars, rasters. */

export interface Series {
  name: string;
  points: { x: number; y: number; err?: number }[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) as number;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1-2-5 ticks per decade inside [lo, hi] (at least the two ends). */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  return out.length >= 2 ? out : [lo, hi];
}

function fmtTick(v: number): string {
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

export function lineChart(series: Series[], o: LineChartOptions): string {
  const w = (o.width ?? 640) + Math.max(0, 7 * Math.max(0, ...series.map((q) => q.name.length)) - 110);
  const h = o.height ?? 400;
  const longest = Math.max(0, ...series.map((q) => q.name.length));
  const m = { l: 64, r: Math.max(150, 40 + 7 * longest), t: 36, b: 48 };
  const pts = series.flatMap((s) => s.points);
  const fx = (x: number) => (o.logX ? Math.log10(x) : x);
  let x0 = Math.min(...pts.map((p) => fx(p.x)));
  let x1 = Math.max(...pts.map((p) => fx(p.x)));
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let y0 = Math.min(...pts.map((p) => p.y - (p.err ?? 0)));
  let y1 = Math.max(...pts.map((p) => p.y + (p.err ?? 0)));
  if (y0 === y1) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  const pad = (y1 - y0) * 0.08;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((fx(x) - x0) / (x1 - x0)) * (w - m.l - m.r);
  const sy = (y: number) => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${w}" height="${h}" fill="white"/>`);
  parts.push(`<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  const integerX = pts.every((p) => Number.isInteger(p.x));
  const xt = o.logX ? logTicks(10 ** x0, 10 ** x1) : niceTicks(x0, x1).filter((t) => !integerX || Number.isInteger(t));
  for (const t of xt) parts.push(`<text x="${sx(t)}" y="${h - m.b + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  parts.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${h - m.b}" y2="${h - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${h - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + w - m.r) / 2}" y="${h - 10}" text-anchor="middle">${esc(o.xLabel)}${o.logX ? ' (log)' : ''}</text>`);
  parts.push(`<text x="16" y="${(m.t + h - m.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + h - m.b) / 2})">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const sorted = s.points.slice().sort((a, b) => a.x - b.x);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${sorted.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of sorted) {
      if (p.err) parts.push(`<line x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.y - p.err)}" y2="${sy(p.y + p.err)}" stroke="${c}"/>`);
      parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${c}"/>`);
    }
    const ly = m.t + 10 + i * 18;
    parts.push(`<line x1="${w - m.r + 10}" x2="${w - m.r + 30}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${w - m.r + 36}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Spike raster: rows are neurons, columns time steps; a dark cell is a spike. */
export function rasterChart(spikes: number[][], o: { title: string; width?: number }): string {
  const neurons = spikes.length;
  const steps = spikes[0]?.length ?? 0;
  const w = o.width ?? 640;
  const m = { l: 56, r: 16, t: 36, b: 40 };
  const cw = (w - m.l - m.r) / Math.max(1, steps);
  const ch = Math.max(2, Math.min(12, 600 / Math.max(1, neurons)));
  const h = m.t + m.b + ch * neurons;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`, `<rect width="${w}" height="${h}" fill="white"/>`];
  parts.push(`<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  spikes.forEach((row, i) =>
    row.forEach((v, t) => {
      if (v > 0) parts.push(`<rect x="${(m.l + t * cw).toFixed(1)}" y="${(m.t + i * ch).toFixed(1)}" width="${Math.max(1, cw - 1).toFixed(1)}" height="${Math.max(1, ch - 0.5).toFixed(1)}" fill="black"/>`);
    }),
  );
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${w - m.l - m.r}" height="${ch * neurons}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(m.l + w - m.r) / 2}" y="${h - 12}" text-anchor="middle">time step (1..${steps})</text>`);
  parts.push(`<text x="16" y="${m.t + (ch * neurons) / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.t + (ch * neurons) / 2})">neuron</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
