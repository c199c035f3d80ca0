import { describe, expect, it } from 'vitest';
import type { RunDto } from '../backend/types';
import { run } from '../../test/fixtures';
import { formatMeanStd, leaderboard, meanStd } from './leaderboard';

const withRatio = (r: RunDto, ratio: number): RunDto => ({
  ...r,
  config: { split: { train_ratio: ratio } },
});

describe('leaderboard', () => {
  it('groups completed runs by model and seed ratio, best first', () => {
    const runs = [
      withRatio(run({ id: 1, model: 'rrea', hits_at_1: 0.7, mrr: 0.8 }), 0.3),
      withRatio(run({ id: 2, model: 'rrea', hits_at_1: 0.72, mrr: 0.82 }), 0.3),
      withRatio(run({ id: 3, model: 'gcn-align', hits_at_1: 0.4, mrr: 0.5 }), 0.3),
      withRatio(run({ id: 4, model: 'rrea', hits_at_1: 0.5, mrr: 0.6 }), 0.2),
      withRatio(run({ id: 5, model: 'rrea', hits_at_1: 0.9, status: 'failed' }), 0.3),
      withRatio(run({ id: 6, model: 'rrea', hits_at_1: 0.9, dataset_id: 2 }), 0.3),
    ];
    const rows = leaderboard(runs, 1);
    expect(rows.map((r) => [r.model, r.trainRatio, r.runs, r.bestRun])).toEqual([
      ['rrea', 0.3, 2, 2],
      ['rrea', 0.2, 1, 4],
      ['gcn-align', 0.3, 1, 3],
    ]);
    expect(rows[0]?.hitsAt1.mean).toBeCloseTo(0.71);
    expect(rows[0]?.hitsAt1.std).toBeCloseTo(0.01414, 4);
  });
  it('formats a single run without a deviation', () => {
    expect(formatMeanStd(meanStd([0.5]), 1)).toBe('0.500');
    expect(formatMeanStd(meanStd([0.5, 0.7]), 2)).toBe('0.600 ± 0.141');
    expect(formatMeanStd(meanStd([]), 0)).toBe('–');
  });
});
