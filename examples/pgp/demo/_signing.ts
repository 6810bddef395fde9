/**
 * Tokens between the services, signed through the HMAC keyring over the static
 * SUCCESS_URL_SIGNING_KEY keyset: a token names the key that signed it, so a token signed
 * before a key rotation keeps verifying after it while the former key is in its overlap.
 */
import type { Declaration, Keyshift } from 'keyshift';
import { createHmacKeyring, type HmacKeyring } from 'keyshift/rotation/keyring';

/** How long a token lives, and how long a former primary key keeps verifying (token life + clock skew). */
const TOKEN_TTL_MS = 15 * 60_000;
const OVERLAP_MS = TOKEN_TTL_MS + 60_000;

/**
 * The keyring of a service that declares SUCCESS_URL_SIGNING_KEY (a static entry, read at
 * ready()): made on the first request, since a service's listener exists before its manager is ready.
 */
export function successUrlRing<D extends Declaration>(ks: Keyshift<D>): () => HmacKeyring {
  let ring: HmacKeyring | undefined;
  return () => {
    ring ??= createHmacKeyring({ keyshift: ks, entry: 'SUCCESS_URL_SIGNING_KEY' as keyof D & string, overlapMs: OVERLAP_MS, tokenTtlMs: TOKEN_TTL_MS });
    return ring;
  };
}

/** True when `signature` is a live token of this keyring over exactly `payload`. */
export async function verifySigned(ring: HmacKeyring, payload: string, signature: string): Promise<boolean> {
  const result = await ring.verify(signature);
  return result.ok && result.payload === payload;
}
