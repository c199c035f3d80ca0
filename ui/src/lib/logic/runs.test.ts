import { describe, expect, it } from 'vitest';
import { run } from '../../test/fixtures';
import {
  applyEvent,
  canResume,
  curveColumns,
  diagnosticsChart,
  lossChart,
  spansDecades,
  forLogAxis,
  curveFromEpochs,
  emptyLive,
  filterRuns,
  isTerminal,
  mergeMetric,
  sortRuns,
  toggleSort,
} from './runs';

const runs = [
  run({ id: 1, hits_at_1: 0.5, model: 'loginmea', status: 'completed' }),
  run({ id: 2, hits_at_1: null, model: 'loginmea', status: 'running', dataset_id: 2 }),
  run({ id: 3, hits_at_1: 0.7, model: 'gcn-align', status: 'failed' }),
  run({ id: 4, hits_at_1: 0.5, model: 'loginmea', status: 'cancelled', dataset_id: 2 }),
];
const names = (id: number) => (id === 1 ? 'demo' : 'zh_en');

describe('sortRuns', () => {
  it('sorts numbers descending with missing values last and ties newest first', () => {
    const ids = sortRuns(runs, { key: 'hits_at_1', descending: true }).map((r) => r.id);
    expect(ids).toEqual([3, 4, 1, 2]);
  });
  it('keeps missing values last when ascending too', () => {
    const ids = sortRuns(runs, { key: 'hits_at_1', descending: false }).map((r) => r.id);
    expect(ids).toEqual([4, 1, 3, 2]);
  });
  it('sorts by dataset name, not id', () => {
    const ids = sortRuns(runs, { key: 'dataset', descending: false }, names).map((r) => r.id);
    expect(ids).toEqual([3, 1, 4, 2]);
  });
  it('does not modify its input', () => {
    const copy = [...runs];
    sortRuns(runs, { key: 'id', descending: false });
    expect(runs).toEqual(copy);
  });
});

describe('toggleSort', () => {
  it('flips the direction on the same column', () => {
    expect(toggleSort({ key: 'mrr', descending: true }, 'mrr')).toEqual({
      key: 'mrr',
      descending: false,
    });
  });
  it('starts numbers descending and text ascending', () => {
    expect(toggleSort({ key: 'mrr', descending: false }, 'hits_at_10').descending).toBe(true);
    expect(toggleSort({ key: 'mrr', descending: true }, 'model').descending).toBe(false);
  });
});

describe('filterRuns', () => {
  it('matches status, model and dataset name; all terms must match', () => {
    expect(filterRuns(runs, 'running', names).map((r) => r.id)).toEqual([2]);
    expect(filterRuns(runs, 'gcn', names).map((r) => r.id)).toEqual([3]);
    expect(filterRuns(runs, 'zh_en LOGINMEA', names).map((r) => r.id)).toEqual([2, 4]);
    expect(filterRuns(runs, 'zh_en failed', names)).toEqual([]);
  });
  it('matches an id with or without #', () => {
    expect(filterRuns(runs, '#3', names).map((r) => r.id)).toEqual([3]);
    expect(filterRuns(runs, '4', names).map((r) => r.id)).toEqual([4]);
  });
  it('returns everything for a blank filter', () => {
    expect(filterRuns(runs, '   ', names)).toHaveLength(4);
  });
});

describe('run actions', () => {
  it('offers resume only for stopped, unfinished runs', () => {
    expect(canResume('cancelled')).toBe(true);
    expect(canResume('interrupted')).toBe(true);
    expect(canResume('completed')).toBe(false);
    expect(canResume('running')).toBe(false);
  });
});

describe('curves', () => {
  /** A stored epoch of one loss term, without test metrics. */
  const storedEpoch = (epoch: number, loss: number, diagnostics: Record<string, number>) => ({
    epoch,
    loss,
    seconds: 1,
    eval_seconds: null,
    hits_at_1: null,
    hits_at_10: null,
    mrr: null,
    valid_hits_at_1: null,
    loss_terms: { margin: loss },
    diagnostics,
  });

  it('orders stored epochs and merges live metrics by epoch', () => {
    const stored = curveFromEpochs([
      storedEpoch(2, 0.8, {}),
      {
        ...storedEpoch(1, 1.0, { 'image imputation fit': 0.25 }),
        hits_at_1: 0.1,
        hits_at_10: 0.3,
        mrr: 0.2,
      },
    ]);
    expect(stored.map((p) => p.epoch)).toEqual([1, 2]);
    const merged = mergeMetric(stored, {
      epoch: 2,
      loss: 0.75,
      terms: { margin: 0.75 },
      diagnostics: {},
      hits_at_1: 0.2,
      mrr: 0.3,
    });
    const more = mergeMetric(merged, {
      epoch: 3,
      loss: 0.6,
      terms: { margin: 0.6 },
      diagnostics: { 'image imputation fit': 0.5 },
      hits_at_1: null,
      mrr: null,
    });
    expect(more.map((p) => p.loss)).toEqual([1.0, 0.75, 0.6]);
    expect(curveColumns(more, ['loss', 'hits_at_1'])).toEqual([
      [1, 2, 3],
      [1.0, 0.75, 0.6],
      [0.1, 0.2, null],
    ]);
    const chart = diagnosticsChart(more);
    expect(chart.series.map((s) => s.label)).toEqual(['image imputation fit']);
    expect(chart.columns).toEqual([
      [1, 2, 3],
      [0.25, null, 0.5],
    ]);
  });

  it('has no diagnostics series for a model that reports none', () => {
    const chart = diagnosticsChart(curveFromEpochs([storedEpoch(1, 1.0, {})]));
    expect(chart.series).toEqual([]);
    expect(chart.columns).toEqual([[1]]);
  });
});

