import { randomBytes } from 'node:crypto';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { assertAlias, assertStringMap, assertVersionNumber } from './_names.ts';
import type { SecretRecord, VersionRecord } from './_secret-file.ts';
import type { SecretMeta, SecretPatch } from './types.ts';

/** Pure operations on a secret record (no I/O): lookups, a new record, validation. */

export function notFound(name: string, message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, message, { entry: name });
}

export function newEtag(): string {
  return randomBytes(8).toString('hex');
}

export function existing(name: string, secret: SecretRecord | undefined, dir: string): SecretRecord {
  if (secret === undefined) throw notFound(name, `secret ${name} not found in the local store ${dir}`);
  return secret;
}

export function findVersion(secret: SecretRecord, version: number, dir: string): VersionRecord {
  const found = secret.versions.find((record) => record.version === version);
  if (found === undefined) {
    throw notFound(secret.name, `secret ${secret.name} has no version ${version} in the local store ${dir}`);
  }
  return found;
}

export function emptySecret(name: string, now: string, meta: SecretMeta): SecretRecord {
  return {
    name,
    createTime: now,
    etag: newEtag(),
    labels: { ...meta.labels },
    annotations: { ...meta.annotations },
    aliases: {},
    extra: structuredClone(meta.extra ?? {}),
    versions: [],
  };
}

export function assertMeta(name: string, meta: SecretPatch): void {
  if (meta.labels !== undefined) assertStringMap(meta.labels, 'labels', name);
  if (meta.annotations !== undefined) assertStringMap(meta.annotations, 'annotations', name);
}

/** Every alias is well-formed and names a version the secret has. */
export function assertAliases(secret: SecretRecord, aliases: Record<string, number>, dir: string): void {
  for (const [alias, version] of Object.entries(aliases)) {
    assertAlias(alias);
    assertVersionNumber(version, secret.name);
    findVersion(secret, version, dir);
  }
}

/** A changed copy of the record with a new etag. */
export function changed(secret: SecretRecord, fields: Partial<SecretRecord>): SecretRecord {
  return { ...secret, ...fields, etag: newEtag() };
}
