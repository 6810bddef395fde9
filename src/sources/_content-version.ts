import { createHash } from 'node:crypto';

/** A version id for stores that have none (env, files): a short hash of the content. Never reveals the value. */
export function contentVersion(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 12);
}
