import { randomBytes } from 'node:crypto';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { assertAlias, assertStringMap, assertVersionNumber } from './_names.ts';
import type { SecretMetaRecord } from './_records.ts';
import type { SecretMeta, SecretPatch } from './types.ts';

/** Pure operations on a secret's records (no I/O): lookups, a new record, validation. */

export function notFound(name: string, message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, message, { entry: name });
}

export function newEtag(): string {
  return randomBytes(8).toString('hex');
}

export function existing<T>(name: string, secret: T | undefined, dir: string): T {
  if (secret === undefined) throw notFound(name, `secret ${name} not found in the local store ${dir}`);
  return secret;
}

export function emptySecret(name: string, now: string, meta: SecretMeta): SecretMetaRecord {
  return {
    name,
    createTime: now,
    etag: newEtag(),
    labels: { ...meta.labels },
    annotations: { ...meta.annotations },
    aliases: {},
    extra: structuredClone(meta.extra ?? {}),
  };
}

export function assertMeta(name: string, meta: SecretPatch): void {
  if (meta.labels !== undefined) assertStringMap(meta.labels, 'labels', name);
  if (meta.annotations !== undefined) assertStringMap(meta.annotations, 'annotations', name);
}

/** Every alias is well-formed and names a version the secret has (1..latest). */
export function assertAliases(name: string, latest: number, aliases: Record<string, number>, dir: string): void {
  for (const [alias, version] of Object.entries(aliases)) {
    assertAlias(alias);
    assertVersionNumber(version, name);
    if (version > latest) throw notFound(name, `secret ${name} has no version ${version} in the local store ${dir}`);
  }
}
