// Picks the shell: Tauri when its internals are injected, else the HTTP server.

import type { Backend } from './backend';
import { HttpBackend } from './http';
import { TauriBackend } from './tauri';
import { takeToken } from './urls';

export * from './backend';
export type * from './types';

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

function pick(): Backend {
  if (typeof window !== 'undefined' && window.__TAURI_INTERNALS__ !== undefined) {
    return new TauriBackend();
  }
  let storage: Storage | null = null;
  try {
    storage = window.localStorage;
  } catch {
    // Storage disabled: the token lives as long as the page.
  }
  return new HttpBackend(
    '',
    takeToken({ location: window.location, history: window.history, storage }),
  );
}

/** The backend of this window. */
export const backend: Backend = pick();
