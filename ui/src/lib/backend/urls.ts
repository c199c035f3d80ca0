// URL building shared by the transports (pure, unit-tested).

import type { DatasetId, SideDto } from './types';

/** The query string of an entity image request (same for both shells). */
export function imageQuery(dataset: DatasetId, side: SideDto, key: string, index: number): string {
  const q = new URLSearchParams({
    dataset: String(dataset),
    side,
    key,
    index: String(index),
  });
  return q.toString();
}

/** The `?token=` of the page URL, if the server printed one. */
export function tokenFromSearch(search: string): string | null {
  const token = new URLSearchParams(search).get('token');
  return token && token.length > 0 ? token : null;
}

/** Where the page keeps the token once it has taken it out of the address bar. */
export const TOKEN_STORAGE_KEY = 'alignscope.token';

/** What {@link takeToken} needs of the window (injectable for tests). */
export interface TokenPlace {
  readonly location: { readonly href: string };
  readonly history: { replaceState(data: unknown, unused: string, url: string): void };
  readonly storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * The server's token, taken out of the address bar: a `?token=` in the page URL is kept in
 * `storage` (so reloads and other tabs of this server work) and removed from the URL (so it
 * is not shown, bookmarked or copied along); without one, the kept token, if any.
 */
export function takeToken(place: TokenPlace): string | null {
  const url = new URL(place.location.href);
  const fromUrl = tokenFromSearch(url.search);
  if (fromUrl === null) return place.storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  try {
    place.storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
  } catch {
    // Storage can be full or disabled: the token still works for this page.
  }
  url.searchParams.delete('token');
  place.history.replaceState(null, '', url.pathname + url.search + url.hash);
  return fromUrl;
}

/** Appends `token` to a same-origin URL (for `<img>` and `EventSource`, which send no headers). */
export function withToken(url: string, token: string | null): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/**
 * Origin of a Tauri custom URI scheme: `scheme://localhost` on Linux and macOS,
 * `http://scheme.localhost` on Windows and Android (WebView2 cannot load custom schemes).
 */
export function customSchemeOrigin(scheme: string, windowsLike: boolean): string {
  return windowsLike ? `http://${scheme}.localhost` : `${scheme}://localhost`;
}

/** Whether a user agent is Windows or Android (the `http://scheme.localhost` form). */
export function isWindowsLike(userAgent: string): boolean {
  return /Windows|Android/i.test(userAgent);
}
