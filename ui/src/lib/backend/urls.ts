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
