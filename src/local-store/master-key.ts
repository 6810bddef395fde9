import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { createFileExclusive } from './_atomic-write.ts';
import { errnoCode, fsError } from './_fs-errors.ts';
import { masterKeyGitAdvice, masterKeyGitWarning } from './gitignore.ts';

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'master.key';
export const MASTER_KEY_ENV = 'KEYSHIFT_MASTER_KEY';

/** Where the key came from, for error messages (never the key itself). */
export interface MasterKey {
  bytes: Buffer;
  origin: string;
}

function masterKeyError(message: string, cause?: unknown): KeyshiftError {
  return new KeyshiftError(ErrorCodes.MASTER_KEY, message, cause === undefined ? {} : { cause });
}

/** Decodes a 32-byte key given as bytes or base64 (standard or URL-safe). */
export function parseMasterKey(input: Uint8Array | string, origin: string): MasterKey {
  let bytes: Buffer;
  if (typeof input === 'string') {
    const text = input.trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
      throw masterKeyError(`the master key from ${origin} is not base64 (expected 32 random bytes, base64-encoded)`);
    }
    bytes = Buffer.from(text, 'base64');
  } else {
    bytes = Buffer.from(input);
  }
  if (bytes.length !== MASTER_KEY_BYTES) {
    const got = bytes.length;
    bytes.fill(0);
    throw masterKeyError(`the master key from ${origin} is ${got} bytes; it must be exactly ${MASTER_KEY_BYTES}`);
  }
  return { bytes, origin };
}

/** Generates a key suitable for KEYSHIFT_MASTER_KEY (base64 of 32 random bytes). */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

async function readKeyFile(path: string): Promise<MasterKey> {
  const info = await stat(path).catch((error: unknown) => {
    throw fsError(error, 'reading the master key file', path);
  });
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw masterKeyError(`the master key file ${path} is readable by other users (mode ${mode}); run chmod 600 ${path}`);
  }
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw fsError(error, 'reading the master key file', path);
  });
  return parseMasterKey(text, `key file ${path}`);
}

/** Once, when the key file is created: a warning (process.emitWarning) if git would commit it. */
async function warnIfCommittable(path: string): Promise<void> {
  const advice = await masterKeyGitAdvice(path).catch(() => undefined);
  if (advice) process.emitWarning(masterKeyGitWarning(path, advice), { code: MASTER_KEY_GIT_WARNING });
}

/** The code of the warning emitted when a new master.key is inside a git work tree and not ignored. */
export const MASTER_KEY_GIT_WARNING = 'KEYSHIFT_MASTER_KEY_NOT_IGNORED';

export interface ResolveMasterKeyOptions {
  /** An explicit key (LocalStoreOptions.masterKey). */
  masterKey: Uint8Array | string | undefined;
  /** The store directory holding master.key. */
  dir: string;
  /** Create the key file when no key is found anywhere. */
  create: boolean;
  /** The environment to read KEYSHIFT_MASTER_KEY from. */
  env: NodeJS.ProcessEnv;
}

/**
 * The master key, in order: the explicit option, KEYSHIFT_MASTER_KEY, `<dir>/master.key`.
 * With `create`, a missing key file is created exclusively with mode 0600 (two processes
 * racing end up with the same key: the loser reads the winner's file).
 */
export async function resolveMasterKey(options: ResolveMasterKeyOptions): Promise<MasterKey> {
  if (options.masterKey !== undefined) return parseMasterKey(options.masterKey, 'the masterKey option');
  const fromEnv = options.env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseMasterKey(fromEnv, `${MASTER_KEY_ENV}`);
  const path = join(options.dir, MASTER_KEY_FILE);
  try {
    return await readKeyFile(path);
  } catch (error) {
    const missing = error instanceof KeyshiftError && errnoCode(error.cause) === 'ENOENT';
    if (!missing) throw error;
    if (!options.create) {
      throw masterKeyError(`no master key: set ${MASTER_KEY_ENV} (32 bytes, base64) or restore ${path}`, error);
    }
  }
  const key = randomBytes(MASTER_KEY_BYTES);
  const created = await createFileExclusive(path, `${key.toString('base64')}\n`);
  key.fill(0);
  if (created) await warnIfCommittable(path);
  return readKeyFile(path);
}
