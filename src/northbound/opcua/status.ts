import { StatusCodes, type StatusCode } from 'node-opcua';
import { TagwayError, type ProblemCode } from '../../domain/problems.js';

/**
 * Tagway's problem codes → OPC UA StatusCodes for an answer to a client. A name outside the caller's rights is
 * BadUserAccessDenied whether or not it exists (REST answers TAG_NOT_FOUND for both, for the same reason).
 */
const STATUS_OF_PROBLEM: Partial<Record<ProblemCode, StatusCode>> = {
  FORBIDDEN: StatusCodes.BadUserAccessDenied,
  TAG_NOT_FOUND: StatusCodes.BadUserAccessDenied,
  NOT_FOUND: StatusCodes.BadNodeIdUnknown,
  UNAUTHENTICATED: StatusCodes.BadUserAccessDenied,
  READ_ONLY: StatusCodes.BadNotWritable,
  TYPE_MISMATCH: StatusCodes.BadTypeMismatch,
  OUT_OF_RANGE: StatusCodes.BadOutOfRange,
  VALIDATION_FAILED: StatusCodes.BadInvalidArgument,
  PAYLOAD_TOO_LARGE: StatusCodes.BadTooManyOperations,
  TOO_MANY_REQUESTS: StatusCodes.BadTooManyOperations,
  DEVICE_UNAVAILABLE: StatusCodes.BadNotConnected,
  DEVICE_TIMEOUT: StatusCodes.BadTimeout,
  INVALID_STATE: StatusCodes.BadInvalidState,
};

export function statusOfError(err: unknown): StatusCode {
  if (err instanceof TagwayError) return STATUS_OF_PROBLEM[err.code] ?? StatusCodes.BadInternalError;
  return StatusCodes.BadInternalError;
}
