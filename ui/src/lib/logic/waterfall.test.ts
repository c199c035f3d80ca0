import { describe, expect, it } from 'vitest';
import type { CandidateDto, CandidatesDto } from '../backend/types';
import { exactBreakdown } from './breakdown';
import { exactWaterfallRows, occlusionRows, waterfallDomain, waterfallRows } from './waterfall';

describe('waterfallRows', () => {
  const rows = waterfallRows({
    steps: [
      { modality: 'structure', similarity: 0.8, weight: 0.5, contribution: 0.4 },
      { modality: 'image', similarity: -0.2, weight: 0.5, contribution: -0.1 },
    ],
    weighted: 0.3,
    score: 0.45,
    residual: 0.15,
    weights: 'per-entity',
    similarity: null,
  });

  it('chains each step from the running sum, then totals and the residual', () => {
    expect(rows.map((r) => [r.label, r.start, r.end, r.kind])).toEqual([
      ['structure', 0, 0.4, 'step'],
      ['image', 0.4, 0.30000000000000004, 'step'],
      ['weighted sum', 0, 0.3, 'total'],
      ['model fusion', 0.3, 0.45, 'residual'],
      ['score', 0, 0.45, 'total'],
    ]);
    expect(rows[0]!.detail).toBe('cos 0.800 × weight 0.500 = 0.400');
    expect(rows[3]!.detail).toBe('+0.150');
  });

  it('names the CSLS correction when the run ranks by CSLS', () => {
    const csls = waterfallRows({
      steps: [],
      weighted: 0,
      score: -0.1,
      residual: -0.1,
      weights: 'uniform',
      similarity: 'csls',
    });
    expect(csls.map((r) => r.label)).toEqual(['weighted sum', 'fusion + CSLS', 'CSLS score']);
  });

  it('spans zero and every bar end', () => {
    expect(waterfallDomain(rows)).toEqual([0, 0.45]);
    expect(
      waterfallDomain([{ label: 'x', start: 0, end: -0.5, kind: 'step', detail: '' }]),
    ).toEqual([-0.5, 0]);
    expect(waterfallDomain([])).toEqual([0, 1]);
  });
});

describe('exact waterfall', () => {
  const candidates = (columns: string[], scores: number[], score: number) => ({
    all: {
      query: { key: 'q', name: 'q', label: 'q', side: 'left' as const, index: 0 },
      modalities: columns,
      weight_modalities: [],
      query_weights: null,
      similarity: 'csls',
      candidates: [],
    },
    candidate: { score, modality_scores: scores },
  });

  it('splits a CSLS score into parts, the hub correction and occlusions', () => {
    const { all, candidate } = candidates(
      ['part:structure', 'part:image', 'part:joint graph layers', 'hub', 'occlusion:image'],
      [0.3, 0.1, 0.2, -0.05, 0.04],
      0.55,
    );
    const exact = exactBreakdown(
      all as unknown as CandidatesDto,
      candidate as unknown as CandidateDto,
    );
    expect(exact).not.toBeNull();
    if (!exact) return;
    expect(exact.cosine).toBeCloseTo(0.6);
    expect(exact.hub).toBeCloseTo(-0.05);
    expect(exact.residual).toBeCloseTo(0);
    const rows = exactWaterfallRows(exact);
    expect(rows.map((r) => [r.label, r.kind])).toEqual([
      ['structure', 'step'],
      ['image', 'step'],
      ['joint graph layers', 'step'],
      ['cosine', 'total'],
      ['CSLS hubness', 'residual'],
      ['CSLS score', 'total'],
    ]);
    expect(rows[4]!.end).toBeCloseTo(0.55);
    const occluded = occlusionRows(exact);
    expect(occluded.map((r) => [r.label, r.end, r.detail])).toEqual([
      ['without image', -0.04, '−0.040'],
    ]);
  });

  it('is null for a run that stores one cosine per modality', () => {
    const { all, candidate } = candidates(['structure', 'image'], [0.5, 0.2], 0.4);
    expect(
      exactBreakdown(all as unknown as CandidatesDto, candidate as unknown as CandidateDto),
    ).toBeNull();
  });
});
