/** This part's defaults and limits. */
export {
  DEFAULT_LOCAL_STORE_DIR,
  DEFAULT_LOCAL_STORE_LOCK_STALE_MS,
  DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS,
  DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS,
  LOCAL_STORE_JOURNAL_SIZE,
} from '../constants.ts';
export { ChangeFeed, type ChangeFeedOptions } from './change-feed.ts';
export { FORMAT_VERSION } from './encryption.ts';
export { MASTER_KEY_ENV, MASTER_KEY_FILE, generateMasterKey } from './master-key.ts';
export { HEADER_FILE, openLocalStore, resolveStoreDir } from './open-local-store.ts';
export { LocalStore } from './store.ts';
export type {
  AccessResult,
  LocalStoreOptions,
  SecretInfo,
  SecretMeta,
  SecretDamage,
  SecretPatch,
  StoreEvent,
  VersionInfo,
  VersionState,
} from './types.ts';
