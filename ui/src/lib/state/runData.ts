// A run's per-entity data for the inspector and the review queue, fetched once and kept
// for the most recent few: the queue asks for the next pair's data while the reviewer
// looks at the current one, so "next" paints from memory.
import { backend } from '../backend';
import type { CandidatesDto, PairContextDto, SideDto } from '../backend/types';
import { PromiseCache } from '../logic/promiseCache';
import { entityDetail } from './entityDetails';

const candidatesCache = new PromiseCache<CandidatesDto>((id) => {
  const { run, side, key } = JSON.parse(id) as { run: number; side: SideDto; key: string };
  return backend.call('candidates', { run, side, key });
}, 32);

const contextCache = new PromiseCache<PairContextDto>((id) => {
  const { run, left, right } = JSON.parse(id) as { run: number; left: string; right: string };
  return backend.call('pair_context', { run, left, right });
}, 16);

const candidatesId = (run: number, side: SideDto, key: string) =>
  JSON.stringify({ run, side, key });
const contextId = (run: number, left: string, right: string) =>
  JSON.stringify({ run, left, right });

/** An entity's ranked candidates in a run (cached). */
export function candidatesOf(run: number, side: SideDto, key: string): Promise<CandidatesDto> {
  return candidatesCache.get(candidatesId(run, side, key));
}

/** Both neighbourhoods of a pair and the links between them (cached). */
export function pairContext(run: number, left: string, right: string): Promise<PairContextDto> {
  return contextCache.get(contextId(run, left, right));
}

/** An entity's ranked candidates if they have arrived already, else `undefined`. */
export function arrivedCandidates(
  run: number,
  side: SideDto,
  key: string,
): CandidatesDto | undefined {
  return candidatesCache.peek(candidatesId(run, side, key));
}

/** A pair's context if it has arrived already, else `undefined`. */
export function arrivedPairContext(
  run: number,
  left: string,
  right: string,
): PairContextDto | undefined {
  return contextCache.peek(contextId(run, left, right));
}

/**
 * Forgets what a decision about a pair of `left` changes: the left entity's candidates
 * (they carry decisions) and, when accepted pairs change (`links`), every cached pair
 * context (accepted pairs are drawn as links).
 */
export function forgetDecided(run: number, left: string, links: boolean): void {
  candidatesCache.forget(candidatesId(run, 'left', left));
  if (links) contextCache.clear();
}

/** Fetches everything the pair view of (left, right) shows, ahead of need. */
export function prefetchPair(dataset: number, run: number, left: string, right: string): void {
  const ignore = () => undefined;
  entityDetail(dataset, 'left', left).catch(ignore);
  entityDetail(dataset, 'right', right).catch(ignore);
  candidatesOf(run, 'left', left).catch(ignore);
  pairContext(run, left, right).catch(ignore);
}
