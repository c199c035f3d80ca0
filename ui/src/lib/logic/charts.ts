// Dataset overview -> chart series (categories on x, one series per graph).

import type { DegreeBucketDto, SideOverviewDto } from '../backend/types';

export interface CategorySeries {
  /** Category labels along x. */
  labels: string[];
  /** One series per graph, same length as `labels`. */
  series: { name: string; values: number[] }[];
}

/** `0`, `1`, `2–3`, `4–7`, … */
export function bucketLabel(b: Pick<DegreeBucketDto, 'min_degree' | 'max_degree'>): string {
  return b.min_degree === b.max_degree ? String(b.min_degree) : `${b.min_degree}–${b.max_degree}`;
}

function graphName(g: SideOverviewDto): string {
  return g.side === 'left' ? 'Left graph' : 'Right graph';
}

/**
 * Degree histograms of the graphs on one shared set of buckets (the union, ascending);
 * a bucket one graph lacks counts 0 there.
 */
export function degreeSeries(graphs: readonly SideOverviewDto[]): CategorySeries {
  const buckets = new Map<number, DegreeBucketDto>();
  for (const g of graphs) {
    for (const b of g.degree_histogram) {
      if (!buckets.has(b.min_degree)) buckets.set(b.min_degree, b);
    }
  }
  const ordered = [...buckets.values()].sort((a, b) => a.min_degree - b.min_degree);
  return {
    labels: ordered.map(bucketLabel),
    series: graphs.map((g) => {
      const byMin = new Map(g.degree_histogram.map((b) => [b.min_degree, b.entities]));
      return { name: graphName(g), values: ordered.map((b) => byMin.get(b.min_degree) ?? 0) };
    }),
  };
}

export const COVERAGE_CATEGORIES = [
  ['with_relations', 'Relations'],
  ['with_attributes', 'Attributes'],
  ['with_images', 'Images'],
  ['with_image_features', 'Image features'],
] as const;

/** Share of each graph's entities (0–1) that has each modality. */
export function coverageSeries(graphs: readonly SideOverviewDto[]): CategorySeries {
  return {
    labels: COVERAGE_CATEGORIES.map(([, label]) => label),
    series: graphs.map((g) => ({
      name: graphName(g),
      values: COVERAGE_CATEGORIES.map(([key]) =>
        g.entities > 0 ? g.coverage[key] / g.entities : 0,
      ),
    })),
  };
}

/**
 * x positions for grouped bars: category i spans [i - 0.5, i + 0.5]; series s of n sits at
 * the centre of its slot within `groupWidth`.
 */
export function groupedOffsets(seriesCount: number, groupWidth = 0.8): number[] {
  if (seriesCount <= 0) return [];
  const slot = groupWidth / seriesCount;
  return Array.from({ length: seriesCount }, (_, s) => -groupWidth / 2 + slot * (s + 0.5));
}

/**
 * Category labels thinned to fit `widthPx` of axis: every k-th label is kept (the first
 * always), the others blanked, with k the smallest step at which each pair of neighbouring
 * kept labels fits in the room of their slots (about `charPx` per character, a gap
 * between).
 */
export function thinnedLabels(labels: string[], widthPx: number, charPx = 6): string[] {
  const slot = widthPx / Math.max(1, labels.length);
  const fits = (step: number) => {
    for (let i = 0; i + step < labels.length; i += step) {
      const need = ((labels[i]!.length + labels[i + step]!.length) / 2) * charPx + 6;
      if (need > slot * step) return false;
    }
    return true;
  };
  let step = 1;
  while (step < labels.length && !fits(step)) step += 1;
  return labels.map((label, i) => (i % step === 0 ? label : ''));
}
