// A dataset's leaderboard: its completed runs grouped by model and seed ratio, with the
// mean and standard deviation of their final test metrics.

import type { RunDto } from '../backend/types';

/** Mean and sample standard deviation (0 for one value). */
export interface MeanStd {
  mean: number;
  std: number;
}

export interface LeaderboardRow {
  model: string;
  trainRatio: number | null;
  runs: number;
  hitsAt1: MeanStd;
  hitsAt10: MeanStd;
  mrr: MeanStd;
  /** The run with the highest H@1. */
  bestRun: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** The seed ratio a run trained with (from its stored config), if known. */
export function trainRatioOf(run: RunDto): number | null {
  const config = run.config as { split?: { train_ratio?: unknown } } | null;
  const ratio = config?.split?.train_ratio;
  return typeof ratio === 'number' ? ratio : null;
}

/** Completed runs of `dataset` with metrics, grouped by model and seed ratio; best H@1 first. */
export function leaderboard(runs: readonly RunDto[], dataset: number): LeaderboardRow[] {
  const groups = new Map<string, RunDto[]>();
  for (const run of runs) {
    if (run.dataset_id !== dataset || run.status !== 'completed' || run.hits_at_1 === null)
      continue;
    const key = `${run.model}\u0000${trainRatioOf(run) ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows: LeaderboardRow[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const metric = (f: (r: RunDto) => number | null) =>
      meanStd(group.map(f).filter((v): v is number => v !== null));
    const best = group.reduce((a, b) => ((b.hits_at_1 ?? 0) > (a.hits_at_1 ?? 0) ? b : a));
    rows.push({
      model: first.model,
      trainRatio: trainRatioOf(first),
      runs: group.length,
      hitsAt1: metric((r) => r.hits_at_1),
      hitsAt10: metric((r) => r.hits_at_10),
      mrr: metric((r) => r.mrr),
      bestRun: best.id,
    });
  }
  return rows.sort((a, b) => b.hitsAt1.mean - a.hitsAt1.mean);
}

/** `0.512 ± 0.013`, or just the mean for a single run. */
export function formatMeanStd(m: MeanStd, runs: number, digits = 3): string {
  if (!Number.isFinite(m.mean)) return '–';
  return runs > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}
