// The runs table (sort, filter) and the live state of a run (curves, progress) from events.

import type { EpochDto, JobEvent, RunDto, RunStatus } from '../backend/types';

export type RunSortKey =
  | 'id'
  | 'dataset'
  | 'model'
  | 'status'
  | 'epochs'
  | 'hits_at_1'
  | 'hits_at_10'
  | 'mrr'
  | 'created_at';

export interface RunSort {
  key: RunSortKey;
  descending: boolean;
}

function sortValue(run: RunDto, key: RunSortKey, datasetName: (id: number) => string) {
  switch (key) {
    case 'id':
      return run.id;
    case 'dataset':
      return datasetName(run.dataset_id).toLowerCase();
    case 'model':
      return run.model.toLowerCase();
    case 'status':
      return run.status;
    case 'epochs':
      return run.epochs_done;
    case 'hits_at_1':
      return run.hits_at_1;
    case 'hits_at_10':
      return run.hits_at_10;
    case 'mrr':
      return run.mrr;
    case 'created_at':
      return run.created_at;
  }
}

/** Sorted copy; missing metrics always last, ties broken by id (newest first). */
export function sortRuns(
  runs: readonly RunDto[],
  sort: RunSort,
  datasetName: (id: number) => string = String,
): RunDto[] {
  const dir = sort.descending ? -1 : 1;
  return [...runs].sort((a, b) => {
    const va = sortValue(a, sort.key, datasetName);
    const vb = sortValue(b, sort.key, datasetName);
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    if (va !== null && vb !== null && va !== vb) return va < vb ? -dir : dir;
    return b.id - a.id;
  });
}

/** Clicking a header: same key flips the direction, a new key starts descending for numbers. */
export function toggleSort(current: RunSort, key: RunSortKey): RunSort {
  if (current.key === key) return { key, descending: !current.descending };
  const textual = key === 'dataset' || key === 'model' || key === 'status';
  return { key, descending: !textual };
}

/**
 * Filters by free text: every whitespace-separated term must match the status, the model,
 * the dataset name, the device or the id (`#12` or `12`).
 */
export function filterRuns(
  runs: readonly RunDto[],
  text: string,
  datasetName: (id: number) => string = String,
): RunDto[] {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...runs];
  return runs.filter((run) => {
    const hay = [
      run.status,
      run.model,
      datasetName(run.dataset_id),
      run.device,
      run.device_label ?? '',
      `#${run.id}`,
    ]
      .join(' ')
      .toLowerCase();
    return terms.every((t) => hay.includes(t) || t === String(run.id));
  });
}

