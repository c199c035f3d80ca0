// The browser shell: `alignscope serve` (POST /api/call, SSE /api/events, GET /api/image).

import { ApiError, type Backend, type Method, type Params, type Result } from './backend';
import { decodeHttpFailure } from './errors';
import type { DatasetId, JobEvent, SideDto } from './types';
import { imageQuery, withToken } from './urls';

/** Delay before the n-th reconnect attempt (1 s doubling, capped at 15 s). */
export function reconnectDelay(attempt: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.max(0, attempt));
}

export class HttpBackend implements Backend {
  readonly kind = 'http' as const;
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private source: EventSource | null = null;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  /** `token`: the server's token ({@link takeToken}), sent as the bearer header. */
  constructor(
    private readonly base = '',
    private readonly token: string | null = null,
  ) {}

  async call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.token) headers['Authorization'] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/call`, {
        method: 'POST',
        headers,
        credentials: 'same-origin',
        body: JSON.stringify({ method, params }),
      });
    } catch (e) {
      throw new ApiError(
        'transport',
        `Cannot reach the AlignScope server (${e instanceof Error ? e.message : String(e)}).`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw decodeHttpFailure(response.status, text);
    try {
      return (text === '' ? null : JSON.parse(text)) as Result<M>;
    } catch {
      throw new ApiError('bad_response', `The server answered ${method} with invalid JSON.`);
    }
  }

  subscribe(onEvent: (e: JobEvent) => void): () => void {
    this.listeners.add(onEvent);
    if (!this.source && this.retryTimer === null) this.connect();
    return () => {
      this.listeners.delete(onEvent);
      if (this.listeners.size === 0) this.disconnect();
    };
  }

  imageUrl(dataset: DatasetId, side: SideDto, key: string, index: number): string {
    return withToken(`${this.base}/api/image?${imageQuery(dataset, side, key, index)}`, this.token);
  }

  private connect(): void {
    this.retryTimer = null;
    const source = new EventSource(withToken(`${this.base}/api/events`, this.token));
    this.source = source;
    source.onopen = () => {
      this.attempts = 0;
    };
    source.onmessage = (message: MessageEvent<string>) => {
      let event: JobEvent;
      try {
        event = JSON.parse(message.data) as JobEvent;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(event);
    };
    source.onerror = () => {
      // The browser retries by itself unless the stream is closed (e.g. a 401 or a restart
      // that refused the connection): then reconnect with back-off.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        if (this.listeners.size > 0) {
          this.retryTimer = setTimeout(() => this.connect(), reconnectDelay(this.attempts++));
        }
      }
    };
  }

  private disconnect(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
  }
}
