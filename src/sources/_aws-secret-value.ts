/**
 * Turns one AWS secret payload (GetSecretValue output, or an entry of
 * BatchGetSecretValue) into a SourceValue: the size limit, SecretString or
 * SecretBinary, and an optional field of a JSON secret. Errors name the entry,
 * the SecretId, the version and the key, never the payload: a JSON parse error's
 * own message quotes the input, so it is not chained.
 */
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { SourceValue } from '../types.ts';

/** The fields both GetSecretValue and BatchGetSecretValue return. */
export interface AwsSecretPayload {
  ARN?: string | undefined;
  Name?: string | undefined;
  VersionId?: string | undefined;
  SecretString?: string | undefined;
  SecretBinary?: Uint8Array | undefined;
  /** When this version was created: its order among the secret's versions. */
  CreatedDate?: Date | undefined;
}

/** Which secret, version and field an entry reads. */
export interface AwsSecretSelection {
  /** A secret name, a full ARN or a partial ARN (without the 6-character suffix). */
  secretId: string;
  /** A field of a JSON secret to serve instead of the whole secret. Default: the whole secret. */
  jsonKey?: string;
  /** A staging label. Default: the source's `versionStage`. Exclusive with `versionId`. */
  versionStage?: string;
  /** A pinned version. Default: the source's `versionId`. Exclusive with `versionStage`. */
  versionId?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function rejected(entry: string, sel: AwsSecretSelection, version: string, reason: string): KeyshiftError {
  return new KeyshiftError(
    ErrorCodes.VALUE_REJECTED,
    `secret ${sel.secretId} (entry ${entry}, version ${version}) ${reason}, so jsonKey "${sel.jsonKey}" cannot be read`,
    { entry, details: { source: 'aws-secrets-manager', secretId: sel.secretId, version, jsonKey: sel.jsonKey ?? '' } },
  );
}

function pickJsonKey(entry: string, sel: AwsSecretSelection, version: string, raw: string | Uint8Array): string {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : utf8.decode(raw);
  } catch {
    throw rejected(entry, sel, version, 'is binary and not UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw rejected(entry, sel, version, 'is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw rejected(entry, sel, version, 'is not a JSON object');
  }
  const key = sel.jsonKey ?? '';
  if (!Object.hasOwn(parsed, key)) throw rejected(entry, sel, version, 'has no such key');
  const field: unknown = (parsed as Record<string, unknown>)[key];
  if (typeof field === 'string') return field;
  if (typeof field === 'number' || typeof field === 'boolean') return String(field);
  if (field === null) throw rejected(entry, sel, version, 'holds null at that key');
  return JSON.stringify(field);
}

/**
 * Resolves undefined when the payload holds neither SecretString nor SecretBinary. With
 * `ordered`, a version read by stage carries its creation date (ms) as `order`.
 */
export function toAwsSourceValue(
  entry: string,
  sel: AwsSecretSelection,
  payload: AwsSecretPayload,
  maxBytes: number,
  ordered = true,
): SourceValue | undefined {
  const raw = payload.SecretString ?? payload.SecretBinary;
  if (raw === undefined) return undefined;
  const version = payload.VersionId ?? sel.versionId ?? sel.versionStage ?? 'unknown';
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > maxBytes) {
    throw new KeyshiftError(
      ErrorCodes.VALUE_TOO_LARGE,
      `secret ${sel.secretId} (entry ${entry}, version ${version}) is ${size} bytes, above the limit of ${maxBytes}`,
      { entry, details: { source: 'aws-secrets-manager', secretId: sel.secretId, version, sizeBytes: size, maxBytes } },
    );
  }
  const value = sel.jsonKey === undefined ? raw : pickJsonKey(entry, sel, version, raw);
  const created = payload.CreatedDate?.getTime();
  const order = ordered && sel.versionId === undefined && created !== undefined && Number.isFinite(created) ? { order: created } : {};
  return { value, version, ...order };
}

/** True when a batch answer (Name, ARN) is the secret a SecretId asked for. */
export function isSameSecret(secretId: string, payload: AwsSecretPayload): boolean {
  if (secretId === payload.Name || secretId === payload.ARN) return true;
  const arn = payload.ARN ?? '';
  return secretId.startsWith('arn:') && arn.length === secretId.length + 7 && arn.startsWith(`${secretId}-`);
}
