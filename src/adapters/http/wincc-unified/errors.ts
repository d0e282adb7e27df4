import { GraphQLError } from 'graphql';
import { TagwayError, type ProblemCode } from '../../../domain/problems.js';
import { FilterSyntaxError } from './alarm-filter.js';

/**
 * Unified's error codes (a String in `Error.code`; "0" is success) and the ones this profile adds where the
 * Unified API has none (documented in docs/wincc-unified.md):
 */
export const UnifiedCode = {
  OK: '0',
  GENERIC: '1',
  UNKNOWN_NAME: '2',
  ARGUMENT: '3',
  BAD_CREDENTIALS: '101',
  /** Unified's "UMC error": Tagway has no UMC single sign-on (nonce, identityProviderURL, loginSWAC). */
  UMC: '102',
  /** Ours: logins refused for a while after too many failures (the native API's 429). */
  THROTTLED: '105',
  CANNOT_CONVERT: '201',
  /** Ours: the user may read the tag but lacks `tags:write` (or an alarm's `alarms:acknowledge`) for it. */
  NOT_ALLOWED: '203',
  /** Ours: the tag is read-only in the project. */
  READ_ONLY: '204',
  FILTER_SYNTAX: '301',
  LANGUAGES: '302',
  FILTER_LANGUAGE: '303',
  INVALID_STATE: '304',
  WRONG_STATE: '305',
} as const;

export interface UnifiedErrorObject {
  code: string;
  description: string;
}

/** The Unified code of a per-item problem from the service layer. */
export function itemCode(code: ProblemCode | string): string {
  switch (code) {
    case 'TAG_NOT_FOUND':
    case 'NOT_FOUND':
      return UnifiedCode.UNKNOWN_NAME;
    case 'TYPE_MISMATCH':
    case 'OUT_OF_RANGE':
    case 'VALIDATION_FAILED':
      return UnifiedCode.CANNOT_CONVERT;
    case 'FORBIDDEN':
      return UnifiedCode.NOT_ALLOWED;
    case 'READ_ONLY':
      return UnifiedCode.READ_ONLY;
    case 'INVALID_STATE':
      return UnifiedCode.WRONG_STATE;
    default:
      return UnifiedCode.GENERIC;
  }
}

export function itemError(e: { code: string; message: string }): UnifiedErrorObject {
  return { code: itemCode(e.code), description: e.message };
}

/**
 * A whole-request failure as a GraphQL error. `extensions.code` is the Unified code where Unified has one (301,
 * 302, 303, 102, 3), else our problem code (UNAUTHENTICATED, FORBIDDEN, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS…).
 */
export function requestError(code: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/** Maps anything a resolver throws to a GraphQL error, hiding internals. */
export function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof FilterSyntaxError) return requestError(UnifiedCode.FILTER_SYNTAX, `Syntax error in the filter string: ${err.message}`);
  if (err instanceof TagwayError) {
    const retry = err.headers?.['retry-after'] ?? err.headers?.['Retry-After'];
    return requestError(err.code, err.message, retry === undefined ? {} : { retryAfter: Number(retry) });
  }
  return requestError('INTERNAL_ERROR', 'The request failed unexpectedly', {});
}
