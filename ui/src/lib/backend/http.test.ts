import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './backend';
import { HttpBackend, reconnectDelay } from './http';

function mockFetch(status: number, body: string) {
  const fn = vi.fn(async () => new Response(body, { status }));
  vi.stubGlobal('fetch', fn);
  return fn;
}

afterEach(() => vi.unstubAllGlobals());

describe('HttpBackend.call', () => {
  it('posts {method, params} with the bearer token and returns the JSON result', async () => {
    const fetch = mockFetch(200, '[{"id":1}]');
    const b = new HttpBackend('', 'secret');
    const result = await b.call('list_runs', {});
    expect(result).toEqual([{ id: 1 }]);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/call');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Authorization']).toBe('Bearer secret');
    expect(JSON.parse(init.body as string)).toEqual({ method: 'list_runs', params: {} });
  });

  it('sends no Authorization header without a token, and maps an empty body to null', async () => {
    const fetch = mockFetch(200, '');
    const b = new HttpBackend('', null);
    expect(await b.call('delete_run', { id: 3 })).toBeNull();
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)['Authorization']).toBeUndefined();
  });

  it('throws the server ApiError on failure', async () => {
    mockFetch(400, '{"code":"invalid_input","message":"ent_ids_1:7: bad id"}');
    const b = new HttpBackend('', null);
    const err = await b.call('import_dataset', { path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'invalid_input', message: 'ent_ids_1:7: bad id' });
  });

  it('reports a network failure as a transport error', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    );
    const err = await new HttpBackend('', null).call('demo_status', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'transport' });
    expect((err as ApiError).message).toContain('Failed to fetch');
  });

  it('builds image URLs with the token for <img>', () => {
    const b = new HttpBackend('', 't');
    expect(b.imageUrl(1, 'left', 'a b', 2)).toBe(
      '/api/image?dataset=1&side=left&key=a+b&index=2&token=t',
    );
  });
});

describe('reconnectDelay', () => {
  it('doubles from 1 s and caps at 15 s', () => {
    expect([0, 1, 2, 3, 4, 10].map(reconnectDelay)).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
  });
});
