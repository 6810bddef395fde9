import { randomBytes } from 'node:crypto';
import { constants, access, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DEFAULT_LOCAL_STORE_DIR,
  DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS,
  DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS,
  DEFAULT_MAX_VALUE_BYTES,
} from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { createFileExclusive } from './_atomic-write.ts';
import { corrupt, errnoCode, fsError } from './_fs-errors.ts';
import { readJsonFile } from './_read-json.ts';
import { FORMAT_VERSION, type StoreKeys, deriveStoreKeys, keyCheckMatches, keyId, wipeKeys } from './encryption.ts';
import { type MasterKey, resolveMasterKey } from './master-key.ts';
import { LocalStore } from './store.ts';
import type { LocalStoreOptions } from './types.ts';

/** The store header: its id, format and key check. Written once, never rewritten. */
export const HEADER_FILE = 'store.json';
const KIND = 'keyshift-store';

interface Header {
  storeId: string;
  keyCheck: string;
}

/** The directory from options, KEYSHIFT_STORE_DIR, or the default, as an absolute path. */
export function resolveStoreDir(dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const given = dir ?? env.KEYSHIFT_STORE_DIR;
  return resolve(given === undefined || given === '' ? DEFAULT_LOCAL_STORE_DIR : given);
}

/** Makes sure `dir` exists (creating it, mode 0700, when allowed) and that we may use it. */
async function prepareDir(dir: string, create: boolean): Promise<void> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      throw new KeyshiftError(ErrorCodes.SOURCE_DENIED, `the local store path ${dir} is not a directory`, {
        details: { path: dir },
      });
    }
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw fsError(error, 'opening the store directory', dir);
    if (!create) {
      throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `no local store at ${dir} (nothing was ever put there)`, {
        details: { path: dir },
      });
    }
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((mkdirError: unknown) => {
      throw fsError(mkdirError, 'creating the store directory', dir);
    });
  }
  await access(dir, constants.R_OK | constants.X_OK).catch((error: unknown) => {
    throw fsError(error, 'opening the store directory', dir);
  });
}

async function readHeader(path: string): Promise<Header | undefined> {
  const parsed = await readJsonFile(path, 'reading the store header');
  if (parsed === undefined) return undefined;
  const { kind, format, storeId, keyCheck } = (parsed ?? {}) as Record<string, unknown>;
  if (kind !== KIND) throw corrupt(path, 'it is not a keyshift store header');
  if (format !== FORMAT_VERSION) throw corrupt(path, `unsupported format ${String(format)}`);
  if (typeof storeId !== 'string' || !/^[0-9a-f]{32}$/.test(storeId) || typeof keyCheck !== 'string') {
    throw corrupt(path, 'storeId or keyCheck is missing or malformed');
  }
  return { storeId, keyCheck };
}

/** Writes a new header for `master`, or reads the one another process wrote first. */
async function createHeader(path: string, master: MasterKey): Promise<Header> {
  const storeId = randomBytes(16).toString('hex');
  const keys = deriveStoreKeys(master.bytes, storeId);
  wipeKeys(keys);
  const header = {
    kind: KIND,
    format: FORMAT_VERSION,
    storeId,
    createTime: new Date().toISOString(),
    cipher: 'aes-256-gcm',
    kdf: 'hkdf-sha256',
    keyCheck: keys.keyCheck,
  };
  await createFileExclusive(path, `${JSON.stringify(header, null, 2)}\n`);
  const written = await readHeader(path);
  if (written === undefined) throw corrupt(path, 'it vanished right after it was created');
  return written;
}

function checkKey(header: Header, master: MasterKey, dir: string): StoreKeys {
  const keys = deriveStoreKeys(master.bytes, header.storeId);
  if (keyCheckMatches(header.keyCheck, keys.keyCheck)) return keys;
  wipeKeys(keys);
  throw new KeyshiftError(
    ErrorCodes.MASTER_KEY,
    `wrong master key for the local store ${dir}: the key from ${master.origin} (id ${keyId(keys.keyCheck)}) ` +
      `is not the key this store was created with (id ${keyId(header.keyCheck)})`,
    { details: { path: dir } },
  );
}

/**
 * Opens (and by default creates) the local store in `options.dir`. Fails with
 * KS_ERR_MASTER_KEY for a missing or wrong key, KS_ERR_STORE_CORRUPT for a damaged header,
 * KS_ERR_SOURCE_DENIED for a directory it may not use, and never overwrites anything.
 */
export async function openLocalStore(options: LocalStoreOptions = {}): Promise<LocalStore> {
  const env = options.env ?? process.env;
  const dir = resolveStoreDir(options.dir, env);
  const create = options.create ?? true;
  await prepareDir(dir, create);
  const headerPath = join(dir, HEADER_FILE);
  let header = await readHeader(headerPath);
  if (header === undefined && !create) {
    throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `no local store at ${dir} (${HEADER_FILE} is missing)`, {
      details: { path: dir },
    });
  }
  const master = await resolveMasterKey({
    masterKey: options.masterKey,
    dir,
    create: create && header === undefined,
    env,
  });
  try {
    header ??= await createHeader(headerPath, master);
    const keys = checkKey(header, master, dir);
    return new LocalStore({
      dir,
      storeId: header.storeId,
      keys,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS,
      maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    });
  } finally {
    master.bytes.fill(0);
  }
}
