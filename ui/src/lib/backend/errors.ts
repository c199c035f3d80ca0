// Turning whatever a transport hands back into an `ApiError`.

import { ApiError, type ClientErrorCode } from './backend';
import type { ErrorCode } from './types';

// Every server code, checked against the generated `ErrorCode` (a new code fails to compile).
const SERVER_CODES = {
  not_found: true,
  invalid_input: true,
  conflict: true,
  locked: true,
  read_only: true,
  not_a_database: true,
  storage: true,
  io: true,
  training: true,
  internal: true,
} as const satisfies Record<ErrorCode, true>;

function isServerCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(SERVER_CODES, code);
}

function fromObject(value: unknown): ApiError | null {
  if (typeof value !== 'object' || value === null) return null;
  const { code, message } = value as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return null;
  if (isServerCode(code)) return new ApiError(code, message);
  return null;
}

/** Decodes a Tauri `invoke` rejection (the `ApiError` object, or a string from Tauri itself). */
export function decodeRejection(reason: unknown): ApiError {
  if (reason instanceof ApiError) return reason;
  const direct = fromObject(reason);
  if (direct) return direct;
  if (typeof reason === 'string') {
    try {
      const parsed = fromObject(JSON.parse(reason));
      if (parsed) return parsed;
    } catch {
      // not JSON: a plain message from the shell
    }
    return new ApiError('transport', reason);
  }
  if (reason instanceof Error) return new ApiError('transport', reason.message);
  return new ApiError('transport', String(reason));
}

/** Decodes a non-2xx HTTP answer from its status and body text. */
export function decodeHttpFailure(status: number, body: string): ApiError {
  try {
    const parsed = fromObject(JSON.parse(body));
    if (parsed) return parsed;
  } catch {
    // fall through
  }
  const code: ClientErrorCode = status === 401 ? 'unauthorized' : 'bad_response';
  const text = body.trim();
  const hint =
    status === 401
      ? 'Not authorised: open the URL that `alignscope serve` printed (it carries the token).'
      : `HTTP ${status}`;
  return new ApiError(code, text && status !== 401 ? `${hint}: ${text.slice(0, 500)}` : hint);
}

/** A short label for an error code, for the banner. */
export function errorTitle(code: ApiError['code']): string {
  const titles: Record<ApiError['code'], string> = {
    not_found: 'Not found',
    invalid_input: 'Invalid input',
    conflict: 'Conflict',
    locked: 'Database locked',
    read_only: 'Read-only',
    not_a_database: 'Not an AlignScope database',
    storage: 'Storage error',
    io: 'File error',
    training: 'Training error',
    internal: 'Internal error',
    transport: 'Connection problem',
    unauthorized: 'Not authorised',
    bad_response: 'Unexpected answer',
  };
  return titles[code];
}
