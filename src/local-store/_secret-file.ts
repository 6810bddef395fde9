import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyshiftError } from '../errors.ts';
import { corrupt, errnoCode, fsError, isCorrupt } from './_fs-errors.ts';
import { type LegacySecret, legacyPath, readLegacySecret } from './_legacy-secret.ts';
import { isSecretName } from './_names.ts';
import { parseSealed, serializeSealed } from './_sealed-file.ts';
import { isMeta, isVersion } from './_secret-shape.ts';
import { notFound } from './_secret-record.ts';
import type { SecretMetaRecord, VersionRecord } from './_records.ts';
import type { StoreKeys } from './encryption.ts';
import type { SecretDamage, SecretInfo, VersionInfo } from './types.ts';

export type { SecretMetaRecord, VersionRecord };

/**
 * The secrets on disk, one directory per secret (format 2):
 *
 *     secrets/NAME/secret.json   metadata: labels, annotations, aliases, extra, etag
 *     secrets/NAME/v1.json       one file per version: state, times, the sealed value
 *
 * Each file is sealed on its own (`_sealed-file.ts`), so a damaged byte costs the one
 * version (or the metadata) it hit. The directory name is the secret name: every name
 * the rule allows (at most 255 characters of `[A-Za-z0-9_-]`) is a valid file name, and
 * the files inside have short names of their own.
 */
export const SECRETS_DIR = 'secrets';
export const META_FILE = 'secret.json';
const META_KIND = 'keyshift-secret-meta';
const VERSION_KIND = 'keyshift-version';
const VERSION_FILE = /^v([1-9][0-9]{0,14})\.json$/;

/** A version that failed its check: its number is known (from its file name), nothing else. */
export interface DamagedVersion {
  version: number;
  damage: KeyshiftError;
}

/** A secret as found on disk, before its version files are read. */
export interface StoredSecret {
  name: string;
  /** The metadata, or the KS_ERR_STORE_CORRUPT that says why it cannot be used. */
  meta: SecretMetaRecord | KeyshiftError;
  /** Every version number 1..latest (a number without a file reads as damaged). */
  latest: number;
  /** A 0.1.0 file this secret still lives in (moved by the next write), or its damage. */
  legacy?: LegacySecret | { path: string; damage: KeyshiftError };
  /** A 0.1.0 file left beside the directory by an interrupted move: removed by the next write. */
  staleLegacy?: string;
}

export function secretDir(dir: string, name: string): string {
  return join(dir, SECRETS_DIR, name);
}

export function metaPath(dir: string, name: string): string {
  return join(secretDir(dir, name), META_FILE);
}

export function versionPath(dir: string, name: string, version: number): string {
  return join(secretDir(dir, name), `v${version}.json`);
}

const versionSubject = (name: string, version: number): string => `${name}\0${version}`;

export function serializeMeta(keys: StoreKeys, storeId: string, meta: SecretMetaRecord): string {
  return serializeSealed(keys, storeId, META_KIND, meta.name, meta);
}

export function serializeVersion(keys: StoreKeys, storeId: string, name: string, record: VersionRecord): string {
  return serializeSealed(keys, storeId, VERSION_KIND, versionSubject(name, record.version), record);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'reading', path);
  }
}

function parseMeta(keys: StoreKeys, storeId: string, name: string, text: string, path: string): SecretMetaRecord {
  const body = parseSealed(keys, storeId, META_KIND, name, text, path);
  if (!isMeta(body, name)) throw corrupt(path, 'its metadata is malformed');
  return body;
}

function isLegacySecret(legacy: StoredSecret['legacy']): legacy is LegacySecret {
  return legacy !== undefined && 'versions' in legacy;
}

/**
 * What the store holds for `name`: its directory (metadata read and checked, version
 * numbers from the file names) or its 0.1.0 file. Resolves undefined when there is
 * neither. Damage never throws here: it is recorded in `meta` or `legacy`.
 */
export async function loadSecret(dir: string, keys: StoreKeys, storeId: string, name: string): Promise<StoredSecret | undefined> {
  const folder = secretDir(dir, name);
  let files: string[] | undefined;
  try {
    files = await readdir(folder);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw fsError(error, 'listing', folder);
  }
  const oldPath = legacyPath(dir, SECRETS_DIR, name);
  let legacy: StoredSecret['legacy'];
  try {
    legacy = await readLegacySecret(oldPath, keys, storeId, name);
  } catch (error) {
    if (!isCorrupt(error)) throw error;
    legacy = { path: oldPath, damage: error };
  }
  const numbers = (files ?? []).map((file) => VERSION_FILE.exec(file)?.[1]).filter((n) => n !== undefined).map(Number);
  const hasMeta = files?.includes(META_FILE) ?? false;
  if (!hasMeta && numbers.length === 0) {
    // No directory (or an empty one a crash left): the secret lives in its 0.1.0 file, if any.
    if (legacy === undefined) return undefined;
    if (!isLegacySecret(legacy)) return { name, meta: legacy.damage, latest: 0, legacy };
    return { name, meta: legacy.meta, latest: legacy.versions.length, legacy };
  }
  const path = metaPath(dir, name);
  let meta: SecretMetaRecord | KeyshiftError;
  const text = hasMeta ? await readText(path) : undefined;
  if (text === undefined) meta = corrupt(path, 'the metadata file is missing');
  else {
    try {
      meta = parseMeta(keys, storeId, name, text, path);
    } catch (error) {
      if (!isCorrupt(error)) throw error;
      meta = error;
    }
  }
  return {
    name,
    meta,
    latest: Math.max(0, ...numbers),
    ...(legacy === undefined ? {} : { staleLegacy: oldPath }),
  };
}

