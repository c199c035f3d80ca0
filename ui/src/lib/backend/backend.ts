// The one interface every view talks to, whatever shell hosts the UI.

import type {
  ApiCall,
  ApiResults,
  CallParams,
  DatasetId,
  ErrorCode,
  JobEvent,
  SideDto,
} from './types';

/** Every RPC method (from the generated `ApiCall` union, mirroring src-tauri/src/api/rpc.rs). */
export type Method = ApiCall['method'];
/** A method's params, as the generated bindings declare them. */
export type Params<M extends Method> = CallParams<M>;
/** A method's result, from the generated `ApiResults` table. */
export type Result<M extends Method> = ApiResults[M];

/** What both shells receive: `{"method": ..., "params": ...}` (serde adjacently tagged). */
export interface ApiCallBody<M extends Method = Method> {
  method: M;
  params: Params<M>;
}

/** Failures the client itself detects (no server answer, or an answer that is not an ApiError). */
export type ClientErrorCode = 'transport' | 'unauthorized' | 'bad_response';

/** A failed call: the server's `ApiError`, or a client-side failure with the same shape. */
export class ApiError extends Error {
  readonly code: ErrorCode | ClientErrorCode;

  constructor(code: ErrorCode | ClientErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

export interface Backend {
  /** Which shell this is ("http" or "tauri"), for the status line. */
  readonly kind: 'http' | 'tauri';
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  /** Job events; returns the unsubscribe function. */
  subscribe(onEvent: (e: JobEvent) => void): () => void;
  /** URL of an entity's `index`-th image, usable as `<img src>`. */
  imageUrl(dataset: DatasetId, side: SideDto, key: string, index: number): string;
}
