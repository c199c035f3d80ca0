import { describe, expect, it } from 'vitest';
import { PromiseCache } from './promiseCache';

describe('PromiseCache', () => {
  it('fetches a key once and shares the promise', async () => {
    const asked: string[] = [];
    const cache = new PromiseCache(async (key) => {
      asked.push(key);
      return key.toUpperCase();
    }, 4);
    const first = cache.get('a');
    expect(cache.get('a')).toBe(first);
    expect(await first).toBe('A');
    expect(asked).toEqual(['a']);
  });

  it('keeps the most recently used entries', async () => {
    const asked: string[] = [];
    const cache = new PromiseCache(async (key) => {
      asked.push(key);
      return key;
    }, 2);
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    await cache.get('a');
    await cache.get('b');
    expect(asked).toEqual(['a', 'b', 'c', 'b']);
  });

  it('forgets a failure, so the next read asks again', async () => {
    let calls = 0;
    const cache = new PromiseCache(async () => {
      calls += 1;
      if (calls === 1) throw new Error('offline');
      return 'ok';
    }, 4);
    await expect(cache.get('x')).rejects.toThrow('offline');
    expect(cache.size).toBe(0);
    expect(await cache.get('x')).toBe('ok');
    expect(calls).toBe(2);
  });

  it('fetches a forgotten key again', async () => {
    let calls = 0;
    const cache = new PromiseCache(async (k) => `${k}${(calls += 1)}`, 4);
    expect(await cache.get('a')).toBe('a1');
    cache.forget('a');
    expect(await cache.get('a')).toBe('a2');
    expect(await cache.get('a')).toBe('a2');
  });

  it('gives an arrived value at once, and nothing while pending or after a failure', async () => {
    let release: (v: string) => void = () => undefined;
    const cache = new PromiseCache(
      (k) =>
        k === 'bad'
          ? Promise.reject(new Error('no'))
          : new Promise<string>((done) => (release = done)),
      4,
    );
    const pending = cache.get('a');
    expect(cache.peek('a')).toBeUndefined();
    release('A');
    await pending;
    expect(cache.peek('a')).toBe('A');
    expect(cache.peek('never asked')).toBeUndefined();
    await expect(cache.get('bad')).rejects.toThrow('no');
    expect(cache.peek('bad')).toBeUndefined();
    cache.forget('a');
    expect(cache.peek('a')).toBeUndefined();
  });
});
