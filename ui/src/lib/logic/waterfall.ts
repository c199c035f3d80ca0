// Rows of a horizontal waterfall chart for a score breakdown.

import type { Breakdown, ExactBreakdown } from './breakdown';

/** One bar: from `start` to `end` on the score axis. */
export interface WaterfallRow {
  label: string;
  start: number;
  end: number;
  kind: 'step' | 'total' | 'residual' | 'occlusion';
  /** What the tooltip and the value column say. */
  detail: string;
}

const f = (x: number) => x.toFixed(3);

/** Each modality's step from the running sum, the weighted sum, the residual, the score. */
export function waterfallRows(b: Breakdown): WaterfallRow[] {
  const rows: WaterfallRow[] = [];
  let sum = 0;
  for (const s of b.steps) {
    rows.push({
      label: s.modality,
      start: sum,
      end: sum + s.contribution,
      kind: 'step',
      detail: `cos ${f(s.similarity)} × weight ${f(s.weight)} = ${f(s.contribution)}`,
    });
    sum += s.contribution;
  }
  rows.push({
    label: 'weighted sum',
    start: 0,
    end: b.weighted,
    kind: 'total',
    detail: f(b.weighted),
  });
  rows.push({
    label: b.similarity === 'csls' ? 'fusion + CSLS' : 'model fusion',
    start: b.weighted,
    end: b.score,
    kind: 'residual',
    detail: `${b.residual >= 0 ? '+' : ''}${f(b.residual)}`,
  });
  rows.push({
    label: b.similarity === 'csls' ? 'CSLS score' : 'score',
    start: 0,
    end: b.score,
    kind: 'total',
    detail: f(b.score),
  });
  return rows;
}

/** The axis range the rows need, always including 0. */
export function waterfallDomain(rows: WaterfallRow[]): [number, number] {
  const values = rows.flatMap((r) => [r.start, r.end]);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  return hi - lo < 1e-9 ? [lo, lo + 1] : [lo, hi];
}

/** The exact split: each part from the running sum, the cosine, CSLS's correction, the score. */
export function exactWaterfallRows(b: ExactBreakdown): WaterfallRow[] {
  const rows: WaterfallRow[] = [];
  let sum = 0;
  for (const p of b.parts) {
    rows.push({
      label: p.label,
      start: sum,
      end: sum + p.value,
      kind: 'step',
      detail: `${p.value >= 0 ? '+' : ''}${f(p.value)} of the cosine`,
    });
    sum += p.value;
  }
  rows.push({ label: 'cosine', start: 0, end: b.cosine, kind: 'total', detail: f(b.cosine) });
  if (b.hub !== null) {
    rows.push({
      label: 'CSLS hubness',
      start: b.cosine,
      end: b.cosine + b.hub,
      kind: 'residual',
      detail: `${b.hub >= 0 ? '+' : ''}${f(b.hub)}`,
    });
  }
  rows.push({
    label: b.hub === null ? 'score' : 'CSLS score',
    start: 0,
    end: b.score,
    kind: 'total',
    detail: f(b.score),
  });
  return rows;
}

/** Occlusion bars: how much the cosine drops without each mixed-in modality. */
export function occlusionRows(b: ExactBreakdown): WaterfallRow[] {
  return b.occlusions.map((o) => ({
    label: `without ${o.modality}`,
    start: 0,
    end: -o.drop,
    kind: 'occlusion' as const,
    detail: `${o.drop >= 0 ? '−' : '+'}${f(Math.abs(o.drop))}`,
  }));
}