describe('lossChart', () => {
  const point = (epoch: number, terms: Record<string, number>) => ({
    epoch,
    loss: Object.values(terms).reduce((a, b) => a + b, 0),
    terms,
    diagnostics: {},
    hits_at_1: null,
    mrr: null,
  });
  it('draws one line named after a single term', () => {
    const chart = lossChart([point(1, { infonce: 2 }), point(2, { infonce: 1 })]);
    expect(chart.series.map((s) => s.label)).toEqual(['infonce']);
    expect(chart.columns).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });
  it('draws the total and each term when there are several', () => {
    const chart = lossChart([
      point(1, { structure_margin: 2, attribute_margin: 1 }),
      point(2, { structure_margin: 1, attribute_margin: 0.5 }),
    ]);
    expect(chart.series.map((s) => s.label)).toEqual([
      'total',
      'attribute_margin',
      'structure_margin',
    ]);
    expect(chart.columns).toEqual([
      [1, 2],
      [3, 1.5],
      [1, 0.5],
      [2, 1],
    ]);
  });
});

describe("the loss chart's log axis", () => {
  it('is wanted where the terms differ by more than two powers of ten', () => {
    expect(
      spansDecades([
        [1, 2],
        [6000, 5000],
        [0.5, 0.4],
      ]),
    ).toBe(true);
    expect(
      spansDecades([
        [1, 2],
        [3, 2],
        [0.5, null],
      ]),
    ).toBe(false);
    expect(spansDecades([[1], [0]])).toBe(false);
  });
  it('turns values at or below zero into gaps', () => {
    expect(
      forLogAxis([
        [1, 2, 3],
        [0, 2, -1],
        [null, 0.5, 1],
      ]),
    ).toEqual([
      [1, 2, 3],
      [null, 2, null],
      [null, 0.5, 1],
    ]);
  });
});

describe('applyEvent', () => {
  it('follows a run from start to finish and ignores other runs', () => {
    let s = emptyLive();
    s = applyEvent(s, 7, { kind: 'started', run: 7, first_epoch: 1, epochs: 5 });
    expect(s).toMatchObject({ status: 'running', epoch: 0, epochs: 5 });
    s = applyEvent(s, 7, {
      kind: 'progress',
      run: 7,
      epoch: 2,
      epochs: 5,
      batch: 1,
      batches: 3,
      eta_seconds: 12,
    });
    expect(s).toMatchObject({ epoch: 2, batch: 1, batches: 3, eta: 12 });
    const other = applyEvent(s, 7, { kind: 'cancelled', run: 8 });
    expect(other).toBe(s);
    s = applyEvent(s, 7, { kind: 'log', run: 7, line: 'epoch 2 done' });
    expect(s.log).toEqual(['epoch 2 done']);
    s = applyEvent(s, 7, { kind: 'finished', run: 7, hits_at_1: 0.5 });
    expect(s).toMatchObject({ status: 'completed', epoch: 5, eta: 0 });
  });
  it('keeps the failure message', () => {
    const s = applyEvent(emptyLive(), 1, {
      kind: 'failed',
      run: 1,
      message: 'NaN loss at epoch 3',
    });
    expect(s.status).toBe('failed');
    expect(s.message).toBe('NaN loss at epoch 3');
  });
  it('knows which events end a run', () => {
    expect(isTerminal({ kind: 'finished', run: 1, hits_at_1: null })).toBe(true);
    expect(
      isTerminal({
        kind: 'metric',
        run: 1,
        epoch: 1,
        loss: 1,
        loss_terms: {},
        diagnostics: {},
        hits_at_1: null,
        mrr: null,
      }),
    ).toBe(false);
  });
});
