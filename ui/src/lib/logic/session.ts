// The review session of this window: an id kept for the tab's life (reloads included), so
// that undo takes back only what this window decided.

/** Where the window keeps its session id. */
export const SESSION_STORAGE_KEY = 'alignscope.reviewSession';

/** The session id kept in `storage`, made (random) on first use; a fresh one per call
 *  when there is no storage. */
export function windowSession(
  storage: Pick<Storage, 'getItem' | 'setItem'> | null,
  random: () => string = () => crypto.randomUUID(),
): string {
  const kept = storage?.getItem(SESSION_STORAGE_KEY);
  if (kept) return kept;
  const made = random();
  try {
    storage?.setItem(SESSION_STORAGE_KEY, made);
  } catch {
    // Storage full or disabled: the id lives as long as the caller keeps it.
  }
  return made;
}
