import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
const listen = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: (...a: unknown[]) => listen(...a) }));

const { TauriBackend } = await import('./tauri');
const { ApiError } = await import('./backend');

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
});

describe('TauriBackend', () => {
  it('invokes api_call with the call object', async () => {
    invoke.mockResolvedValue({ id: 3 });
    const b = new TauriBackend('X11; Linux');
    expect(await b.call('get_run', { id: 3 })).toEqual({ id: 3 });
    expect(invoke).toHaveBeenCalledWith('api_call', {
      call: { method: 'get_run', params: { id: 3 } },
    });
  });

  it('rejects with the ApiError the command rejected with', async () => {
    invoke.mockRejectedValue({ code: 'conflict', message: 'run 3 is running' });
    const err = await new TauriBackend('Linux')
      .call('delete_run', { id: 3 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'conflict', message: 'run 3 is running' });
  });

  it('forwards job-event payloads and unlistens, even before listen resolved', async () => {
    let handler: ((e: { payload: unknown }) => void) | null = null;
    const unlisten = vi.fn();
    listen.mockImplementation(async (name: string, h: (e: { payload: unknown }) => void) => {
      expect(name).toBe('job-event');
      handler = h;
      return unlisten;
    });
    const seen: unknown[] = [];
    const b = new TauriBackend('Linux');
    const stop = b.subscribe((e) => seen.push(e));
    await Promise.resolve();
    await Promise.resolve();
    const emit = handler as ((e: { payload: unknown }) => void) | null;
    emit?.({ payload: { kind: 'queued', run: 1 } });
    expect(seen).toEqual([{ kind: 'queued', run: 1 }]);
    stop();
    expect(unlisten).toHaveBeenCalledTimes(1);

    const early = vi.fn();
    listen.mockResolvedValue(early);
    const stopEarly = b.subscribe(() => {});
    stopEarly();
    await Promise.resolve();
    await Promise.resolve();
    expect(early).toHaveBeenCalledTimes(1);
  });

  it('serves images from the alignscope scheme in the platform form', () => {
    expect(new TauriBackend('X11; Linux x86_64').imageUrl(1, 'left', 'k/é', 0)).toBe(
      'alignscope://localhost/api/image?dataset=1&side=left&key=k%2F%C3%A9&index=0',
    );
    expect(new TauriBackend('Windows NT 10.0').imageUrl(1, 'right', 'k', 2)).toBe(
      'http://alignscope.localhost/api/image?dataset=1&side=right&key=k&index=2',
    );
  });
});
