import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, writeFileAtomic } from './_atomic-write.ts';
import { checksumMatches, hasChecksum, serializeWithChecksum } from './_checksum.ts';
import { corrupt, errnoCode, fsError } from './_fs-errors.ts';
import { deriveStoreKeys, wipeKeys } from './encryption.ts';

/**
 * The store header, `store.json`: the store id and the key check. Format 2 carries a
 * SHA-256 checksum over every byte; a 0.1.0 header (format 1) has none, is still read,
 * and is rewritten as format 2 (same id, same key check) by the first write to the store.
 */
export const HEADER_FILE = 'store.json';
const KIND = 'keyshift-store';
const HEADER_FORMAT = 2;
const LEGACY_FORMAT = 1;

export interface Header {
  storeId: string;
  keyCheck: string;
  /** A 0.1.0 header without a checksum, to be rewritten by the first write. */
  legacy: boolean;
}

export function headerPath(dir: string): string {
  return join(dir, HEADER_FILE);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'reading the store header', path);
  }
}

/** The parsed header with every field, or undefined when there is none. Throws KS_ERR_STORE_CORRUPT when any byte is off. */
async function readFields(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, text.length === 0 ? 'it is empty' : 'it is not valid JSON (truncated?)', error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(path, 'it is not a keyshift store header');
  const fields = parsed as Record<string, unknown>;
  if (fields.kind !== KIND) throw corrupt(path, 'it is not a keyshift store header');
  if (fields.format !== HEADER_FORMAT && fields.format !== LEGACY_FORMAT) throw corrupt(path, `unsupported format ${String(fields.format)}`);
  if (hasChecksum(text) ? !checksumMatches(text) : fields.format !== LEGACY_FORMAT) {
    throw corrupt(path, 'its checksum does not match (a damaged byte)');
  }
  return fields;
}

export async function readHeader(path: string): Promise<Header | undefined> {
  const fields = await readFields(path);
  if (fields === undefined) return undefined;
  const { storeId, keyCheck, format } = fields;
  if (typeof storeId !== 'string' || !/^[0-9a-f]{32}$/.test(storeId) || typeof keyCheck !== 'string') {
    throw corrupt(path, 'storeId or keyCheck is missing or malformed');
  }
  return { storeId, keyCheck, legacy: format === LEGACY_FORMAT };
}

function serializeHeader(fields: Record<string, unknown>): string {
  const { sha256: _old, ...rest } = fields;
  return serializeWithChecksum({ ...rest, kind: KIND, format: HEADER_FORMAT }, 2);
}

/** Writes a new header for the master key `master`, or reads the one another process wrote first. */
export async function createHeader(path: string, master: Uint8Array): Promise<Header> {
  const storeId = randomBytes(16).toString('hex');
  const keys = deriveStoreKeys(master, storeId);
  wipeKeys(keys);
  const fields = {
    kind: KIND,
    format: HEADER_FORMAT,
    storeId,
    createTime: new Date().toISOString(),
    cipher: 'aes-256-gcm',
    kdf: 'hkdf-sha256',
    keyCheck: keys.keyCheck,
  };
  await createFileExclusive(path, serializeHeader(fields));
  const written = await readHeader(path);
  if (written === undefined) throw corrupt(path, 'it vanished right after it was created');
  return written;
}

/**
 * Rewrites a 0.1.0 header as format 2 (every field kept, a checksum added), under the
 * store lock, before the first write in the new layout: from then on 0.1.0 refuses the
 * store ("unsupported format 2") instead of missing the secrets it cannot read.
 */
export async function upgradeHeader(path: string): Promise<void> {
  const fields = await readFields(path);
  if (fields === undefined || fields.format !== LEGACY_FORMAT) return;
  await writeFileAtomic(path, serializeHeader(fields));
}
