import { randomBytes } from 'node:crypto';
import { KEYRING_MIN_KEY_BYTES } from '../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { KEYSET_FORMAT, KID_PATTERN, type Keyset, parseKeyset, type StoredKey } from './keyset.ts';

/**
 * The staged rotation of an HMAC keyset, as pure functions from one keyset version
 * to the next (Tink's order): add a key verify-only, let every instance learn it,
 * promote it (the old primary keeps verifying until the overlap ends), retire what
 * is past its overlap. The caller puts each result in the store; the keyring of
 * every instance picks it up. `now` is wall-clock milliseconds.
 */

export interface NewKeyOptions {
  /** Wall-clock time, in ms. */
  now: number;
  /** The key id. Default: `k` + the time in base 36 + 6 random hex digits. */
  kid?: string;
  /** The key (at least 32 bytes). Default: 32 random bytes. */
  material?: Uint8Array;
}

export interface PromoteOptions {
  now: number;
  /** How long the old primary keeps verifying: at least the token TTL plus clock skew. */
  overlapMs: number;
  /** Promotion is allowed this long after the key was added even if not every instance reported it. */
  minDelayMs: number;
  /** True when every instance reported that it holds the key (its status serves the keyset version that added it). */
  instancesReady?: boolean;
}

function refused(message: string, kid?: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.ROTATION_REFUSED, message, { details: kid === undefined ? {} : { kid } });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function newKey(keys: readonly StoredKey[], options: NewKeyOptions, state: 'primary' | 'verify-only'): StoredKey {
  const kid = options.kid ?? `k${options.now.toString(36)}${randomBytes(3).toString('hex')}`;
  if (!KID_PATTERN.test(kid)) throw refused('a kid is 1-64 letters, digits, _ or -');
  if (keys.some((k) => k.kid === kid)) throw refused(`kid ${kid} is already in the keyset`, kid);
  const material = options.material ?? randomBytes(KEYRING_MIN_KEY_BYTES);
  if (material.length < KEYRING_MIN_KEY_BYTES) throw refused(`a key needs at least ${KEYRING_MIN_KEY_BYTES} bytes (got ${material.length})`, kid);
  const at = iso(options.now);
  return { kid, state, material: Buffer.from(material).toString('base64'), addedAt: at, ...(state === 'primary' ? { promotedAt: at } : {}) };
}

/** Checks the result before handing it back, so no stage ever produces a keyset the keyring would refuse. */
function checked(keys: StoredKey[]): Keyset {
  const keyset: Keyset = { format: KEYSET_FORMAT, keys };
  parseKeyset(keyset);
  return keyset;
}

/** A first keyset: one primary key. */
export function createKeyset(options: NewKeyOptions): Keyset {
  return checked([newKey([], options, 'primary')]);
}

/** Stage 1: adds a verify-only key. One rotation at a time: refused while another added key awaits promotion. */
export function addKey(keyset: Keyset, options: NewKeyOptions): Keyset {
  parseKeyset(keyset);
  const pending = keyset.keys.find((k) => k.state === 'verify-only' && k.promotedAt === undefined);
  if (pending) throw refused(`key ${pending.kid} was added and not promoted yet: promote it before adding another`, pending.kid);
  return checked([...keyset.keys.map((k) => ({ ...k })), newKey(keyset.keys, options, 'verify-only')]);
}

/**
 * Stage 2: makes `kid` the primary. Refused until every instance holds it
 * (`instancesReady`) or `minDelayMs` has passed since it was added; the old primary
 * becomes verify-only until `now + overlapMs`.
 */
export function promoteKey(keyset: Keyset, kid: string, options: PromoteOptions): Keyset {
  parseKeyset(keyset);
  const key = keyset.keys.find((k) => k.kid === kid);
  if (!key) throw refused(`key ${kid} is not in the keyset`, kid);
  if (key.state !== 'verify-only' || key.promotedAt !== undefined) throw refused(`key ${kid} is ${key.state}: only an added, never promoted key can be promoted`, kid);
  const waitedMs = options.now - Date.parse(key.addedAt);
  if (!options.instancesReady && waitedMs < options.minDelayMs) {
    throw refused(
      `key ${kid} cannot be promoted yet: not every instance reported it, and ${Math.ceil(options.minDelayMs - waitedMs)} ms of the ${options.minDelayMs} ms minimum delay remain`,
      kid,
    );
  }
  if (!(options.overlapMs > 0)) throw refused('overlapMs must be positive: the old primary must keep verifying in-flight tokens', kid);
  const at = iso(options.now);
  const keys = keyset.keys.map((k): StoredKey => {
    if (k.kid === kid) return { ...k, state: 'primary', promotedAt: at };
    if (k.state === 'primary') return { ...k, state: 'verify-only', retiredAt: iso(options.now + options.overlapMs) };
    return { ...k };
  });
  return checked(keys);
}

/** Stage 3: every former primary past its overlap becomes retired and loses its material. */
export function retireKeys(keyset: Keyset, options: { now: number }): Keyset {
  parseKeyset(keyset);
  const keys = keyset.keys.map((k): StoredKey => {
    const due = k.state === 'verify-only' && k.retiredAt !== undefined && Date.parse(k.retiredAt) <= options.now;
    if (!due) return { ...k };
    const { material: _material, ...rest } = k;
    return { ...rest, state: 'retired' };
  });
  return checked(keys);
}
