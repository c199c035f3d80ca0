// A small cache of promises by key, most recently used kept: the value is asked for once
// (a prefetch and the later read share one request), failures are not kept.

export class PromiseCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  /** `keep`: how many entries stay (the least recently used go first). */
  constructor(
    private readonly fetch: (key: string) => Promise<V>,
    private readonly keep: number,
  ) {}

  /** The value for `key`: the cached promise, or a new fetch. */
  get(key: string): Promise<V> {
    const cached = this.entries.get(key);
    if (cached) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const pending = this.fetch(key);
    this.entries.set(key, pending);
    pending.catch(() => {
      if (this.entries.get(key) === pending) this.entries.delete(key);
    });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.keep) break;
      this.entries.delete(oldest);
    }
    return pending;
  }

  /** Drops `key`, so the next `get` fetches it again (after the data changed). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
  }

  /** How many entries are kept now. */
  get size(): number {
    return this.entries.size;
  }
}
