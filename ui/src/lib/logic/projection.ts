// The embedding projection as a scatter plot: data space to canvas pixels, and the point
// under the pointer.

import type { HitsGroupDto } from '../backend/types';
import type { CategorySeries } from './charts';

/** Maps data coordinates onto a `width × height` canvas with `pad` pixels of margin. */
export interface PlotScale {
  px: (x: number) => number;
  py: (y: number) => number;
}

/** A scale that fits every point, keeping the aspect ratio (PCA axes share a unit). */
export function fitScale(
  xs: number[],
  ys: number[],
  width: number,
  height: number,
  pad = 12,
): PlotScale {
  const extent = (v: number[]) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return lo <= hi ? [lo, hi] : [0, 1];
  };
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const unit = Math.min(
    (width - 2 * pad) / Math.max(x1! - x0!, 1e-9),
    (height - 2 * pad) / Math.max(y1! - y0!, 1e-9),
  );
  const cx = (x0! + x1!) / 2;
  const cy = (y0! + y1!) / 2;
  return {
    px: (x) => width / 2 + (x - cx) * unit,
    // Up is positive, as in a plot.
    py: (y) => height / 2 - (y - cy) * unit,
  };
}

/** The index of the point nearest to the pixel (`mx`, `my`) within `radius` pixels, or -1. */
export function nearestPoint(
  xs: number[],
  ys: number[],
  scale: PlotScale,
  mx: number,
  my: number,
  radius = 6,
): number {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < xs.length; i += 1) {
    const dx = scale.px(xs[i]!) - mx;
    const dy = scale.py(ys[i]!) - my;
    const d = dx * dx + dy * dy;
    if (d <= bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** H@1 per group as a one-series bar chart (share of queries ranked right at the top). */
export function hitsSeries(groups: HitsGroupDto[], name: string): CategorySeries {
  return {
    labels: groups.map((g) => `${g.label} (${g.queries})`),
    series: [{ name, values: groups.map((g) => (g.queries === 0 ? 0 : g.hits_at_1 / g.queries)) }],
  };
}
