import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from './debounce';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('debounce', () => {
  it('runs the first call at once and coalesces a burst into one trailing call', () => {
    const seen: string[] = [];
    const d = debounce((q: string) => seen.push(q), 80);
    d('p');
    expect(seen).toEqual(['p']);
    d('pa');
    d('par');
    vi.advanceTimersByTime(79);
    expect(seen).toEqual(['p']);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['p', 'par']);
    vi.advanceTimersByTime(200);
    expect(seen).toEqual(['p', 'par']);
    d('paris');
    expect(seen).toEqual(['p', 'par', 'paris']);
  });
  it('drops the pending call on cancel', () => {
    const seen: number[] = [];
    const d = debounce((n: number) => seen.push(n), 50);
    d(1);
    d(2);
    d.cancel();
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([1]);
  });
});
