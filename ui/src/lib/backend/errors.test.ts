import { describe, expect, it } from 'vitest';
import { ApiError } from './backend';
import { decodeHttpFailure, decodeRejection, errorTitle } from './errors';

describe('decodeRejection (Tauri invoke)', () => {
  it('keeps the server ApiError object', () => {
    const e = decodeRejection({
      code: 'invalid_input',
      message: 'triples.tsv:12: expected 3 columns',
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('invalid_input');
    expect(e.message).toBe('triples.tsv:12: expected 3 columns');
  });
  it('parses an ApiError sent as a JSON string', () => {
    const e = decodeRejection('{"code":"not_found","message":"no run 9"}');
    expect([e.code, e.message]).toEqual(['not_found', 'no run 9']);
  });
  it('turns anything else into a transport error with its text', () => {
    expect(decodeRejection('command api_call not found')).toMatchObject({
      code: 'transport',
      message: 'command api_call not found',
    });
    expect(decodeRejection(new Error('boom'))).toMatchObject({
      code: 'transport',
      message: 'boom',
    });
    expect(decodeRejection({ code: 'weird', message: 'x' }).code).toBe('transport');
  });
});

describe('decodeHttpFailure', () => {
  it('decodes the ApiError body', () => {
    const e = decodeHttpFailure(409, '{"code":"conflict","message":"run 3 is running"}');
    expect([e.code, e.message]).toEqual(['conflict', 'run 3 is running']);
  });
  it('explains a 401 without echoing the body', () => {
    const e = decodeHttpFailure(401, 'unauthorized');
    expect(e.code).toBe('unauthorized');
    expect(e.message).toContain('token');
  });
  it('reports other non-JSON bodies with the status', () => {
    const e = decodeHttpFailure(502, 'Bad Gateway');
    expect(e.code).toBe('bad_response');
    expect(e.message).toBe('HTTP 502: Bad Gateway');
  });
  it('has a title for every code', () => {
    expect(errorTitle('invalid_input')).toBe('Invalid input');
    expect(errorTitle('transport')).toBe('Connection problem');
  });
});
