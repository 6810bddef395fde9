/** HMAC-SHA256 tokens between the services, keyed by the static SUCCESS_URL_SIGNING_KEY. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from 'keyshift';

export function sign(key: Secret<string>, payload: string): string {
  return createHmac('sha256', key.reveal()).update(payload).digest('base64url');
}

export function verify(key: Secret<string>, payload: string, signature: string): boolean {
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
