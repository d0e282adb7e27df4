/**
 * Every problem the API can answer, declared once: stable code, HTTP status and title.
 * Handlers and services throw `TagwayError`; one error handler renders RFC 9457 problem+json.
 */
export const PROBLEMS = {
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  CSRF_FAILED: { status: 403, title: 'CSRF token missing or wrong' },
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  TAG_NOT_FOUND: { status: 404, title: 'Tag not found' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  READ_ONLY: { status: 409, title: 'Tag is read-only' },
  INVALID_STATE: { status: 409, title: 'Invalid state' },
  CONFLICT: { status: 409, title: 'Conflict' },
  TYPE_MISMATCH: { status: 422, title: 'Value does not match the tag type' },
  OUT_OF_RANGE: { status: 422, title: 'Value out of range' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Too many requests' },
  DEVICE_UNAVAILABLE: { status: 503, title: 'Device unavailable' },
  DEVICE_TIMEOUT: { status: 504, title: 'Device timeout' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  STORAGE_UNAVAILABLE: { status: 503, title: 'Storage unavailable' },
  OUTBOX_FULL: { status: 503, title: 'Export outbox full for a target' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  field: string;
  message: string;
}

export class TagwayError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(code: ProblemCode, message: string, opts: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TagwayError';
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.errors = opts.errors;
    this.headers = opts.headers;
  }
}

/** Per-item error as used in bulk answers. */
export interface ItemError {
  code: ProblemCode;
  message: string;
}

export function problemType(code: ProblemCode): string {
  return `https://tagway.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}
