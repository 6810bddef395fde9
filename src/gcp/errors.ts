/**
 * Turns what the Google client throws into keyshift's errors. Only the gRPC code and
 * the resource path are kept: the service's message can carry the caller's identity
 * and request data, so it is never copied (F4).
 */
import { GrpcCode, grpcCodeName } from './grpc-codes.ts';
import { type ErrorCode, ErrorCodes, KeyshiftError } from '../errors.ts';

/** Where a failed call came from, for messages and details. */
export interface GcpCallContext {
  readonly entry: string;
  /** `projects/{p}/secrets/{s}/versions/{v}` as sent. */
  readonly resource: string;
  readonly signal: AbortSignal;
  /** True once the source is closed. */
  readonly closed: boolean;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The gRPC code of a client error, or undefined when it has none (a local failure). */
export function grpcCodeOf(error: unknown): number | undefined {
  const code = field(error, 'code');
  return typeof code === 'number' ? code : undefined;
}

/** The version state a FAILED_PRECONDITION names: a fixed word, never the message itself. */
function stateOf(error: unknown): 'disabled' | 'destroyed' | undefined {
  const text = `${field(error, 'details') ?? ''} ${field(error, 'message') ?? ''}`;
  if (/\bDESTROYED\b/.test(text)) return 'destroyed';
  if (/\bDISABLED\b/.test(text)) return 'disabled';
  return undefined;
}

/** The version number a FAILED_PRECONDITION names (`.../versions/2`): digits only. */
function versionOf(error: unknown): string | undefined {
  const text = `${field(error, 'details') ?? ''} ${field(error, 'message') ?? ''}`;
  return /\/versions\/(\d{1,16})\b/.exec(text)?.[1];
}

function classify(code: number | undefined, error: unknown, ctx: GcpCallContext): { code: ErrorCode; message: string } {
  const what = `Secret Manager AccessSecretVersion for ${ctx.resource} (entry ${ctx.entry})`;
  if (ctx.closed && (code === undefined || code === GrpcCode.CANCELLED || code === GrpcCode.UNAVAILABLE)) {
    return { code: ErrorCodes.CLOSED, message: `${what} was cut short: the source is closed` };
  }
  if (ctx.signal.aborted) {
    return { code: ErrorCodes.SOURCE_TIMEOUT, message: `${what} was aborted at its deadline or by close()` };
  }
  switch (code) {
    case GrpcCode.PERMISSION_DENIED:
      return {
        code: ErrorCodes.SOURCE_DENIED,
        message: `${what} was denied: check that the caller has the IAM permission secretmanager.versions.access on the secret (role roles/secretmanager.secretAccessor) and that the secret exists in that project (the service answers PERMISSION_DENIED for a secret it will not reveal)`,
      };
    case GrpcCode.UNAUTHENTICATED:
      return {
        code: ErrorCodes.SOURCE_DENIED,
        message: `${what} was refused: the Google credentials are missing, expired or invalid (check GOOGLE_APPLICATION_CREDENTIALS or the workload identity)`,
      };
    case GrpcCode.FAILED_PRECONDITION: {
      const state = stateOf(error) ?? 'disabled or destroyed';
      const version = versionOf(error);
      const which = version === undefined ? 'the version' : `version ${version}`;
      return { code: ErrorCodes.VERSION_DISABLED, message: `${what} failed: ${which} is ${state}` };
    }
    case GrpcCode.INVALID_ARGUMENT:
      return {
        code: ErrorCodes.INVALID_DECLARATION,
        message: `${what} was rejected as malformed: check the project, the secret id mapping and the version`,
      };
    default:
      return classifyTransport(code, what);
  }
}

/**
 * The codes every Secret Manager call maps the same way, whatever it asked: deadline,
 * quota, transport failures, no status at all, and the unexpected. Callers handle
 * their own meanings (not found, denied, conflicts) first and end here.
 */
export function classifyTransport(code: number | undefined, what: string): { code: ErrorCode; message: string } {
  switch (code) {
    case GrpcCode.DEADLINE_EXCEEDED:
      return { code: ErrorCodes.SOURCE_TIMEOUT, message: `${what} did not answer within its deadline` };
    case GrpcCode.RESOURCE_EXHAUSTED:
      return { code: ErrorCodes.SOURCE_THROTTLED, message: `${what} was throttled (quota exhausted)` };
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.UNKNOWN:
    case GrpcCode.INTERNAL:
    case GrpcCode.ABORTED:
    case GrpcCode.CANCELLED:
      return { code: ErrorCodes.SOURCE_UNAVAILABLE, message: `${what} failed (${grpcCodeName(code)})` };
    case undefined:
      return { code: ErrorCodes.SOURCE_UNAVAILABLE, message: `${what} failed before reaching the service` };
    default:
      return { code: ErrorCodes.INTERNAL, message: `${what} failed with an unexpected ${grpcCodeName(code)}` };
  }
}

/** Wraps a client failure; the cause keeps the gRPC code name, never the service's message. */
export function toGcpSourceError(error: unknown, ctx: GcpCallContext): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const code = grpcCodeOf(error);
  const { code: ksCode, message } = classify(code, error, ctx);
  const codeName = code === undefined ? 'NONE' : grpcCodeName(code);
  const cause = new Error(code === undefined ? 'no gRPC status' : `gRPC ${codeName}`);
  const details: Record<string, string> = { source: 'gcp-secret-manager', resource: ctx.resource, grpcCode: codeName };
  if (ksCode === ErrorCodes.VERSION_DISABLED) {
    const state = stateOf(error);
    const version = versionOf(error);
    if (state) details.state = state;
    if (version) details.version = version;
  }
  return new KeyshiftError(ksCode, message, { entry: ctx.entry, cause, details });
}
