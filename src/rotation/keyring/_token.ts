import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEYRING_MAX_TOKEN_BYTES } from '../../constants.ts';

/**
 * The token format: `v1.<kid>.<exp>.<payload>.<mac>`, where `exp` is the expiry in
 * Unix seconds, `payload` the base64url (no padding) of the UTF-8 payload, and `mac`
 * the base64url of HMAC-SHA256(key, "v1.<kid>.<exp>.<payload>"). The kid travels in
 * clear so a verifier looks up one key and never tries them all.
 */
const TOKEN = /^v1\.([A-Za-z0-9_-]{1,64})\.([0-9]{1,12})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  kid: string;
  /** Expiry, Unix seconds. */
  exp: number;
  /** The signed part: everything before the last dot. */
  signed: string;
  payload: string;
  mac: string;
}

/** The token's parts, or undefined when it is not a v1 token (wrong shape, oversized). */
export function parseToken(token: unknown): ParsedToken | undefined {
  if (typeof token !== 'string' || token.length > KEYRING_MAX_TOKEN_BYTES) return undefined;
  const m = TOKEN.exec(token);
  if (!m) return undefined;
  const [, kid, exp, payload, mac] = m as unknown as [string, string, string, string, string];
  return { kid, exp: Number(exp), signed: token.slice(0, token.length - mac.length - 1), payload, mac };
}

export function macOf(material: Buffer, signed: string): string {
  return createHmac('sha256', material).update(signed).digest('base64url');
}

export function encodeToken(kid: string, exp: number, payload: string, material: Buffer): string {
  const signed = `v1.${kid}.${exp}.${Buffer.from(payload, 'utf8').toString('base64url')}`;
  return `${signed}.${macOf(material, signed)}`;
}

/** A per-process key: both sides are HMAC-ed before the comparison (F14). */
const COMPARE_KEY = randomBytes(32);

/**
 * Constant-time comparison of the given and the expected MAC strings. Both are
 * HMAC-ed with a process-local key first, so the compared buffers always have the
 * same 32-byte length (no throw, no length oracle) and no decoding quirk (base64's
 * unused low bits) lets two spellings of one MAC both pass.
 */
export function sameMac(given: string, expected: string): boolean {
  const a = createHmac('sha256', COMPARE_KEY).update(given).digest();
  const b = createHmac('sha256', COMPARE_KEY).update(expected).digest();
  return timingSafeEqual(a, b);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The payload text, or undefined when its bytes are not UTF-8. */
export function decodePayload(payload: string): string | undefined {
  try {
    return UTF8.decode(Buffer.from(payload, 'base64url'));
  } catch {
    return undefined;
  }
}
