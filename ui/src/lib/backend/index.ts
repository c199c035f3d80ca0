// Picks the shell: Tauri when its internals are injected, else the HTTP server.

import type { Backend } from './backend';
import { HttpBackend } from './http';
import { TauriBackend } from './tauri';

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
  return new HttpBackend();
}

/** The backend of this window. */
export const backend: Backend = pick();