/** The record of `version`, read and checked. KS_ERR_SOURCE_NOT_FOUND past the latest, KS_ERR_STORE_CORRUPT when damaged. */
export async function loadVersion(
  dir: string,
  keys: StoreKeys,
  storeId: string,
  secret: StoredSecret,
  version: number,
): Promise<VersionRecord> {
  const { name, legacy } = secret;
  assertLegacyIntact(secret);
  if (version > secret.latest) throw notFound(name, `secret ${name} has no version ${version} in the local store ${dir}`);
  if (isLegacySecret(legacy)) return legacy.versions[version - 1]!;
  const path = versionPath(dir, name, version);
  const text = await readText(path);
  if (text === undefined) throw corrupt(path, `the file of version ${version} is missing`);
  const body = parseSealed(keys, storeId, VERSION_KIND, versionSubject(name, version), text, path);
  if (!isVersion(body) || body.version !== version) throw corrupt(path, 'its version record is malformed');
  return body;
}

/** Every version 1..latest, each read and checked; a damaged one stands in for what failed. */
export async function loadVersions(
  dir: string,
  keys: StoreKeys,
  storeId: string,
  secret: StoredSecret,
): Promise<Array<VersionRecord | DamagedVersion>> {
  const numbers = Array.from({ length: secret.latest }, (_, i) => i + 1);
  return Promise.all(
    numbers.map(async (version) => {
      try {
        return await loadVersion(dir, keys, storeId, secret, version);
      } catch (error) {
        if (!isCorrupt(error)) throw error;
        return { version, damage: error };
      }
    }),
  );
}

/** Throws the damage of a 0.1.0 file: one MAC covered the whole secret, so none of it can be trusted. */
export function assertLegacyIntact(secret: StoredSecret): void {
  if (secret.legacy !== undefined && !isLegacySecret(secret.legacy)) throw secret.legacy.damage;
}

/** The metadata, or its damage thrown (KS_ERR_STORE_CORRUPT naming the file). */
export function usableMeta(secret: StoredSecret): SecretMetaRecord {
  if (secret.meta instanceof Error) throw secret.meta;
  return secret.meta;
}

/** Names of every secret in the store (directories and 0.1.0 files), sorted; temp and stray names are skipped. */
export async function listSecretNames(dir: string): Promise<string[]> {
  const folder = join(dir, SECRETS_DIR);
  try {
    const names = new Set<string>();
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const name = entry.isDirectory() ? entry.name : entry.name.endsWith('.json') ? entry.name.slice(0, -'.json'.length) : '';
      if (isSecretName(name)) names.add(name);
    }
    return [...names].sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'listing', folder);
  }
}

export function isDamaged(record: VersionRecord | DamagedVersion): record is DamagedVersion {
  return 'damage' in record;
}

export function versionInfo(name: string, record: VersionRecord | DamagedVersion): VersionInfo {
  if (isDamaged(record)) return { name, version: record.version, state: 'damaged', createTime: '' };
  const info: VersionInfo = { name, version: record.version, state: record.state, createTime: record.createTime };
  if (record.destroyTime !== undefined) info.destroyTime = record.destroyTime;
  return info;
}

/**
 * The public view of a secret. With `versions` (list), damaged versions and damaged
 * metadata are reported in `damage`; the fields a damaged metadata file would have given
 * are then empty.
 */
export function secretInfo(secret: StoredSecret, versions?: ReadonlyArray<VersionRecord | DamagedVersion>): SecretInfo {
  const meta = secret.meta instanceof Error ? undefined : secret.meta;
  const damagedVersions = (versions ?? []).filter(isDamaged);
  const info: SecretInfo = {
    name: secret.name,
    createTime: meta?.createTime ?? '',
    latest: secret.latest === 0 ? undefined : secret.latest,
    versionCount: secret.latest,
    labels: { ...meta?.labels },
    annotations: { ...meta?.annotations },
    aliases: { ...meta?.aliases },
    etag: meta?.etag ?? '',
    extra: structuredClone(meta?.extra ?? {}),
  };
  if (meta !== undefined && damagedVersions.length === 0) return info;
  const damage: SecretDamage = {
    metadata: meta === undefined,
    versions: damagedVersions.map((v) => v.version),
    problems: [...(meta === undefined ? [(secret.meta as KeyshiftError).message] : []), ...damagedVersions.map((v) => v.damage.message)],
  };
  return { ...info, damage };
}
