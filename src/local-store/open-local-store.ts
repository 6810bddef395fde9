import { constants, access, mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  DEFAULT_LOCAL_STORE_DIR,
  DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS,
  DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS,
  DEFAULT_MAX_VALUE_BYTES,
} from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { errnoCode, fsError } from './_fs-errors.ts';
import { HEADER_FILE, type Header, createHeader, headerPath, readHeader } from './_header.ts';
import { type StoreKeys, deriveStoreKeys, keyCheckMatches, keyId, wipeKeys } from './encryption.ts';
import { type MasterKey, resolveMasterKey } from './master-key.ts';
import { LocalStore } from './store.ts';
import type { LocalStoreOptions } from './types.ts';

export { HEADER_FILE };

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
  let header = await readHeader(headerPath(dir));
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
    header ??= await createHeader(headerPath(dir), master.bytes);
    const keys = checkKey(header, master, dir);
    return new LocalStore({
      dir,
      storeId: header.storeId,
      legacyHeader: header.legacy,
      keys,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS,
      maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    });
  } finally {
    master.bytes.fill(0);
  }
}