export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export function isActive(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Cancel applies to queued and running runs; resume to stopped ones that have not finished. */
export function canCancel(status: RunStatus): boolean {
  return isActive(status);
}

export function canResume(status: RunStatus): boolean {
  return status === 'cancelled' || status === 'interrupted' || status === 'failed';
}

/** One point per epoch for the curves. */
export interface CurvePoint {
  epoch: number;
  loss: number | null;
  /** Each named loss term (their sum is `loss`). */
  terms: Partial<Record<string, number>>;
  /** The model's diagnostics (an imputation's fit, say): not part of the loss. */
  diagnostics: Partial<Record<string, number>>;
  hits_at_1: number | null;
  mrr: number | null;
}

/** Curves from stored epochs. */
export function curveFromEpochs(epochs: readonly EpochDto[]): CurvePoint[] {
  return [...epochs]
    .sort((a, b) => a.epoch - b.epoch)
    .map((e) => ({
      epoch: e.epoch,
      loss: e.loss,
      terms: e.loss_terms,
      diagnostics: e.diagnostics,
      hits_at_1: e.hits_at_1,
      mrr: e.mrr,
    }));
}

const TERM_COLORS = [
  '#7c3aed',
  '#db2777',
  '#0891b2',
  '#65a30d',
  '#ea580c',
  '#78716c',
  '#0d9488',
  '#a16207',
];

/**
 * The loss chart: one line per named loss term; with several terms, their total too.
 * A model with one term gets one line named after it.
 */
export function lossChart(curve: readonly CurvePoint[]): {
  series: { label: string; color: string }[];
  columns: [number[], ...(number | null)[][]];
} {
  const names = [...new Set(curve.flatMap((p) => Object.keys(p.terms)))].sort();
  const xs = curve.map((p) => p.epoch);
  if (names.length <= 1) {
    return {
      series: [{ label: names[0] ?? 'loss', color: '#2563eb' }],
      columns: [xs, curve.map((p) => p.loss)],
    };
  }
  return {
    series: [
      { label: 'total', color: '#2563eb' },
      ...names.map((n, i) => ({ label: n, color: TERM_COLORS[i % TERM_COLORS.length] ?? '#555' })),
    ],
    columns: [
      xs,
      curve.map((p) => p.loss),
      ...names.map((n) => curve.map((p) => p.terms[n] ?? null)),
    ],
  };
}

/**
 * The diagnostics chart: one line per diagnostic a model reports (none: no series, and
 * the run page shows no chart).
 */
export function diagnosticsChart(curve: readonly CurvePoint[]): {
  series: { label: string; color: string }[];
  columns: [number[], ...(number | null)[][]];
} {
  const names = [...new Set(curve.flatMap((p) => Object.keys(p.diagnostics)))].sort();
  return {
    series: names.map((n, i) => ({
      label: n,
      color: TERM_COLORS[i % TERM_COLORS.length] ?? '#555',
    })),
    columns: [
      curve.map((p) => p.epoch),
      ...names.map((n) => curve.map((p) => p.diagnostics[n] ?? null)),
    ],
  };
}

/**
 * Whether the positive values of a chart's series span more than `decades` powers of
 * ten: then lines of small terms lie flat on a linear axis and a log axis shows them.
 */
export function spansDecades(
  columns: readonly [number[], ...(number | null)[][]],
  decades = 2,
): boolean {
  const values = columns.slice(1).flatMap((c) => c as (number | null)[]);
  const positive = values.filter((v): v is number => v !== null && v > 0);
  if (positive.length === 0) return false;
  const ratio = Math.max(...positive) / Math.min(...positive);
  return ratio > 10 ** decades;
}

/** The columns for a log axis: values at or below zero become gaps. */
export function forLogAxis(
  columns: readonly [number[], ...(number | null)[][]],
): [number[], ...(number | null)[][]] {
  const [xs, ...series] = columns;
  return [xs, ...series.map((c) => c.map((v) => (v !== null && v > 0 ? v : null)))];
}

/** Adds (or replaces) an epoch from a `metric` event, keeping epochs ascending. */
export function mergeMetric(curve: readonly CurvePoint[], point: CurvePoint): CurvePoint[] {
  const out = curve.filter((p) => p.epoch !== point.epoch);
  out.push(point);
  out.sort((a, b) => a.epoch - b.epoch);
  return out;
}

/** Columns for a uPlot line chart: x = epochs, then one series per metric (null = gap). */
export function curveColumns(
  curve: readonly CurvePoint[],
  keys: readonly ('loss' | 'hits_at_1' | 'mrr')[],
): [number[], ...(number | null)[][]] {
  const xs = curve.map((p) => p.epoch);
  const series = keys.map((k) => curve.map((p) => p[k]));
  return [xs, ...series];
}

/** What the live view shows of a run between server fetches. */
export interface LiveState {
  status: RunStatus | null;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  eta: number | null;
  message: string | null;
  log: string[];
}

export function emptyLive(): LiveState {
  return {
    status: null,
    epoch: 0,
    epochs: 0,
    batch: 0,
    batches: 0,
    eta: null,
    message: null,
    log: [],
  };
}

/** Applies one event of this run to the live state (events of other runs are ignored). */
export function applyEvent(state: LiveState, run: number, event: JobEvent): LiveState {
  if (event.run !== run) return state;
  switch (event.kind) {
    case 'queued':
      return { ...state, status: 'queued' };
    case 'started':
      return {
        ...state,
        status: 'running',
        epoch: Math.max(0, event.first_epoch - 1),
        epochs: event.epochs,
        batch: 0,
        batches: 0,
        eta: null,
        message: null,
      };
    case 'progress':
      return {
        ...state,
        status: 'running',
        epoch: event.epoch,
        epochs: event.epochs,
        batch: event.batch,
        batches: event.batches,
        eta: event.eta_seconds,
      };
    case 'metric':
      return state;
    case 'log':
      return { ...state, log: [...state.log, event.line].slice(-200) };
    case 'finished':
      return { ...state, status: 'completed', epoch: state.epochs, batch: state.batches, eta: 0 };
    case 'failed':
      return { ...state, status: 'failed', message: event.message };
    case 'cancelled':
      return { ...state, status: 'cancelled' };
  }
}

/** Whether an event ends a run (so the page should re-fetch its final record). */
export function isTerminal(event: JobEvent): boolean {
  return event.kind === 'finished' || event.kind === 'failed' || event.kind === 'cancelled';
}
