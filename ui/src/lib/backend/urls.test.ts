import { describe, expect, it } from 'vitest';
import {
  TOKEN_STORAGE_KEY,
  customSchemeOrigin,
  imageQuery,
  isWindowsLike,
  takeToken,
  tokenFromSearch,
  withToken,
} from './urls';

describe('image URLs', () => {
  it('encodes the key so URIs and non-ASCII survive', () => {
    const q = imageQuery(2, 'right', 'http://ja.dbpedia.org/resource/東京?x=1&y', 0);
    const parsed = new URLSearchParams(q);
    expect(parsed.get('dataset')).toBe('2');
    expect(parsed.get('side')).toBe('right');
    expect(parsed.get('key')).toBe('http://ja.dbpedia.org/resource/東京?x=1&y');
    expect(parsed.get('index')).toBe('0');
    expect(q).not.toContain('東京');
  });
  it('uses the platform form of a custom scheme', () => {
    expect(customSchemeOrigin('alignscope', false)).toBe('alignscope://localhost');
    expect(customSchemeOrigin('alignscope', true)).toBe('http://alignscope.localhost');
    expect(isWindowsLike('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120')).toBe(true);
    expect(isWindowsLike('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15')).toBe(false);
  });
});

describe('token', () => {
  it('reads ?token= from the page URL', () => {
    expect(tokenFromSearch('?token=abc123')).toBe('abc123');
    expect(tokenFromSearch('?x=1&token=a%2Bb')).toBe('a+b');
    expect(tokenFromSearch('')).toBeNull();
    expect(tokenFromSearch('?token=')).toBeNull();
  });
  it('appends the token with the right separator', () => {
    expect(withToken('/api/events', 't')).toBe('/api/events?token=t');
    expect(withToken('/api/image?a=1', 'a+b')).toBe('/api/image?a=1&token=a%2Bb');
    expect(withToken('/api/events', null)).toBe('/api/events');
  });
});

describe('takeToken', () => {
  function place(href: string, kept: string | null = null) {
    const stored = new Map<string, string>();
    if (kept !== null) stored.set(TOKEN_STORAGE_KEY, kept);
    const replaced: string[] = [];
    return {
      stored,
      replaced,
      place: {
        location: { href },
        history: { replaceState: (_d: unknown, _u: string, url: string) => replaced.push(url) },
        storage: {
          getItem: (k: string) => stored.get(k) ?? null,
          setItem: (k: string, v: string) => void stored.set(k, v),
        },
      },
    };
  }

  it('takes the token out of the address bar and keeps it', () => {
    const p = place('http://127.0.0.1:7878/?x=1&token=abc#/runs/3?tab=2', 'old');
    expect(takeToken(p.place)).toBe('abc');
    expect(p.replaced).toEqual(['/?x=1#/runs/3?tab=2']);
    expect(p.stored.get(TOKEN_STORAGE_KEY)).toBe('abc');
  });

  it('uses the kept token when the URL has none, and leaves the URL alone', () => {
    const p = place('http://127.0.0.1:7878/#/train', 'kept');
    expect(takeToken(p.place)).toBe('kept');
    expect(p.replaced).toEqual([]);
    expect(takeToken(place('http://127.0.0.1:7878/').place)).toBeNull();
  });

  it('works without storage', () => {
    const p = place('http://h:1/?token=t');
    expect(takeToken({ ...p.place, storage: null })).toBe('t');
    expect(p.replaced).toEqual(['/']);
  });
});
