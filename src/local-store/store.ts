import { join } from 'node:path';
import { DEFAULT_LOCAL_STORE_LOCK_STALE_MS } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { type FileChange, commitChange } from './_commit.ts';
import { corrupt, isCorrupt } from './_fs-errors.ts';
import { headForWrite, nextHead } from './_head.ts';
import { headerPath, upgradeHeader } from './_header.ts';
import { withFileLock } from './_lock.ts';
import { type VersionSelector, assertSecretName, assertVersionNumber, parseVersionSelector } from './_names.ts';
import {
  assertLegacyIntact,
  type SecretMetaRecord,
  type StoredSecret,
  type VersionRecord,
  listSecretNames,
  loadSecret,
  loadVersion,
  loadVersions,
  metaPath,
  secretDir,
  secretInfo,
  serializeMeta,
  serializeVersion,
  usableMeta,
  versionInfo,
  versionPath,
} from './_secret-file.ts';
import { assertAliases, assertMeta, emptySecret, existing, newEtag, notFound } from './_secret-record.ts';
import { ChangeFeed } from './change-feed.ts';
import { type StoreKeys, openValue, sealValue, sealedSize, valueAad, wipeKeys } from './encryption.ts';
import type { AccessResult, SecretInfo, SecretMeta, SecretPatch, StoreEvent, VersionInfo, VersionState } from './types.ts';

/** What openLocalStore hands the store once the directory, header and keys are settled. */
export interface LocalStoreInit {
  dir: string;
  storeId: string;
  /** store.json is a 0.1.0 header: the first write rewrites it (format 2, with a checksum). */
  legacyHeader?: boolean;
  keys: StoreKeys;
  pollIntervalMs: number;
  lockTimeoutMs: number;
  maxValueBytes: number;
}

/** What a mutation decides: the files to change, the events, and the result. */
interface Mutation<T> {
  change: FileChange;
  events: StoreEvent[];
  result: T;
}

const LOCK_FILE = '.lock';
const NO_CHANGE: FileChange = { writes: [], removes: [] };

/**
 * The embedded store: versioned, encrypted at rest, safe with concurrent writers across
 * processes, and notifying every process of changes. Open it with `openLocalStore()`.
 * Each version and each secret's metadata is a file of its own, checked on its own: a
 * damaged byte costs the version it hit, never the secret or the store.
 */
export class LocalStore {
  readonly dir: string;
  readonly #init: LocalStoreInit;
  readonly #feed: ChangeFeed;
  /** Serialises this process's writers before they contend for the file lock. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Reads in flight: close() waits for them before it wipes the keys they verify and decrypt with. */
  readonly #reads = new Set<Promise<unknown>>();
  #legacyHeader: boolean;
  #closed = false;

