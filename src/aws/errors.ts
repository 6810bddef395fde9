/**
 * Turns what the AWS SDK throws into keyshift's errors. Only the error's type name,
 * HTTP status, request id and a Retry-After hint are kept: the SDK's own message can
 * carry the caller's ARN and the resource, so it is never copied (F4).
 */
import { ErrorCodes, type ErrorCode, KeyshiftError } from '../errors.ts';

/** Where a failed call came from, for messages and details. */
export interface AwsCallContext {
  /** The keyshift entry, when the call is for one entry. */
  readonly entry: string | undefined;
  /** The SecretId sent, or a description of a batch ("20 secrets"). */
  readonly secretId: string;
  readonly operation: string;
  readonly signal: AbortSignal;
}

const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
]);
const SERVER = new Set(['InternalServiceError', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface SdkErrorFacts {
  name: string;
  fault: string | undefined;
  status: number | undefined;
  requestId: string | undefined;
  code: string | undefined;
  retryAfterMs: number | undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function safeName(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.:#]{1,80}$/.test(value) ? value : 'UnknownError';
}

function retryAfterMs(headers: unknown): number | undefined {
  const amz = Number(field(headers, 'x-amz-retry-after'));
  if (Number.isFinite(amz) && amz >= 0) return Math.round(amz);
  const raw = field(headers, 'retry-after');
  if (typeof raw !== 'string') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) * 1000 : Date.parse(raw) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}

function factsOf(error: unknown): SdkErrorFacts {
  const metadata = field(error, '$metadata');
  const status = field(metadata, 'httpStatusCode');
  const requestId = field(metadata, 'requestId');
  const code = field(error, 'code');
  const fault = field(error, '$fault');
  return {
    name: safeName(field(error, 'name')),
    fault: typeof fault === 'string' ? fault : undefined,
    status: typeof status === 'number' ? status : undefined,
    requestId: typeof requestId === 'string' ? safeName(requestId) : undefined,
    code: typeof code === 'string' ? safeName(code) : undefined,
    retryAfterMs: retryAfterMs(field(field(error, '$response'), 'headers')),
  };
}

/** True when the SDK says the secret, or the version asked for, does not exist. */
export function isAwsNotFound(error: unknown): boolean {
  return field(error, 'name') === 'ResourceNotFoundException';
}

function classify(facts: SdkErrorFacts, ctx: AwsCallContext): { code: ErrorCode; message: string } {
  const target = `secret ${ctx.secretId}${ctx.entry === undefined || ctx.entry === ctx.secretId ? '' : ` (entry ${ctx.entry})`}`;
  const what = `AWS Secrets Manager ${ctx.operation} for ${target}`;
  const { name } = facts;
  if (ctx.signal.aborted || name === 'AbortError') {
    return { code: ErrorCodes.SOURCE_TIMEOUT, message: `${what} was aborted at its deadline or by close()` };
  }
  if (name === 'AccessDeniedException') {
    const batch = ctx.operation === 'BatchGetSecretValue' ? ' and secretsmanager:GetSecretValue on each secret' : '';
    return {
      code: ErrorCodes.SOURCE_DENIED,
      message: `${what} was denied: check that the caller's IAM policy allows secretsmanager:${ctx.operation}${batch}, and that the secret's KMS key policy allows kms:Decrypt`,
    };
  }
  if (name === 'DecryptionFailure') {
    return {
      code: ErrorCodes.SOURCE_DENIED,
      message: `${what} failed: the secret could not be decrypted with its KMS key; check that the key is enabled and that its key policy allows the caller kms:Decrypt`,
    };
  }
  if (BAD_CREDENTIALS.has(name)) {
    return {
      code: ErrorCodes.SOURCE_DENIED,
      message: `${what} was refused: the AWS credentials are missing, expired or invalid (${name})`,
    };
  }
  if (THROTTLED.has(name) || facts.status === 429) {
    const hint = facts.retryAfterMs === undefined ? '' : `; the store asks to retry after ${facts.retryAfterMs} ms`;
    return { code: ErrorCodes.SOURCE_THROTTLED, message: `${what} was throttled (${name})${hint}` };
  }
  if (name === 'InvalidRequestException') {
    return {
      code: ErrorCodes.VERSION_DISABLED,
      message: `${what} was refused for the secret's state (it may be scheduled for deletion)`,
    };
  }
  if (name === 'InvalidParameterException' || name === 'ValidationException') {
    return {
      code: ErrorCodes.INVALID_DECLARATION,
      message: `${what} was rejected as malformed (${name}): check the SecretId, versionStage and versionId options`,
    };
  }
  if (SERVER.has(name) || facts.fault === 'server' || (facts.status !== undefined && facts.status >= 500)) {
    return { code: ErrorCodes.SOURCE_UNAVAILABLE, message: `${what} failed on the server side (${name})` };
  }
  if ((facts.code !== undefined && NETWORK_CODES.has(facts.code)) || name === 'TimeoutError') {
    return { code: ErrorCodes.SOURCE_UNAVAILABLE, message: `${what} could not reach the endpoint (${facts.code ?? name})` };
  }
  return { code: ErrorCodes.INTERNAL, message: `${what} failed with an unexpected ${name}` };
}

/** Wraps an SDK failure; the cause keeps the type and ids, never the SDK's message. */
export function toAwsSourceError(error: unknown, ctx: AwsCallContext): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const facts = factsOf(error);
  const { code, message } = classify(facts, ctx);
  const cause = new Error(`${facts.name}${facts.status === undefined ? '' : ` (HTTP ${facts.status})`}`);
  cause.name = facts.name;
  const details: Record<string, string | number> = {
    source: 'aws-secrets-manager',
    secretId: ctx.secretId,
    operation: ctx.operation,
    awsErrorType: facts.name,
  };
  if (facts.status !== undefined) details.httpStatus = facts.status;
  if (facts.requestId !== undefined) details.requestId = facts.requestId;
  if (facts.code !== undefined) details.errorCode = facts.code;
  if (facts.retryAfterMs !== undefined) details.retryAfterMs = facts.retryAfterMs;
  return new KeyshiftError(code, message, { ...(ctx.entry === undefined ? {} : { entry: ctx.entry }), cause, details });
}
