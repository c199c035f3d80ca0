// The desktop shell: Tauri command `api_call` and event `job-event`.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Backend, Method, Params, Result } from './backend';
import { decodeRejection } from './errors';
import type { DatasetId, JobEvent, SideDto } from './types';
import { customSchemeOrigin, imageQuery, isWindowsLike } from './urls';

export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;
  private readonly origin: string;

  constructor(userAgent: string = typeof navigator === 'undefined' ? '' : navigator.userAgent) {
    this.origin = customSchemeOrigin('alignscope', isWindowsLike(userAgent));
  }

  async call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    try {
      return await invoke<Result<M>>('api_call', { call: { method, params } });
    } catch (e) {
      throw decodeRejection(e);
    }
  }

  subscribe(onEvent: (e: JobEvent) => void): () => void {
    let unlisten: UnlistenFn | null = null;
    let cancelled = false;
    void listen<JobEvent>('job-event', (event) => onEvent(event.payload)).then((f) => {
      if (cancelled) f();
      else unlisten = f;
    });
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }

  imageUrl(dataset: DatasetId, side: SideDto, key: string, index: number): string {
    return `${this.origin}/api/image?${imageQuery(dataset, side, key, index)}`;
  }
}
