import { resolve } from 'node:path';
import { DEFAULT_LOCAL_STORE_DIR } from '../constants.ts';
import { openLocalStore } from '../local-store/open-local-store.ts';
import type { LocalStore } from '../local-store/store.ts';
import type { CliIo } from './_command.ts';

/** The store directory of a command: --store, else $KEYSHIFT_STORE_DIR, else .keyshift/store. */
export function cliStoreDir(store: string | undefined, io: CliIo): string {
  const fromEnv = io.env.KEYSHIFT_STORE_DIR;
  return resolve(io.cwd, store ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_LOCAL_STORE_DIR : fromEnv));
}

/**
 * Opens the command's store, runs `fn`, closes it. Read commands pass `create: false` so a
 * typo in --store reports "no local store" (exit 3) instead of creating one and a key file.
 */
export async function withCliStore<T>(
  store: string | undefined,
  io: CliIo,
  create: boolean,
  fn: (store: LocalStore) => Promise<T>,
): Promise<T> {
  const opened = await openLocalStore({ dir: cliStoreDir(store, io), create, env: io.env });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