  constructor(init: LocalStoreInit) {
    this.dir = init.dir;
    this.#init = init;
    this.#legacyHeader = init.legacyHeader ?? false;
    this.#feed = new ChangeFeed({
      dir: init.dir,
      pollIntervalMs: init.pollIntervalMs,
      listNames: () => listSecretNames(init.dir),
    });
  }

  /**
   * Adds a version (creating the secret when missing). Works when other versions or the
   * metadata are damaged: the new number is past every version file there is, and damaged
   * files are left as they are.
   */
  async put(name: string, value: Uint8Array | string, options: { ifLatest?: number } = {}): Promise<VersionInfo> {
    assertSecretName(name);
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (bytes.byteLength > this.#init.maxValueBytes) {
      throw new KeyshiftError(
        ErrorCodes.VALUE_TOO_LARGE,
        `secret ${name}: value of ${bytes.byteLength} bytes is over the ${this.#init.maxValueBytes}-byte limit`,
        { entry: name, details: { bytes: bytes.byteLength, maxBytes: this.#init.maxValueBytes } },
      );
    }
    return this.#mutate(name, async (current) => {
      if (current !== undefined) assertLegacyIntact(current);
      const latest = current?.latest ?? 0;
      if (options.ifLatest !== undefined && options.ifLatest !== latest) {
        throw new KeyshiftError(
          ErrorCodes.CONFLICT,
          `secret ${name}: conditional put expected latest version ${options.ifLatest}, found ${latest}`,
          { entry: name, details: { expected: options.ifLatest, latest } },
        );
      }
      const now = new Date().toISOString();
      const version = latest + 1;
      const sealed = sealValue(this.#init.keys, valueAad(this.#init.storeId, name, version), bytes);
      const added: VersionRecord = { version, state: 'enabled', createTime: now, sealed };
      const meta = current === undefined ? emptySecret(name, now, {}) : this.#touch(current);
      const events: StoreEvent[] = current === undefined ? [{ type: 'secret-created', name }] : [];
      events.push({ type: 'version-added', name, version });
      return { change: await this.#change(name, current, [added], meta), events, result: versionInfo(name, added) };
    });
  }

  async access(name: string, version?: string | number, options: { maxBytes?: number } = {}): Promise<AccessResult> {
    assertSecretName(name);
    const selector = parseVersionSelector(version, name);
    return this.#reading(async () => this.#open(name, selector, options.maxBytes, await this.#load(name)));
  }

  /** The version `selector` picks in `secret`, decrypted into a fresh buffer the caller owns. */
  async #open(name: string, selector: VersionSelector, maxBytes: number | undefined, secret: StoredSecret): Promise<AccessResult> {
    assertLegacyIntact(secret);
    let number: number | undefined;
    if (selector.kind === 'latest') number = secret.latest === 0 ? undefined : secret.latest;
    else if (selector.kind === 'number') number = selector.version;
    else number = usableMeta(secret).aliases[selector.alias];
    if (number === undefined) {
      const what = selector.kind === 'alias' ? `no alias ${selector.alias}` : 'no versions';
      throw notFound(name, `secret ${name} has ${what} in the local store ${this.dir}`);
    }
    const record = await loadVersion(this.dir, this.#init.keys, this.#init.storeId, secret, number);
    if (record.state !== 'enabled') {
      throw new KeyshiftError(ErrorCodes.VERSION_DISABLED, `secret ${name} version ${number} is ${record.state}`, {
        entry: name,
        details: { version: number, state: record.state },
      });
    }
    const sealed = record.sealed!;
    const size = sealedSize(sealed);
    if (maxBytes !== undefined && size > maxBytes) {
      throw new KeyshiftError(
        ErrorCodes.VALUE_TOO_LARGE,
        `secret ${name} version ${number}: value of ${size} bytes is over the ${maxBytes}-byte limit`,
        { entry: name, details: { version: number, bytes: size, maxBytes } },
      );
    }
    try {
      const value = openValue(this.#init.keys, valueAad(this.#init.storeId, name, number), sealed);
      return { name, version: number, value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    } catch (error) {
      const path = secret.legacy?.path ?? versionPath(this.dir, name, number);
      throw corrupt(path, `version ${number} does not decrypt (tampered ciphertext)`, error);
    }
  }

  /** Every version, a damaged one with state `damaged` (its file failed its check or is missing). */
  async versions(name: string): Promise<VersionInfo[]> {
    assertSecretName(name);
    return this.#reading(async () => {
      const secret = await this.#load(name);
      const { keys, storeId } = this.#init;
      assertLegacyIntact(secret);
      return (await loadVersions(this.dir, keys, storeId, secret)).map((record) => versionInfo(name, record));
    });
  }

  /** The secret's metadata; KS_ERR_STORE_CORRUPT naming the file when that is damaged. */
  async getSecret(name: string): Promise<SecretInfo> {
    assertSecretName(name);
    return this.#reading(async () => {
      const secret = await this.#load(name);
      usableMeta(secret);
      return secretInfo(secret);
    });
  }

  /**
   * Every secret, each checked file by file: a damaged one is listed with `damage` (what
   * failed, naming the files) and the listing goes on.
   */
  async list(): Promise<SecretInfo[]> {
    return this.#reading(async () => {
      const { dir, keys, storeId } = this.#init;
      const infos: SecretInfo[] = [];
      for (const name of await listSecretNames(dir)) {
        const secret = await loadSecret(dir, keys, storeId, name);
        if (secret === undefined) continue;
        infos.push(secretInfo(secret, await loadVersions(dir, keys, storeId, secret)));
      }
      return infos;
    });
  }

  async createSecret(name: string, meta: SecretMeta = {}): Promise<SecretInfo> {
    assertSecretName(name);
    assertMeta(name, meta);
    return this.#mutate(name, async (current) => {
      if (current !== undefined) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `secret ${name} already exists`, { entry: name });
      }
      const record = emptySecret(name, new Date().toISOString(), meta);
      const created: StoredSecret = { name, meta: record, latest: 0 };
      return {
        change: await this.#change(name, undefined, [], record),
        events: [{ type: 'secret-created', name }],
        result: secretInfo(created),
      };
    });
  }

  async updateSecret(name: string, patch: SecretPatch, options: { ifEtag?: string } = {}): Promise<SecretInfo> {
    assertSecretName(name);
    assertMeta(name, patch);
    return this.#mutate(name, async (current) => {
      const secret = existing(name, current, this.dir);
      const meta = usableMeta(secret);
      if (options.ifEtag !== undefined && options.ifEtag !== meta.etag) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `secret ${name} was changed since etag ${options.ifEtag}`, {
          entry: name,
        });
      }
      if (patch.aliases !== undefined) assertAliases(name, secret.latest, patch.aliases, this.dir);
      const updated: SecretMetaRecord = {
        ...meta,
        etag: newEtag(),
        labels: patch.labels === undefined ? meta.labels : { ...patch.labels },
        annotations: patch.annotations === undefined ? meta.annotations : { ...patch.annotations },
        aliases: patch.aliases === undefined ? meta.aliases : { ...patch.aliases },
        extra: patch.extra === undefined ? meta.extra : structuredClone(patch.extra),
      };
      return {
        change: await this.#change(name, secret, [], updated),
        events: [{ type: 'secret-updated', name }],
        result: secretInfo({ ...secret, meta: updated }),
      };
    });
  }

  /** Removes the secret whole, damaged files included: the one way to drop a damaged secret. */
  async deleteSecret(name: string): Promise<void> {
    assertSecretName(name);
    await this.#mutate(name, async (current) => {
      const secret = existing(name, current, this.dir);
      const removes = [secret.legacy?.path, secret.staleLegacy].filter((path) => path !== undefined);
      return {
        change: { writes: [], removes, removeDir: secretDir(this.dir, name) },
        events: [{ type: 'secret-deleted', name }],
        result: undefined,
      };
    });
  }

  enableVersion(name: string, version: number): Promise<VersionInfo> {
    return this.#setState(name, version, 'enabled');
  }

  disableVersion(name: string, version: number): Promise<VersionInfo> {
    return this.#setState(name, version, 'disabled');
  }

  /**
   * Irreversible: the ciphertext and wrapped data key are removed. Also the way to clear a
   * damaged version: its file is replaced by a destroyed record (its creation time is lost).
   */
  destroyVersion(name: string, version: number): Promise<VersionInfo> {
    return this.#setState(name, version, 'destroyed');
  }

  /** Changes by this or any other process on the same directory. Returns a disposer. */
  watch(onEvent: (event: StoreEvent) => void): () => void {
    this.#assertOpen();
    return this.#feed.subscribe(onEvent);
  }

  /**
   * Stops every watcher, waits for the reads and writes in flight, wipes the derived keys.
   * Idempotent. A read still verifying or decrypting when the keys were wiped would report
   * a sound file as corrupt (its MAC "does not verify"), so the wipe waits for it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#feed.close();
    await Promise.allSettled([this.#queue, ...this.#reads]);
    wipeKeys(this.#init.keys);
  }

  async #setState(name: string, version: number, state: Exclude<VersionState, 'damaged'>): Promise<VersionInfo> {
    assertSecretName(name);
    assertVersionNumber(version, name);
    return this.#mutate(name, async (current) => {
      const secret = existing(name, current, this.dir);
      const { keys, storeId } = this.#init;
      let found: VersionRecord | undefined;
      try {
        found = await loadVersion(this.dir, keys, storeId, secret, version);
      } catch (error) {
        // Only destroying may replace a damaged version's file: nothing else knows what it held.
        if (!isCorrupt(error) || state !== 'destroyed' || secret.legacy !== undefined) throw error;
      }
      if (found?.state === 'destroyed' && state !== 'destroyed') {
        throw new KeyshiftError(ErrorCodes.VERSION_DISABLED, `secret ${name} version ${version} is destroyed`, {
          entry: name,
          details: { version, state: 'destroyed' },
        });
      }
      if (found !== undefined && found.state === state) return { change: NO_CHANGE, events: [], result: versionInfo(name, found) };
      const updated: VersionRecord =
        state === 'destroyed'
          ? { version, state, createTime: found?.createTime ?? '', destroyTime: new Date().toISOString() }
          : { ...found!, state };
      return {
        change: await this.#change(name, secret, [updated], this.#touch(secret)),
        events: [{ type: `version-${state}`, name, version }],
        result: versionInfo(name, updated),
      };
    });
  }

  /** The metadata with a new etag (every write changes it), or undefined when it is damaged (left as it is). */
  #touch(secret: StoredSecret): SecretMetaRecord | undefined {
    return secret.meta instanceof Error ? undefined : { ...secret.meta, etag: newEtag() };
  }

  /**
   * The files a write changes: `versions` and `meta` (undefined: leave the metadata file
   * alone), plus, for a secret still in its 0.1.0 file, every version and the metadata
   * moved to the new layout and the old file removed.
   */
  async #change(
    name: string,
    secret: StoredSecret | undefined,
    versions: VersionRecord[],
    meta: SecretMetaRecord | undefined,
  ): Promise<FileChange> {
    const { keys, storeId } = this.#init;
    const byNumber = new Map<number, VersionRecord>();
    const removes: string[] = [];
    if (secret?.legacy !== undefined && 'versions' in secret.legacy) {
      for (const record of secret.legacy.versions) byNumber.set(record.version, record);
      removes.push(secret.legacy.path);
    }
    if (secret?.staleLegacy !== undefined) removes.push(secret.staleLegacy);
    for (const record of versions) byNumber.set(record.version, record);
    const writes = [...byNumber.values()].map((record) => ({
      path: versionPath(this.dir, name, record.version),
      content: serializeVersion(keys, storeId, name, record),
    }));
    // The metadata goes last: a reader that finds it finds the versions it describes.
    if (meta !== undefined) writes.push({ path: metaPath(this.dir, name), content: serializeMeta(keys, storeId, meta) });
    return { writes, removes };
  }

  /** Read, decide, write, announce: under this process's queue and the store's file lock. */
  #mutate<T>(name: string, decide: (current: StoredSecret | undefined) => Promise<Mutation<T>>): Promise<T> {
    this.#assertOpen();
    const run = async (): Promise<T> => {
      const { dir, keys, storeId, lockTimeoutMs } = this.#init;
      const lockOptions = { timeoutMs: lockTimeoutMs, staleMs: DEFAULT_LOCAL_STORE_LOCK_STALE_MS };
      const result = await withFileLock(join(dir, LOCK_FILE), lockOptions, async () => {
        const mutation = await decide(await loadSecret(dir, keys, storeId, name));
        if (mutation.events.length === 0) return mutation.result;
        if (this.#legacyHeader) {
          await upgradeHeader(headerPath(dir));
          this.#legacyHeader = false;
        }
        const head = await headForWrite(dir);
        await commitChange(dir, mutation.change, nextHead(head, mutation.events));
        return mutation.result;
      });
      this.#feed.poke();
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Runs a read that uses the keys, counted so close() waits for it. Refused once closed. */
  #reading<T>(read: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const running = read();
    this.#reads.add(running);
    const forget = (): void => {
      this.#reads.delete(running);
    };
    running.then(forget, forget);
    return running;
  }

  async #load(name: string): Promise<StoredSecret> {
    return existing(name, await loadSecret(this.dir, this.#init.keys, this.#init.storeId, name), this.dir);
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyshiftError(ErrorCodes.CLOSED, `the local store ${this.dir} is closed`);
  }
}
