// A dataset's leaderboard: its completed runs grouped by model, variant, schedule and
// seed ratio, with the mean and standard deviation of their test metrics (those of the
// best epoch by validation H@1 where a run held out a validation part, as `alignscope
// bench` reports them), seconds per epoch and peak memory; and the curves of H@1
// against the seed ratio, the figure papers draw for low-resource settings.

import type { RunDto } from '../backend/types';

/** Mean and sample standard deviation (0 for one value). */
export interface MeanStd {
  mean: number;
  std: number;
}

export interface LeaderboardRow {
  /** Model, variant and schedule, without the seed ratio: one curve of the chart. */
  series: string;
  model: string;
  /** The runs' ablation (`w/o image`, …), empty for the model as configured. */
  variant: string;
  epochs: number;
  trainRatio: number | null;
  runs: number;
  hitsAt1: MeanStd;
  hitsAt10: MeanStd;
  mrr: MeanStd;
  secondsPerEpoch: MeanStd;
  peakMemoryMib: MeanStd;
  /** Whether every run's metrics are those of its best epoch by validation H@1. */
  byValidation: boolean;
  /** The run with the highest reported H@1. */
  bestRun: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

interface StoredConfig {
  split?: { train_ratio?: unknown };
  deviations?: unknown;
}

/** The seed ratio a run trained with (from its stored config), if known. */
export function trainRatioOf(run: RunDto): number | null {
  const ratio = (run.config as StoredConfig | null)?.split?.train_ratio;
  return typeof ratio === 'number' ? ratio : null;
}

/** The run's ablation, from its stored deviations (`ablation: …` lines), or ''. */
export function variantOf(run: RunDto): string {
  const deviations = (run.config as StoredConfig | null)?.deviations;
  if (!Array.isArray(deviations)) return '';
  return deviations
    .filter((d): d is string => typeof d === 'string' && d.startsWith('ablation: '))
    .map((d) => d.slice('ablation: '.length))
    .join('; ');
}

/** The test metrics a run is judged by: its best epoch's where that epoch was chosen by
 * validation H@1 (the run held out a validation part) and evaluated, else its final ones. */
export function reportedMetrics(
  run: RunDto,
): { hitsAt1: number; hitsAt10: number | null; mrr: number | null; byValidation: boolean } | null {
  if (run.best_valid_hits_at_1 !== null && run.best_hits_at_1 !== null)
    return {
      hitsAt1: run.best_hits_at_1,
      hitsAt10: run.best_hits_at_10,
      mrr: run.best_mrr,
      byValidation: true,
    };
  if (run.hits_at_1 === null) return null;
  return { hitsAt1: run.hits_at_1, hitsAt10: run.hits_at_10, mrr: run.mrr, byValidation: false };
}

/** Completed runs of `dataset` with metrics, grouped by model, variant, planned epochs
 * and seed ratio; best H@1 first. */
export function leaderboard(runs: readonly RunDto[], dataset: number): LeaderboardRow[] {
  const groups = new Map<
    string,
    { run: RunDto; m: NonNullable<ReturnType<typeof reportedMetrics>> }[]
  >();
  for (const run of runs) {
    const m = reportedMetrics(run);
    if (run.dataset_id !== dataset || run.status !== 'completed' || m === null) continue;
    const key = [run.model, variantOf(run), run.epochs_planned, trainRatioOf(run) ?? ''].join(
      '\u0000',
    );
    groups.set(key, [...(groups.get(key) ?? []), { run, m }]);
  }
  const rows: LeaderboardRow[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const metric = (f: (g: (typeof group)[number]) => number | null) =>
      meanStd(group.map(f).filter((v): v is number => v !== null));
    const best = group.reduce((a, b) => (b.m.hitsAt1 > a.m.hitsAt1 ? b : a));
    const variant = variantOf(first.run);
    const epochs = first.run.epochs_planned;
    rows.push({
      series: seriesLabel(first.run.model, variant, epochs),
      model: first.run.model,
      variant,
      epochs,
      trainRatio: trainRatioOf(first.run),
      runs: group.length,
      hitsAt1: metric((g) => g.m.hitsAt1),
      hitsAt10: metric((g) => g.m.hitsAt10),
      mrr: metric((g) => g.m.mrr),
      secondsPerEpoch: metric((g) => g.run.seconds_per_epoch),
      peakMemoryMib: metric((g) => g.run.peak_memory_mib),
      byValidation: group.every((g) => g.m.byValidation),
      bestRun: best.run.id,
    });
  }
  return rows.sort((a, b) => b.hitsAt1.mean - a.hitsAt1.mean);
}

function seriesLabel(model: string, variant: string, epochs: number): string {
  return `${model}${variant ? ` (${variant})` : ''}, ${epochs} epochs`;
}

/** Curves of mean H@1 against the seed ratio: the sorted ratios (as percentages) and,
 * for each chosen series, its value at each ratio (null where it has no runs). */
export function ratioCurves(
  rows: readonly LeaderboardRow[],
  chosen: readonly string[],
): { percents: number[]; curves: { series: string; values: (number | null)[] }[] } {
  const ratios = [
    ...new Set(
      rows
        .filter((r) => chosen.includes(r.series))
        .map((r) => r.trainRatio)
        .filter((r): r is number => r !== null),
    ),
  ].sort((a, b) => a - b);
  const curves = chosen.map((series) => ({
    series,
    values: ratios.map(
      (ratio) =>
        rows.find((r) => r.series === series && r.trainRatio === ratio)?.hitsAt1.mean ?? null,
    ),
  }));
  return { percents: ratios.map((r) => Math.round(r * 1000) / 10), curves };
}

/** The series measured at two or more seed ratios (worth a curve), best H@1 first. */
export function seriesWithSeveralRatios(rows: readonly LeaderboardRow[]): string[] {
  const ratios = new Map<string, Set<number>>();
  for (const r of rows) {
    if (r.trainRatio === null) continue;
    ratios.set(r.series, (ratios.get(r.series) ?? new Set()).add(r.trainRatio));
  }
  const seen: string[] = [];
  for (const r of rows) {
    if ((ratios.get(r.series)?.size ?? 0) >= 2 && !seen.includes(r.series)) seen.push(r.series);
  }
  return seen;
}

/** `0.512 ± 0.013`, or just the mean for a single run. */
export function formatMeanStd(m: MeanStd, runs: number, digits = 3): string {
  if (!Number.isFinite(m.mean)) return '–';
  return runs > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}
