import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './_atomic-write.ts';
import { corrupt, errnoCode, fsError } from './_fs-errors.ts';
import { isSecretName } from './_names.ts';
import { FORMAT_VERSION, type SealedValue, type StoreKeys, macMatches, macOf } from './encryption.ts';
import type { SecretInfo, VersionInfo, VersionState } from './types.ts';

export const SECRETS_DIR = 'secrets';
const KIND = 'keyshift-secret';
const STATES: readonly string[] = ['enabled', 'disabled', 'destroyed'];

/** One version on disk. `sealed` is absent once destroyed (the ciphertext is wiped). */
export interface VersionRecord {
  version: number;
  state: VersionState;
  createTime: string;
  destroyTime?: string;
  sealed?: SealedValue;
}

/** One secret on disk: metadata in the clear (authenticated by a MAC), values sealed. */
export interface SecretRecord {
  name: string;
  createTime: string;
  etag: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  aliases: Record<string, number>;
  extra: Record<string, unknown>;
  versions: VersionRecord[];
}

export function secretPath(dir: string, name: string): string {
  return join(dir, SECRETS_DIR, `${name}.json`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSealed(value: unknown): value is SealedValue {
  return (
    isObject(value) &&
    typeof value.nonce === 'string' &&
    typeof value.ciphertext === 'string' &&
    typeof value.wrappedKey === 'string'
  );
}

function isVersion(value: unknown): value is VersionRecord {
  if (!isObject(value)) return false;
  const { version, state, createTime, sealed } = value;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return false;
  if (typeof state !== 'string' || !STATES.includes(state) || typeof createTime !== 'string') return false;
  return state === 'destroyed' ? sealed === undefined : isSealed(sealed);
}

/** Shape and ordering checks that the MAC cannot give (a bug, or a file from another tool). */
function shapeProblem(secret: Record<string, unknown>, expectedName: string): string | undefined {
  if (secret.name !== expectedName) return 'it holds a different secret than its file name says';
  if (typeof secret.createTime !== 'string' || typeof secret.etag !== 'string') return 'missing createTime or etag';
  for (const field of ['labels', 'annotations', 'aliases', 'extra']) {
    if (!isObject(secret[field])) return `${field} is not an object`;
  }
  const versions = secret.versions;
  if (!Array.isArray(versions) || !versions.every(isVersion)) return 'a version record is malformed';
  for (let i = 1; i < versions.length; i++) {
    if (versions[i]!.version <= versions[i - 1]!.version) return 'version numbers are not strictly increasing';
  }
  return undefined;
}

/** What the MAC covers: the header fields, then the body line's exact bytes. */
function macInput(storeId: string, body: string): string {
  return `${KIND}\0${FORMAT_VERSION}\0${storeId}\0${body}`;
}

/**
 * The bytes to write for a record: two lines. The first is a small header (kind, format,
 * store id, MAC); the second is the secret as JSON. The MAC covers the header fields and
 * the second line byte for byte, so reading needs no re-serialisation.
 */
export function serializeSecret(keys: StoreKeys, storeId: string, secret: SecretRecord): string {
  const body = JSON.stringify(secret);
  const header = { kind: KIND, format: FORMAT_VERSION, storeId, mac: macOf(keys, macInput(storeId, body)) };
  return `${JSON.stringify(header)}\n${body}\n`;
}

function parseLine(line: string, path: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw corrupt(path, `its ${what} is not valid JSON (truncated?)`, error);
  }
  if (!isObject(parsed)) throw corrupt(path, `its ${what} is not a JSON object`);
  return parsed;
}

/**
 * Reads and authenticates one secret file. Resolves undefined when it does not exist;
 * throws KS_ERR_STORE_CORRUPT naming the file when it is truncated, malformed, from
 * another store, or fails its MAC.
 */
export async function readSecret(
  dir: string,
  keys: StoreKeys,
  storeId: string,
  name: string,
): Promise<SecretRecord | undefined> {
  const path = secretPath(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'reading', path);
  }
  if (text.length === 0) throw corrupt(path, 'it is empty');
  const newline = text.indexOf('\n');
  if (newline < 0 || !text.endsWith('\n')) throw corrupt(path, 'it is truncated');
  const header = parseLine(text.slice(0, newline), path, 'header line');
  if (header.kind !== KIND) throw corrupt(path, 'it is not a keyshift secret file');
  if (header.format !== FORMAT_VERSION) throw corrupt(path, `unsupported format ${String(header.format)}`);
  if (header.storeId !== storeId) throw corrupt(path, 'it belongs to another store');
  const body = text.slice(newline + 1, -1);
  if (typeof header.mac !== 'string' || !macMatches(keys, macInput(storeId, body), header.mac)) {
    throw corrupt(path, 'its MAC does not verify (the file was modified outside keyshift)');
  }
  const secret = parseLine(body, path, 'secret line');
  const problem = shapeProblem(secret, name);
  if (problem !== undefined) throw corrupt(path, problem);
  return secret as unknown as SecretRecord;
}

/** Names of every secret file in the store, sorted; temp files and stray names are skipped. */
export async function listSecretNames(dir: string): Promise<string[]> {
  const secretsDir = join(dir, SECRETS_DIR);
  try {
    return (await readdir(secretsDir))
      .filter((file) => file.endsWith('.json') && !file.startsWith(TEMP_PREFIX))
      .map((file) => file.slice(0, -'.json'.length))
      .filter(isSecretName)
      .sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'listing', secretsDir);
  }
}

export function latestOf(secret: SecretRecord): VersionRecord | undefined {
  return secret.versions[secret.versions.length - 1];
}

export function versionInfo(name: string, record: VersionRecord): VersionInfo {
  const info: VersionInfo = { name, version: record.version, state: record.state, createTime: record.createTime };
  if (record.destroyTime !== undefined) info.destroyTime = record.destroyTime;
  return info;
}

export function secretInfo(secret: SecretRecord): SecretInfo {
  return {
    name: secret.name,
    createTime: secret.createTime,
    latest: latestOf(secret)?.version,
    versionCount: secret.versions.length,
    labels: { ...secret.labels },
    annotations: { ...secret.annotations },
    aliases: { ...secret.aliases },
    etag: secret.etag,
    extra: structuredClone(secret.extra),
  };
}
