// Entity details, fetched once per entity and kept for the most recent few: the search
// list asks for the highlighted result before it is clicked, so the card that the click
// opens usually has its data already.
import { backend } from '../backend';
import type { EntityDetailDto, SideDto } from '../backend/types';
import { PromiseCache } from '../logic/promiseCache';

const cache = new PromiseCache<EntityDetailDto>((id) => {
  const { dataset, side, key } = JSON.parse(id) as { dataset: number; side: SideDto; key: string };
  return backend.call('entity_detail', { dataset, side, key });
}, 32);

/** One entity's detail (cached). */
export function entityDetail(
  dataset: number,
  side: SideDto,
  key: string,
): Promise<EntityDetailDto> {
  return cache.get(JSON.stringify({ dataset, side, key }));
}

/** One entity's detail if it has arrived already, else `undefined`. */
export function arrivedEntityDetail(
  dataset: number,
  side: SideDto,
  key: string,
): EntityDetailDto | undefined {
  return cache.peek(JSON.stringify({ dataset, side, key }));
}

/** Starts fetching an entity's detail ahead of need; a failure shows when it is read. */
export function prefetchEntityDetail(dataset: number, side: SideDto, key: string): void {
  entityDetail(dataset, side, key).catch(() => undefined);
}
