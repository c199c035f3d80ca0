import { describe, expect, it } from 'vitest';
import type { DecodingDto, PrecisionRecallDto } from '../backend/types';
import { decodingFraction, precisionByRecall, savedOneToOne } from './decoding';

const point = (recall: number, precision: number): PrecisionRecallDto => ({
  threshold: 1 - recall,
  kept: Math.round(recall * 100),
  precision,
  recall,
});

describe('precisionByRecall', () => {
  it('puts every curve on one recall grid, with gaps past a curve end', () => {
    const high = { curve: [point(0.25, 1), point(0.5, 0.9), point(1, 0.6)] };
    const low = { curve: [point(0.5, 0.8)] };
    const [grid, first, second] = precisionByRecall([high, low], 4);
    expect(grid).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // At each recall: the most confident cut that reaches it.
    expect(first).toEqual([1, 1, 0.9, 0.6, 0.6]);
    expect(second).toEqual([0.8, 0.8, 0.8, null, null]);
  });

  it('copes with no outcomes and empty curves', () => {
    expect(precisionByRecall([], 2)).toEqual([[0, 0, 0]]);
    const [, empty] = precisionByRecall([{ curve: [] }], 2);
    expect(empty).toEqual([null, null, null]);
  });
});

describe('savedOneToOne and decodingFraction', () => {
  const outcome = (method: 'rank' | 'greedy' | 'sinkhorn', one_to_one: boolean) => ({
    method,
    label: method,
    one_to_one,
    confidence: '',
    paired: 1,
    correct: 1,
    hits_at_1: 1,
    seconds: 0,
    curve: [],
  });
  const decoding: DecodingDto = {
    run: 3,
    state: 'decoding',
    done: 1,
    total: 4,
    now: 'greedy',
    elapsed_seconds: 2,
    message: null,
    result: {
      checkpoint: 'last',
      similarity: 'CSLS k=3',
      test_pairs: 10,
      scoring_seconds: 1,
      saved_at: 0,
      outcomes: [outcome('rank', false), outcome('greedy', true), outcome('sinkhorn', true)],
    },
  };

  it('lists the saved one-to-one methods only', () => {
    expect(savedOneToOne(decoding)).toEqual(['greedy', 'sinkhorn']);
    expect(savedOneToOne(null)).toEqual([]);
  });

  it('reads the steps as a fraction', () => {
    expect(decodingFraction(decoding)).toBe(0.25);
    expect(decodingFraction({ ...decoding, total: 0 })).toBe(0);
    expect(decodingFraction(null)).toBe(0);
  });
});
