// Why a candidate scored what it did: one bar per modality for a waterfall chart.

import type { CandidateDto, CandidatesDto } from '../backend/types';

/** One modality's part of a pair's score. */
export interface BreakdownStep {
  modality: string;
  /** Cosine of the two entities' embeddings of this modality. */
  similarity: number;
  /** Query weight × candidate weight, over the two weight vectors' norms. */
  weight: number;
  /** `weight × similarity`: what the modality adds to the weighted sum. */
  contribution: number;
}

/** A pair's score split over its modalities. */
export interface Breakdown {
  steps: BreakdownStep[];
  /** Sum of the contributions. */
  weighted: number;
  /** The model's own score of the pair. */
  score: number;
  /**
   * `score − weighted`: what the model's learnt fusion adds beyond the weighted sum and,
   * for a CSLS run, the hubness correction (the score is then `2 cos − r(x) − r(y)`).
   */
  residual: number;
  /** How the run scores pairs (`csls`, `cosine`), when its config says. */
  similarity: string | null;
  /** Whether the weights are the model's per-entity ones or uniform (no weights stored). */
  weights: 'per-entity' | 'uniform';
}

/** The weights of `names` from a row aligned with `columns`; a missing column gets the mean. */
function weightsFor(names: string[], columns: string[], row: number[] | null): number[] | null {
  if (!row || row.length === 0) return null;
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  return names.map((name) => {
    const i = columns.indexOf(name);
    return i >= 0 && i < row.length ? row[i]! : mean;
  });
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
}

/**
 * Splits `candidate`'s score over the modalities. With per-entity weights `q` and `c`,
 * modality m contributes `q_m c_m cos_m / (|q| |c|)`: the exact cosine of the two
 * weighted concatenations of normalised modality embeddings. Without weights every
 * modality gets `1/M`. The model's own score can differ (its fusion is learnt); the
 * difference is reported as `residual` rather than hidden.
 */
export function scoreBreakdown(all: CandidatesDto, candidate: CandidateDto): Breakdown {
  const names = all.modalities;
  const q = weightsFor(names, all.weight_modalities, all.query_weights);
  const c = weightsFor(names, all.weight_modalities, candidate.weights);
  const uniform = q === null || c === null;
  const scale = uniform ? 0 : norm(q) * norm(c);
  const steps = names.map((modality, i) => {
    const similarity = candidate.modality_scores[i] ?? 0;
    const weight = uniform ? 1 / names.length : (q[i]! * c[i]!) / scale;
    return { modality, similarity, weight, contribution: weight * similarity };
  });
  const weighted = steps.reduce((a, s) => a + s.contribution, 0);
  return {
    steps,
    weighted,
    score: candidate.score,
    residual: candidate.score - weighted,
    weights: uniform ? 'uniform' : 'per-entity',
    similarity: all.similarity,
  };
}

/** A score split exactly (runs that export `part:` columns): see `exactBreakdown`. */
export interface ExactBreakdown {
  /** Each origin's share of the cosine (`part:structure`, `part:joint graph layers`, …). */
  parts: { label: string; value: number }[];
  /** The cosine: the parts' sum. */
  cosine: number;
  /** CSLS's hubness correction `cos − r(q) − r(c)`, when the run ranks by CSLS. */
  hub: number | null;
  /** The model's score. */
  score: number;
  /** `score − (cosine + hub)`: zero but for rounding. */
  residual: number;
  /** Per modality mixed into the embedding, how much the cosine drops without it. */
  occlusions: { modality: string; drop: number }[];
}

/**
 * The exact split of `candidate`'s score, from the run's score columns: the parts add up
 * to the cosine of the final embeddings, and with CSLS's correction to the score. `null`
 * for runs exported before these columns (they store one cosine per modality).
 */
export function exactBreakdown(all: CandidatesDto, candidate: CandidateDto): ExactBreakdown | null {
  const columns = all.modalities;
  if (!columns.some((c) => c.startsWith('part:'))) return null;
  const value = (i: number) => candidate.modality_scores[i] ?? 0;
  const parts: ExactBreakdown['parts'] = [];
  const occlusions: ExactBreakdown['occlusions'] = [];
  let hub: number | null = null;
  columns.forEach((c, i) => {
    if (c.startsWith('part:')) parts.push({ label: c.slice(5), value: value(i) });
    else if (c.startsWith('occlusion:')) occlusions.push({ modality: c.slice(10), drop: value(i) });
    else if (c === 'hub') hub = value(i);
  });
  const cosine = parts.reduce((a, p) => a + p.value, 0);
  return {
    parts,
    cosine,
    hub,
    score: candidate.score,
    residual: candidate.score - cosine - (hub ?? 0),
    occlusions,
  };
}
