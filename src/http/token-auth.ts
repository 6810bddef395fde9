import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ADMIN_MAX_AUTH_HEADER_BYTES, ADMIN_MIN_TOKEN_LENGTH } from '../constants.ts';
import { reveal, type Secret } from '../core/redacted.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The admin token: a string, a `Secret<string>` (such as `ks.static.ADMIN_API_TOKEN`), or a function read on every request (a rotating token). */
export type AdminToken = string | Secret<string> | (() => string | Secret<string>);

/** Why a request was refused, as an HTTP status: 401 no or malformed credentials, 403 wrong token, 431 oversized header. */
export type AuthResult =
  | { ok: true; fingerprint: string }
  | { ok: false; status: 401 | 403 | 431; reason: 'missing' | 'scheme' | 'empty' | 'wrong-token' | 'header-too-large'; fingerprint?: string };

export interface TokenAuth {
  /** Checks an `Authorization` header value in constant time. Throws only when the configured token itself is unusable. */
  check(header: string | null): AuthResult;
  /** HMAC of a token with the server key, 16 hex digits: lets audit lines tell tokens apart without holding one. */
  fingerprint(token: string): string;
}

export interface TokenAuthOptions {
  /** Key of the audit fingerprints. Default: 32 random bytes per process (fingerprints then change across restarts). */
  fingerprintKey?: Uint8Array;
}

function readToken(token: AdminToken): string {
  const value = reveal(typeof token === 'function' ? token() : token);
  if (typeof value !== 'string' || value.length < ADMIN_MIN_TOKEN_LENGTH) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `the admin token must be a string of at least ${ADMIN_MIN_TOKEN_LENGTH} characters`);
  }
  return value;
}

/**
 * Bearer-token auth in constant time (reliability.md §3.2, F14): both the given and
 * the expected token are HMAC-ed with a process-random key and the fixed-size digests
 * compared with `timingSafeEqual`, so neither a length nor a first differing byte leaks.
 * The header's size and shape are checked before any comparison.
 */
export function createTokenAuth(token: AdminToken, options: TokenAuthOptions = {}): TokenAuth {
  readToken(token); // fail at configuration time, not on the first request
  const compareKey = randomBytes(32);
  const fingerprintKey = options.fingerprintKey ?? randomBytes(32);
  const digest = (value: string): Buffer => createHmac('sha256', compareKey).update(value, 'utf8').digest();
  const fingerprint = (value: string): string => createHmac('sha256', fingerprintKey).update(value, 'utf8').digest('hex').slice(0, 16);

  return {
    fingerprint,
    check(header) {
      if (header === null || header === '') return { ok: false, status: 401, reason: 'missing' };
      if (header.length > ADMIN_MAX_AUTH_HEADER_BYTES) return { ok: false, status: 431, reason: 'header-too-large' };
      const space = header.indexOf(' ');
      const scheme = space === -1 ? header : header.slice(0, space);
      if (scheme.toLowerCase() !== 'bearer') return { ok: false, status: 401, reason: 'scheme' };
      const given = header.slice(space + 1).trim();
      if (space === -1 || given === '') return { ok: false, status: 401, reason: 'empty' };
      const expected = readToken(token);
      const match = timingSafeEqual(digest(given), digest(expected));
      return match ? { ok: true, fingerprint: fingerprint(given) } : { ok: false, status: 403, reason: 'wrong-token', fingerprint: fingerprint(given) };
    },
  };
}
