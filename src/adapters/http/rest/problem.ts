import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEMS, TagwayError, problemType, type FieldError, type ProblemCode } from '../../../domain/problems.js';
import { isStorageFault, STORAGE_RETRY_AFTER_S } from '../../../runtime/storage-health.js';
import { MAX_VALIDATION_ERRORS, omittedOf, withOmitted } from './validation.js';

/**
 * Bounds of a problem body, so that an error answer is never larger than a few KB whatever the request was:
 * at most MAX_VALIDATION_ERRORS entries (the rest counted in `omittedErrors`), each field and message cut.
 */
const MAX_FIELD = 120;
const MAX_MESSAGE = 200;
const MAX_DETAIL = 1000;
const MAX_INSTANCE = 300;

// Retry-After of a 503 STORAGE_UNAVAILABLE (one value for every front end).
export { STORAGE_RETRY_AFTER_S };

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** RFC 9457 body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  requestId: string;
  errors?: FieldError[];
  /** Problems beyond the first MAX_VALIDATION_ERRORS, counted but not listed. */
  omittedErrors?: number;
}

export function problemBody(err: TagwayError, requestId: string, instance?: string): ProblemBody {
  const body: ProblemBody = {
    type: problemType(err.code),
    title: PROBLEMS[err.code].title,
    status: err.status,
    detail: cut(err.message, MAX_DETAIL),
    code: err.code,
    requestId,
  };
  if (instance) body.instance = cut(instance, MAX_INSTANCE);
  if (err.errors) {
    body.errors = err.errors
      .slice(0, MAX_VALIDATION_ERRORS)
      .map((e) => ({ field: cut(e.field, MAX_FIELD), message: cut(e.message, MAX_MESSAGE) }));
    const omitted = err.errors.length - body.errors.length + omittedOf(err.errors);
    if (omitted > 0) body.omittedErrors = omitted;
  }
  return body;
}

function fieldOf(instancePath: string, part: string | undefined): string {
  const path = instancePath
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [part ?? 'body', ...path].join('.');
}

/** Maps anything thrown in a request to a TagwayError: ours as they are, fastify's by code, the rest as 500. */
export function toTagwayError(err: unknown): TagwayError {
  if (err instanceof TagwayError) return err;
  // A full disk is a state the client can wait out, not a bug: 503 with a time to come back.
  if (isStorageFault(err))
    return new TagwayError('STORAGE_UNAVAILABLE', 'Storage is full or failing; the server cannot record this now. Try again later', {
      headers: { 'Retry-After': String(STORAGE_RETRY_AFTER_S) },
      cause: err,
    });
  const e = err as FastifyError & { validationContext?: string };
  if (e.validation) {
    const errors: FieldError[] = e.validation.slice(0, MAX_VALIDATION_ERRORS).map((v) => {
      const params = v.params as Record<string, unknown>;
      if (v.keyword === 'additionalProperties')
        return { field: fieldOf(`${v.instancePath}/${String(params.additionalProperty)}`, e.validationContext), message: 'unknown field' };
      if (v.keyword === 'required')
        return { field: fieldOf(`${v.instancePath}/${String(params.missingProperty)}`, e.validationContext), message: 'is required' };
      return { field: fieldOf(v.instancePath, e.validationContext), message: v.message ?? 'is invalid' };
    });
    const omitted = omittedOf(e.validation) + Math.max(0, e.validation.length - MAX_VALIDATION_ERRORS);
    const summary = errors.map((x) => `${cut(x.field, MAX_FIELD)} ${x.message}`).join('; ');
    return new TagwayError('VALIDATION_FAILED', omitted > 0 ? `${summary}; and ${omitted} more` : summary, {
      errors: withOmitted(errors, omitted),
    });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TagwayError('PAYLOAD_TOO_LARGE', 'The request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TagwayError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TagwayError('VALIDATION_FAILED', 'The JSON body is empty', { errors: [{ field: 'body', message: 'is empty' }] });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TagwayError('VALIDATION_FAILED', `Malformed JSON: ${e.message}`, {
        errors: [{ field: 'body', message: 'is not valid JSON' }],
      });
    default:
  }
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message))) {
    return new TagwayError('VALIDATION_FAILED', `Malformed JSON: ${e.message}`, {
      errors: [{ field: 'body', message: 'is not valid JSON' }],
    });
  }
  if (e.statusCode === 413) return new TagwayError('PAYLOAD_TOO_LARGE', 'The request body is larger than the server accepts');
  if (e.statusCode === 415) return new TagwayError('UNSUPPORTED_MEDIA_TYPE', e.message);
  if (e.statusCode === 429) return new TagwayError('TOO_MANY_REQUESTS', e.message);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new TagwayError('VALIDATION_FAILED', e.message);
  return new TagwayError('INTERNAL_ERROR', 'An unexpected error occurred; the request id identifies it in the server log', { cause: err });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: TagwayError): FastifyReply {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  reply.header('x-request-id', request.id);
  if (err.code === 'UNAUTHENTICATED') reply.header('WWW-Authenticate', 'Bearer realm="tagway"');
  return reply
    .code(err.status)
    .type('application/problem+json')
    .send(JSON.stringify(problemBody(err, String(request.id), request.url)));
}
