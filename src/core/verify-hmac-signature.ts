/**
 * Checks a third party's HMAC signature (a payment provider's webhook callback) against
 * every secret it may have used: the current one and those still inside the entry's
 * overlap window (`ks.overlapping(NAME)`). Every candidate is computed and compared in
 * constant time (crypto.timingSafeEqual on equal lengths; a signature of the wrong
 * length never matches), with no early exit, so the timing says nothing about which
 * secret matched or how much of the signature was right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { OverlapValue } from './overlap-window.ts';
import { Secret } from './redacted.ts';

export type HmacKey = string | Uint8Array | Secret<string> | Secret<Uint8Array>;

export interface VerifyHmacOptions {
  /** The hash. Default 'sha256'. NOWPayments IPN signs with 'sha512'. */
  algorithm?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** How the signature is written. Default 'hex'. */
  encoding?: 'hex' | 'base64' | 'base64url';
}

export interface HmacVerification {
  readonly valid: boolean;
  /** The version of the secret that matched (for an OverlapValue), when one did. */
  readonly version?: string;
  /** True when the match was a previous value (inside the overlap window), not the current one. */
  readonly previous?: boolean;
}

const ALGORITHMS: readonly string[] = ['sha1', 'sha256', 'sha384', 'sha512'];
const ENCODINGS: readonly string[] = ['hex', 'base64', 'base64url'];

/** A typo (`algoritm`) or an unknown hash is a KS_ERR_INVALID_DECLARATION, never a silent sha256 or a crypto error. */
function checkVerifyOptions(options: VerifyHmacOptions): void {
  const invalid = (message: string): KeyshiftError => new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `verifyHmacSignature: ${message}`);
  const unknown = Object.keys(options).filter((key) => key !== 'algorithm' && key !== 'encoding');
  if (unknown.length > 0) throw invalid(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (the options are algorithm, encoding)`);
  if (options.algorithm !== undefined && !ALGORITHMS.includes(options.algorithm)) throw invalid(`algorithm must be one of ${ALGORITHMS.join(', ')}`);
  if (options.encoding !== undefined && !ENCODINGS.includes(options.encoding)) throw invalid(`encoding must be one of ${ENCODINGS.join(', ')}`);
}

const keyBytes = (key: HmacKey): Uint8Array | string => (key instanceof Secret ? key.reveal() : key);

/** Decodes the given signature; undefined when it is not of the encoding (it then never matches). */
function decode(signature: string, encoding: NonNullable<VerifyHmacOptions['encoding']>): Buffer | undefined {
  const pattern = encoding === 'hex' ? /^[0-9a-fA-F]*$/ : encoding === 'base64' ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9_-]*$/;
  if (!pattern.test(signature) || (encoding === 'hex' && signature.length % 2 !== 0)) return undefined;
  return Buffer.from(signature, encoding);
}

/**
 * `keys`: the candidates, usually `ks.overlapping('NOWPAYMENTS_IPN_SECRET')`, or plain
 * keys. Resolves which one matched; never throws for a bad signature (only for no keys).
 */
export function verifyHmacSignature(
  keys: readonly (HmacKey | OverlapValue)[],
  payload: string | Uint8Array,
  signature: string,
  options: VerifyHmacOptions = {},
): HmacVerification {
  if (keys.length === 0) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'verifyHmacSignature needs at least one key');
  checkVerifyOptions(options);
  const algorithm = options.algorithm ?? 'sha256';
  const given = typeof signature === 'string' ? decode(signature.trim(), options.encoding ?? 'hex') : undefined;
  let match: HmacVerification = { valid: false };
  for (const candidate of keys) {
    const overlap = typeof candidate === 'object' && candidate !== null && 'current' in candidate && 'value' in candidate;
    const key = overlap ? ((candidate as OverlapValue).value as HmacKey) : (candidate as HmacKey);
    const expected = createHmac(algorithm, keyBytes(key)).update(payload).digest();
    // Compare against something of the right length whatever was given: no early exit, no length leak.
    const comparable = given !== undefined && given.length === expected.length ? given : Buffer.alloc(expected.length);
    const equal = timingSafeEqual(comparable, expected) && comparable === given;
    if (equal && !match.valid) {
      match = overlap
        ? { valid: true, version: (candidate as OverlapValue).version, previous: !(candidate as OverlapValue).current }
        : { valid: true };
    }
  }
  return match;
}
