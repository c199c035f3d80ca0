// A run's one-to-one decodings as the analysis page shows them: the precision/recall
// curves on one recall axis, and which saved decoders the export and review can use.

import type { DecoderMethod, DecoderOutcomeDto, DecodingDto } from '../backend/types';

/** The decoders a person can ask for (plain ranking always comes along). */
export const DECODER_CHOICES: [DecoderMethod, string][] = [
  ['greedy', 'greedy'],
  ['hungarian', 'Hungarian (exact)'],
  ['sinkhorn', 'Sinkhorn'],
];

/** A colour per method, the same in the table and the chart. */
export const DECODER_COLORS: Record<DecoderMethod, string> = {
  rank: '#6b7280',
  greedy: '#2563eb',
  hungarian: '#dc2626',
  sinkhorn: '#16a34a',
};

/**
 * The curves resampled on one recall grid (`points` steps from 0 to the largest recall
 * any decoder reaches), for a line chart: `[recall, ...precision per outcome]`. At each
 * recall a curve's precision is that of the most confident cut that reaches it (the
 * first point whose recall is at least the grid's); beyond a curve's last recall it has
 * no value (a gap).
 */
export function precisionByRecall(
  outcomes: Pick<DecoderOutcomeDto, 'curve'>[],
  points = 100,
): [number[], ...(number | null)[][]] {
  const top = Math.max(0, ...outcomes.flatMap((o) => o.curve.map((p) => p.recall)));
  const grid = Array.from({ length: points + 1 }, (_, i) => (top * i) / points);
  const series = outcomes.map((o) => {
    let at = 0;
    return grid.map((r) => {
      while (at < o.curve.length && o.curve[at]!.recall < r - 1e-12) at += 1;
      return at < o.curve.length ? o.curve[at]!.precision : null;
    });
  });
  return [grid, ...series];
}

/** The one-to-one methods a saved decoding holds (what export and review can use). */
export function savedOneToOne(decoding: DecodingDto | null): DecoderMethod[] {
  return (decoding?.result?.outcomes ?? []).filter((o) => o.one_to_one).map((o) => o.method);
}

/** A decoding's progress as a fraction (0 before the first step ends). */
export function decodingFraction(decoding: DecodingDto | null): number {
  return decoding && decoding.total > 0 ? decoding.done / decoding.total : 0;
}
