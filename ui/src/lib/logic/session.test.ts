import { describe, expect, it } from 'vitest';
import { SESSION_STORAGE_KEY, windowSession } from './session';

function memory() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

describe('windowSession', () => {
  it('makes one id per window and keeps it across calls (and reloads)', () => {
    const storage = memory();
    let n = 0;
    const random = () => `id-${++n}`;
    expect(windowSession(storage, random)).toBe('id-1');
    expect(windowSession(storage, random)).toBe('id-1');
    expect(storage.map.get(SESSION_STORAGE_KEY)).toBe('id-1');
  });

  it('gives another window (other storage) another id', () => {
    const a = windowSession(memory());
    const b = windowSession(memory());
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('works without storage', () => {
    expect(windowSession(null, () => 'x')).toBe('x');
  });
});
