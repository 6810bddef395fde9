import type { StandardSchemaV1 } from '@standard-schema/spec';
import { KEYRING_MIN_KEY_BYTES } from '../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';

/** The `format` every keyset carries. */
export const KEYSET_FORMAT = 'keyshift.hmac-keyset.v1';

/** A key's place in a staged rotation. */
export type KeyState = 'verify-only' | 'primary' | 'retired';

/**
 * One key as stored (JSON). `material` is base64 (standard or URL-safe) of at least
 * 32 random bytes; a retired key has none. Times are ISO-8601 wall-clock instants,
 * shared by every instance.
 */
export interface StoredKey {
  kid: string;
  state: KeyState;
  material?: string;
  addedAt: string;
  promotedAt?: string;
  /** For a former primary: when it stops verifying (promotion time + overlap). For a retired key: when it did. */
  retiredAt?: string;
}

/**
 * The value of a keyring entry: every instance reads the same ring from the store.
 * Exactly one key is `primary` (signs); `verify-only` keys verify (a new key waiting
 * for promotion, or the previous primary until its `retiredAt`); `retired` keys only
 * answer `key_retired`.
 */
export interface Keyset {
  format: typeof KEYSET_FORMAT;
  keys: StoredKey[];
}

/** A parsed key: material decoded, times as epoch milliseconds. Internal to the keyring. */
export interface RingKey {
  readonly kid: string;
  readonly state: KeyState;
  readonly material: Buffer | undefined;
  readonly addedAt: number;
  readonly promotedAt: number | undefined;
  readonly retiredAt: number | undefined;
}

export const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const STATES: ReadonlySet<string> = new Set(['verify-only', 'primary', 'retired']);
const MAX_KEYS = 64;
const MAX_KEY_BYTES = 1024;

/** A keyset that breaks a rule. The message names the rule and the kid, never material. */
export class KeysetError extends KeyshiftError {
  constructor(readonly reason: string) {
    super(ErrorCodes.VALUE_REJECTED, `keyset rejected: ${reason}`, { details: { reason } });
    this.name = 'KeysetError';
  }
}

function instant(value: unknown, field: string, kid: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new KeysetError(`key ${kid}: ${field} must be an ISO-8601 time`);
  return ms;
}

function optionalInstant(value: unknown, field: string, kid: string): number | undefined {
  return value === undefined ? undefined : instant(value, field, kid);
}

function keyOf(raw: unknown, index: number): RingKey {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KeysetError(`keys[${index}] must be an object`);
  const key = raw as Record<string, unknown>;
  const kid = typeof key.kid === 'string' && KID_PATTERN.test(key.kid) ? key.kid : undefined;
  if (!kid) throw new KeysetError(`keys[${index}].kid must be 1-64 letters, digits, _ or -`);
  const state = typeof key.state === 'string' && STATES.has(key.state) ? (key.state as KeyState) : undefined;
  if (!state) throw new KeysetError(`key ${kid}: state must be verify-only, primary or retired`);
  let material: Buffer | undefined;
  if (key.material !== undefined) {
    if (typeof key.material !== 'string' || !BASE64.test(key.material)) throw new KeysetError(`key ${kid}: material must be base64`);
    material = Buffer.from(key.material, 'base64');
    if (material.length < KEYRING_MIN_KEY_BYTES) {
      throw new KeysetError(`key ${kid}: material is ${material.length} bytes; HMAC-SHA256 keys need at least ${KEYRING_MIN_KEY_BYTES} (RFC 7518 §3.2)`);
    }
    if (material.length > MAX_KEY_BYTES) throw new KeysetError(`key ${kid}: material is over ${MAX_KEY_BYTES} bytes`);
  } else if (state !== 'retired') {
    throw new KeysetError(`key ${kid}: a ${state} key needs material`);
  }
  const retiredAt = optionalInstant(key.retiredAt, 'retiredAt', kid);
  if (state === 'retired' && retiredAt === undefined) throw new KeysetError(`key ${kid}: a retired key needs retiredAt`);
  return {
    kid,
    state,
    material,
    addedAt: instant(key.addedAt, 'addedAt', kid),
    promotedAt: optionalInstant(key.promotedAt, 'promotedAt', kid),
    retiredAt,
  };
}

/**
 * Parses and checks a keyset (its JSON text, or the parsed object): known format,
 * unique kids, exactly one primary, material of at least 32 bytes. Throws a
 * KeysetError (KS_ERR_VALUE_REJECTED) naming the broken rule.
 */
export function parseKeyset(input: string | object): RingKey[] {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new KeysetError('not JSON');
    }
  }
  const set = raw as Partial<Keyset> | null;
  if (typeof set !== 'object' || set === null || set.format !== KEYSET_FORMAT) throw new KeysetError(`format must be "${KEYSET_FORMAT}"`);
  if (!Array.isArray(set.keys) || set.keys.length === 0) throw new KeysetError('keys must be a non-empty array');
  if (set.keys.length > MAX_KEYS) throw new KeysetError(`at most ${MAX_KEYS} keys`);
  const keys = set.keys.map(keyOf);
  const kids = new Set(keys.map((k) => k.kid));
  if (kids.size !== keys.length) throw new KeysetError('every kid must be unique');
  const primaries = keys.filter((k) => k.state === 'primary').length;
  if (primaries !== 1) throw new KeysetError(`exactly one key must be primary (found ${primaries})`);
  return keys;
}

/** The canonical JSON of a keyset, as put in the store. */
export function serializeKeyset(keyset: Keyset): string {
  return `${JSON.stringify(keyset, null, 2)}\n`;
}

/**
 * A Standard Schema for the keyring entry's declaration (`validate: hmacKeysetSchema`):
 * the core then rejects a bad keyset version itself, keeps the last-known-good ring,
 * and reports it like any rejected value.
 */
export const hmacKeysetSchema: StandardSchemaV1<string, string> = {
  '~standard': {
    version: 1,
    vendor: 'keyshift',
    validate(value: unknown) {
      if (typeof value !== 'string') return { issues: [{ message: 'a keyset is JSON text' }] };
      try {
        parseKeyset(value);
        return { value };
      } catch (error) {
        return { issues: [{ message: error instanceof KeysetError ? error.reason : 'invalid keyset' }] };
      }
    },
  },
};
