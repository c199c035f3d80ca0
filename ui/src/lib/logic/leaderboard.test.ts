import { describe, expect, it } from 'vitest';
import type { RunDto } from '../backend/types';
import { run } from '../../test/fixtures';
import {
  formatMeanStd,
  leaderboard,
  meanStd,
  ratioCurves,
  reportedMetrics,
  seriesWithSeveralRatios,
  variantOf,
} from './leaderboard';

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
  it('reports the best epoch by validation where a run held one out, else the final metrics', () => {
    const chosen = run({
      id: 1,
      hits_at_1: 0.6,
      best_hits_at_1: 0.65,
      best_hits_at_10: 0.9,
      best_mrr: 0.7,
      best_valid_hits_at_1: 0.66,
      config: { split: { train_ratio: 0.3, valid_ratio: 0.1 } },
    });
    expect(reportedMetrics(chosen)).toEqual({
      hitsAt1: 0.65,
      hitsAt10: 0.9,
      mrr: 0.7,
      byValidation: true,
    });
    // Without a validation part the best epoch was chosen on test H@1: never reported.
    const noValidation = {
      ...chosen,
      best_valid_hits_at_1: null,
      config: { split: { train_ratio: 0.3, valid_ratio: 0 } },
    };
    expect(reportedMetrics(noValidation)?.hitsAt1).toBe(0.6);
    expect(reportedMetrics(noValidation)?.byValidation).toBe(false);
    expect(reportedMetrics(run({ id: 2 }))).toBeNull();
  });
  it('keeps ablations and schedules apart and averages seconds and memory', () => {
    const config = (ratio: number, deviations: string[] = []) => ({
      split: { train_ratio: ratio },
      deviations: ['visual features from our encoder', ...deviations],
    });
    const runs = [
      run({
        id: 1,
        model: 'eva',
        hits_at_1: 0.5,
        seconds_per_epoch: 2,
        peak_memory_mib: 1000,
        config: config(0.3),
      }),
      run({
        id: 2,
        model: 'eva',
        hits_at_1: 0.6,
        seconds_per_epoch: 4,
        peak_memory_mib: 1200,
        config: config(0.3),
      }),
      run({
        id: 3,
        model: 'eva',
        hits_at_1: 0.4,
        config: config(0.3, ['ablation: without the image modality']),
      }),
      run({ id: 4, model: 'eva', hits_at_1: 0.3, epochs_planned: 4, config: config(0.3) }),
    ];
    expect(variantOf(runs[2]!)).toBe('without the image modality');
    const rows = leaderboard(runs, 1);
    expect(rows.map((r) => [r.series, r.runs])).toEqual([
      ['eva, 10 epochs', 2],
      ['eva (without the image modality), 10 epochs', 1],
      ['eva, 4 epochs', 1],
    ]);
    expect(rows[0]?.secondsPerEpoch.mean).toBe(3);
    expect(rows[0]?.peakMemoryMib.mean).toBe(1100);
    expect(Number.isNaN(rows[1]?.peakMemoryMib.mean)).toBe(true);
  });
  it('draws H@1 against the seed ratio for the chosen series, with gaps', () => {
    const runs = [
      withRatio(run({ id: 1, model: 'rrea', hits_at_1: 0.2 }), 0.05),
      withRatio(run({ id: 2, model: 'rrea', hits_at_1: 0.5 }), 0.3),
      withRatio(run({ id: 3, model: 'rrea', hits_at_1: 0.7 }), 0.5),
      withRatio(run({ id: 4, model: 'eva', hits_at_1: 0.1 }), 0.05),
      withRatio(run({ id: 5, model: 'eva', hits_at_1: 0.3 }), 0.5),
      withRatio(run({ id: 6, model: 'tmea', hits_at_1: 0.9 }), 0.3),
    ];
    const rows = leaderboard(runs, 1);
    expect(seriesWithSeveralRatios(rows)).toEqual(['rrea, 10 epochs', 'eva, 10 epochs']);
    const chart = ratioCurves(rows, ['rrea, 10 epochs', 'eva, 10 epochs']);
    expect(chart.percents).toEqual([5, 30, 50]);
    expect(chart.curves).toEqual([
      { series: 'rrea, 10 epochs', values: [0.2, 0.5, 0.7] },
      { series: 'eva, 10 epochs', values: [0.1, null, 0.3] },
    ]);
  });
});
