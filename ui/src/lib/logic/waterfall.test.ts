import { describe, expect, it } from 'vitest';
import { waterfallDomain, waterfallRows } from './waterfall';

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
