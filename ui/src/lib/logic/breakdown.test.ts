import { describe, expect, it } from 'vitest';
import type { CandidateDto, CandidatesDto } from '../backend/types';
import { scoreBreakdown } from './breakdown';

const entity = { entity: 9, side: 'right' as const, key: 'r', name: 'r', label: 'r' };

function candidates(
  queryWeights: number[] | null,
  weights: number[] | null,
  sims: number[],
  score: number,
): [CandidatesDto, CandidateDto] {
  const candidate: CandidateDto = {
    rank: 1,
    entity,
    score,
    is_true: true,
    modality_scores: sims,
    weights,
    decision: null,
  };
  const all: CandidatesDto = {
    run: 1,
    query: { ...entity, side: 'left', entity: 1 },
    query_weights: queryWeights,
    modalities: ['structure', 'relation', 'image'],
    weight_modalities: ['structure', 'relation', 'image'],
    similarity: 'cosine',
    candidates: [candidate],
  };
  return [all, candidate];
}

describe('scoreBreakdown', () => {
  it('is the cosine of the weighted concatenations with per-entity weights', () => {
    const [all, c] = candidates([1, 0, 0], [1, 0, 0], [0.8, 0.1, 0.5], 0.8);
    const b = scoreBreakdown(all, c);
    expect(b.weights).toBe('per-entity');
    expect(b.steps.map((s) => s.contribution)).toEqual([0.8, 0, 0]);
    expect(b.weighted).toBeCloseTo(0.8);
    expect(b.residual).toBeCloseTo(0);
  });

  it('weights modalities by both entities and their norms', () => {
    const [all, c] = candidates([0.6, 0.8, 0], [0.6, 0.8, 0], [1, 0.5, 0.9], 0.9);
    const b = scoreBreakdown(all, c);
    expect(b.steps[0]!.weight).toBeCloseTo(0.36);
    expect(b.steps[1]!.weight).toBeCloseTo(0.64);
    expect(b.steps[2]!.weight).toBe(0);
    expect(b.weighted).toBeCloseTo(0.36 + 0.32);
    expect(b.residual).toBeCloseTo(0.9 - 0.68);
  });

  it('falls back to uniform weights when the run stores none', () => {
    const [all, c] = candidates(null, null, [0.3, 0.6, 0.9], 0.5);
    const b = scoreBreakdown(all, c);
    expect(b.weights).toBe('uniform');
    expect(b.weighted).toBeCloseTo(0.6);
    expect(b.residual).toBeCloseTo(-0.1);
  });
});
