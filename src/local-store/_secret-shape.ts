import type { SecretMetaRecord, VersionRecord } from './_records.ts';

/** Shape checks for authenticated records: what the MAC cannot give (a bug, or another tool's file). */

const STATES: readonly string[] = ['enabled', 'disabled', 'destroyed'];

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSealed(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.nonce === 'string' &&
    typeof value.ciphertext === 'string' &&
    typeof value.wrappedKey === 'string'
  );
}

export function isVersion(value: unknown): value is VersionRecord {
  if (!isObject(value)) return false;
  const { version, state, createTime, sealed } = value;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return false;
  if (typeof state !== 'string' || !STATES.includes(state) || typeof createTime !== 'string') return false;
  return state === 'destroyed' ? sealed === undefined : isSealed(sealed);
}

export function isMeta(value: Record<string, unknown>, name: string): value is Record<string, unknown> & SecretMetaRecord {
  if (value.name !== name || typeof value.createTime !== 'string' || typeof value.etag !== 'string') return false;
  return ['labels', 'annotations', 'aliases', 'extra'].every((field) => isObject(value[field]));
}
