import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, errnoCode, fsError } from './_fs-errors.ts';
import { FORMAT_VERSION, type StoreKeys, macMatches } from './encryption.ts';
import type { SecretMetaRecord, VersionRecord } from './_records.ts';
import { isMeta, isVersion } from './_secret-shape.ts';

/**
 * keyshift 0.1.0 kept a secret in one file, `secrets/NAME.json`: a header line with one
 * MAC, then the whole secret (metadata and every version) as one JSON line. It is still
 * read; the next write to the secret moves it to the per-version layout and removes it.
 * One MAC over everything means a damaged byte here still costs the whole secret.
 */
const KIND = 'keyshift-secret';

export interface LegacySecret {
  path: string;
  meta: SecretMetaRecord;
  versions: VersionRecord[];
}

export function legacyPath(dir: string, secretsDir: string, name: string): string {
  return join(dir, secretsDir, `${name}.json`);
}

function macInput(storeId: string, body: string): string {
  return `${KIND}\0${FORMAT_VERSION}\0${storeId}\0${body}`;
}

function parseLine(line: string, path: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw corrupt(path, `its ${what} is not valid JSON (truncated?)`, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(path, `its ${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Reads and authenticates a 0.1.0 secret file. Resolves undefined when there is none (a
 * name too long for a `.json` file name never had one); throws KS_ERR_STORE_CORRUPT naming
 * the file when any part of it is off.
 */
export async function readLegacySecret(path: string, keys: StoreKeys, storeId: string, name: string): Promise<LegacySecret | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') return undefined;
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
    throw corrupt(path, 'its MAC does not verify (a damaged byte, or the file was modified outside keyshift)');
  }
  const secret = parseLine(body, path, 'secret line');
  const { versions, ...meta } = secret;
  if (!isMeta(meta, name)) throw corrupt(path, 'its metadata is malformed or names another secret');
  if (!Array.isArray(versions) || !versions.every((v: unknown, i) => isVersion(v) && v.version === i + 1)) {
    throw corrupt(path, 'a version record is malformed or out of order');
  }
  return { path, meta, versions: versions as VersionRecord[] };
}
