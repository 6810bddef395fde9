/** The public shapes of the local store. No value ever appears in any of them except AccessResult. */

export interface LocalStoreOptions {
  /** Store directory. Default: `process.env.KEYSHIFT_STORE_DIR ?? '.keyshift/store'` (DEFAULT_LOCAL_STORE_DIR). */
  dir?: string;
  /**
   * 32-byte master key, raw bytes or base64. Default: env `KEYSHIFT_MASTER_KEY`, else the key
   * file `<dir>/master.key`, created with O_EXCL and mode 0600 on first open.
   */
  masterKey?: Uint8Array | string;
  /** Create the directory, key file and store header when missing. Default: true. */
  create?: boolean;
  /** How often watchers poll the head file as a fallback to fs.watch. Default: DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS (100). */
  pollIntervalMs?: number;
  /** How long a writer waits for the store lock before failing. Default: DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS (10 s). */
  lockTimeoutMs?: number;
  /** Largest value `put` accepts, in bytes. Default: DEFAULT_MAX_VALUE_BYTES (64 KiB, Secret Manager's limit). */
  maxValueBytes?: number;
  /** Where KEYSHIFT_STORE_DIR and KEYSHIFT_MASTER_KEY are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * `damaged`: the version's file failed its check (a damaged byte, or the file is missing).
 * Reading it fails with KS_ERR_STORE_CORRUPT; the other versions are unaffected.
 */
export type VersionState = 'enabled' | 'disabled' | 'destroyed' | 'damaged';

export interface VersionInfo {
  name: string;
  /** 1, 2, 3...: strictly increasing per secret, never reused. */
  version: number;
  state: VersionState;
  /** ISO 8601; empty for a damaged version. */
  createTime: string;
  /** ISO 8601, when the version was destroyed; only on destroyed versions. */
  destroyTime?: string;
}

/** What failed its check in one secret (`SecretInfo.damage`, from `list()`). Never a value. */
export interface SecretDamage {
  /** The metadata file is damaged or missing: labels, annotations, aliases, extra and etag are unknown (empty). */
  metadata: boolean;
  /** Versions whose file is damaged or missing; each reads as KS_ERR_STORE_CORRUPT. */
  versions: number[];
  /** One message per damaged file, naming it and what is wrong. */
  problems: string[];
}

export interface SecretInfo {
  name: string;
  /** ISO 8601. */
  createTime: string;
  /** Highest version number, whatever its state; undefined before the first put. */
  latest: number | undefined;
  versionCount: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Alias name to version number. */
  aliases: Record<string, number>;
  /** Changes on every write to the secret. */
  etag: string;
  /** Opaque JSON another part may keep with the secret (the emulator's topics, rotation...). */
  extra: Record<string, unknown>;
  /** Present (from `list()`) only when part of the secret failed its check. */
  damage?: SecretDamage;
}

export interface AccessResult {
  name: string;
  version: number;
  /** The plaintext. The caller owns this buffer (and may zero it). */
  value: Uint8Array;
}

export type StoreEvent =
  | { type: 'secret-created' | 'secret-updated' | 'secret-deleted'; name: string }
  | {
      type: 'version-added' | 'version-enabled' | 'version-disabled' | 'version-destroyed';
      name: string;
      version: number;
    };

/** Metadata accepted by createSecret. */
export interface SecretMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/** Fields updateSecret replaces (each given field is replaced whole). */
export interface SecretPatch extends SecretMeta {
  aliases?: Record<string, number>;
}
