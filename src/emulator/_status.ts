/**
 * gRPC status errors the emulator answers with, worded like the real service's.
 * Messages carry resource names only, never a payload.
 */
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { GrpcCode, type GrpcCodeName } from '../gcp/grpc-codes.ts';

/** An Error that @grpc/grpc-js sends as a status (it reads `code` and `details`). */
export class StatusError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: GrpcCodeName, details: string) {
    super(details);
    this.name = 'StatusError';
    this.code = GrpcCode[code];
    this.details = details;
  }
}

export const invalidArgument = (details: string): StatusError => new StatusError('INVALID_ARGUMENT', details);

export const secretNotFound = (secret: string): StatusError =>
  new StatusError('NOT_FOUND', `Secret [${secret}] not found or has no versions.`);

export const versionNotFound = (version: string): StatusError =>
  new StatusError('NOT_FOUND', `Secret Version [${version}] not found.`);

export const versionInState = (version: string, state: string): StatusError =>
  new StatusError('FAILED_PRECONDITION', `Secret Version [${version}] is in ${state.toUpperCase()} state.`);

/**
 * Turns an error thrown by the local store into the status the real service would
 * send. `resource` is the name the caller asked for; it goes into the message.
 */
export function fromStoreError(error: unknown, resource: string): StatusError {
  if (error instanceof StatusError) return error;
  if (!(error instanceof KeyshiftError)) return new StatusError('INTERNAL', `internal error on [${resource}]`);
  switch (error.code) {
    case ErrorCodes.SOURCE_NOT_FOUND:
      return resource.includes('/versions/') ? versionNotFound(resource) : secretNotFound(resource);
    case ErrorCodes.VERSION_DISABLED:
      return versionInState(resource, String(error.details.state ?? 'disabled'));
    case ErrorCodes.CONFLICT:
      // Google answers an etag that does not match with FAILED_PRECONDITION (HTTP 400).
      return new StatusError('FAILED_PRECONDITION', `The etag of [${resource}] does not match; read it again and retry.`);
    case ErrorCodes.INVALID_DECLARATION:
      return invalidArgument(`Invalid resource name [${resource}].`);
    case ErrorCodes.VALUE_TOO_LARGE:
      return invalidArgument(`Payload for [${resource}] is larger than 65536 bytes.`);
    default:
      return new StatusError('INTERNAL', `internal error on [${resource}] (${error.code})`);
  }
}
