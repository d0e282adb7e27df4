import type { FastifyError } from 'fastify';
import { TagwayError, type ItemError, type ProblemCode } from '../../../domain/problems.js';
import { isStorageFault, STORAGE_RETRY_AFTER_S } from '../../../runtime/storage-health.js';

/**
 * Classic WinCC's error model as Tagway answers it (inferred, docs/wincc-classic.md): every failure is a JSON
 * object `{"errorcode": <number ≠ 0>, "code": "<TAGWAY_CODE>", "error": "<text>"}` with the HTTP status of the
 * code; `errorcode` 0 with `error: ""` is success (single writes). Never problem+json: clients of this profile
 * look for `errorcode` and `error`.
 */
// Every code has its number (a new problem code fails the type check until it gets one here and in the docs).
const ERRORCODE: Record<ProblemCode, number> = {
  UNAUTHENTICATED: 1,
  FORBIDDEN: 2,
  CSRF_FAILED: 3,
  VALIDATION_FAILED: 4,
  TAG_NOT_FOUND: 5,
  NOT_FOUND: 6,
  METHOD_NOT_ALLOWED: 7,
  UNSUPPORTED_MEDIA_TYPE: 8,
  READ_ONLY: 9,
  INVALID_STATE: 10,
  CONFLICT: 11,
  TYPE_MISMATCH: 12,
  OUT_OF_RANGE: 13,
  PAYLOAD_TOO_LARGE: 14,
  TOO_MANY_REQUESTS: 15,
  DEVICE_UNAVAILABLE: 16,
  DEVICE_TIMEOUT: 17,
  SERVICE_UNAVAILABLE: 18,
  STORAGE_UNAVAILABLE: 19,
  OUTBOX_FULL: 20,
  INTERNAL_ERROR: 99,
};

/** The numeric `errorcode` of a Tagway problem code (99 for one this table does not know yet). */
export function errorcodeOf(code: string): number {
  return ERRORCODE[code as ProblemCode] ?? 99;
}

export interface ErrorBody {
  errorcode: number;
  code: string;
  error: string;
}

export function errorBody(e: ItemError | { code: string; message: string }): ErrorBody {
  return { errorcode: errorcodeOf(e.code), code: e.code, error: e.message };
}

/** What a thrown error answers: status and body; `internal` when it is ours to log. */
export function toWinccError(err: unknown): {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
  internal: boolean;
  /** The storage refused: /health is told. */
  storage?: boolean;
} {
  if (err instanceof TagwayError)
    return {
      status: err.status,
      body: errorBody(err),
      ...(err.headers ? { headers: err.headers } : {}),
      internal: err.code === 'INTERNAL_ERROR',
      storage: err.code === 'STORAGE_UNAVAILABLE',
    };
  // A full or failing disk is a state the client can wait out (as on the native API), not a bug.
  if (isStorageFault(err))
    return {
      status: 503,
      body: errorBody({
        code: 'STORAGE_UNAVAILABLE',
        message: 'Storage is full or failing; the server cannot record this now. Try again later',
      }),
      headers: { 'retry-after': String(STORAGE_RETRY_AFTER_S) },
      internal: false,
      storage: true,
    };
  const e = err as Partial<FastifyError>;
  const mapped = fastifyCode(e);
  if (mapped) return { status: new TagwayError(mapped.code, mapped.message).status, body: errorBody(mapped), internal: false };
  return { status: 500, body: errorBody({ code: 'INTERNAL_ERROR', message: 'internal error' }), internal: true };
}

function fastifyCode(e: Partial<FastifyError>): { code: ProblemCode; message: string } | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than the server accepts' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'VALIDATION_FAILED', message: 'The JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'VALIDATION_FAILED', message: 'The body is not valid JSON' };
  }
  if (e.statusCode === 400) return { code: 'VALIDATION_FAILED', message: 'The body is not valid JSON' };
  if (e.statusCode === 413) return { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than the server accepts' };
  if (e.statusCode === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json' };
  return undefined;
}

/** A request this profile refuses before any service is asked (a malformed body or parameter). */
export function invalid(message: string): TagwayError {
  return new TagwayError('VALIDATION_FAILED', message);
}
