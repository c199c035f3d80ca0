// A small cache of promises by key, most recently used kept: the value is asked for once
// (a prefetch and the later read share one request), failures are not kept. A value that
// has arrived can also be read at once (`peek`), so a view can paint it in the same task.

interface Entry<V> {
  promise: Promise<V>;
  /** Set once the promise has resolved. */
  value?: { v: V };
}

export class PromiseCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  /** `keep`: how many entries stay (the least recently used go first). */
  constructor(
    private readonly fetch: (key: string) => Promise<V>,
    private readonly keep: number,
  ) {}

  /** The value for `key`: the cached promise, or a new fetch. */
  get(key: string): Promise<V> {
    const cached = this.touch(key);
    if (cached) return cached.promise;
    const entry: Entry<V> = { promise: this.fetch(key) };
    this.entries.set(key, entry);
    entry.promise.then(
      (v) => {
        entry.value = { v };
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.keep) break;
      this.entries.delete(oldest);
    }
    return entry.promise;
  }

  /** The value for `key` if it has arrived; `undefined` while it is pending or absent. */
  peek(key: string): V | undefined {
    return this.touch(key)?.value?.v;
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

  /** The entry for `key`, moved to most recently used. */
  private touch(key: string): Entry<V> | undefined {
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
    }
    return cached;
  }
}
