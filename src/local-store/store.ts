import { join } from 'node:path';
import { DEFAULT_LOCAL_STORE_LOCK_STALE_MS } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { commitChange } from './_commit.ts';
import { corrupt } from './_fs-errors.ts';
import { readHead } from './_head.ts';
import { withFileLock } from './_lock.ts';
import { type VersionSelector, assertSecretName, assertVersionNumber, parseVersionSelector } from './_names.ts';
import {
  type SecretRecord,
  type VersionRecord,
  latestOf,
  listSecretNames,
  readSecret,
  secretInfo,
  secretPath,
  serializeSecret,
  versionInfo,
} from './_secret-file.ts';
import {
  assertAliases,
  assertMeta,
  changed,
  emptySecret,
  existing,
  findVersion,
  notFound,
} from './_secret-record.ts';
import { ChangeFeed } from './change-feed.ts';
import { type StoreKeys, openValue, sealValue, sealedSize, valueAad, wipeKeys } from './encryption.ts';
import type { AccessResult, SecretInfo, SecretMeta, SecretPatch, StoreEvent, VersionInfo, VersionState } from './types.ts';

/** What openLocalStore hands the store once the directory, header and keys are settled. */
export interface LocalStoreInit {
  dir: string;
  storeId: string;
  keys: StoreKeys;
  pollIntervalMs: number;
  lockTimeoutMs: number;
  maxValueBytes: number;
}

/** What a mutation decides: the new record (null deletes it), the events, and the result. */
interface Mutation<T> {
  record: SecretRecord | null;
  events: StoreEvent[];
  result: T;
}

const LOCK_FILE = '.lock';

/**
 * The embedded store: versioned, encrypted at rest, safe with concurrent writers across
 * processes, and notifying every process of changes. Open it with `openLocalStore()`.
 */
export class LocalStore {
  readonly dir: string;
  readonly #init: LocalStoreInit;
  readonly #feed: ChangeFeed;
  /** Serialises this process's writers before they contend for the file lock. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Reads in flight: close() waits for them before it wipes the keys they verify and decrypt with. */
  readonly #reads = new Set<Promise<unknown>>();
  #closed = false;

  constructor(init: LocalStoreInit) {
    this.dir = init.dir;
    this.#init = init;
    this.#feed = new ChangeFeed({
      dir: init.dir,
      pollIntervalMs: init.pollIntervalMs,
      listNames: () => listSecretNames(init.dir),
    });
  }

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
    return this.#mutate(name, (current) => {
      const latest = current === undefined ? 0 : (latestOf(current)?.version ?? 0);
      if (options.ifLatest !== undefined && options.ifLatest !== latest) {
        throw new KeyshiftError(
          ErrorCodes.CONFLICT,
          `secret ${name}: conditional put expected latest version ${options.ifLatest}, found ${latest}`,
          { entry: name, details: { expected: options.ifLatest, latest } },
        );
      }
      const now = new Date().toISOString();
      const record = current ?? emptySecret(name, now, {});
      const version = latest + 1;
      const sealed = sealValue(this.#init.keys, valueAad(this.#init.storeId, name, version), bytes);
      const added: VersionRecord = { version, state: 'enabled', createTime: now, sealed };
      const events: StoreEvent[] = current === undefined ? [{ type: 'secret-created', name }] : [];
      events.push({ type: 'version-added', name, version });
      return {
        record: changed(record, { versions: [...record.versions, added] }),
        events,
        result: versionInfo(name, added),
      };
    });
  }

  async access(name: string, version?: string | number, options: { maxBytes?: number } = {}): Promise<AccessResult> {
    assertSecretName(name);
    const selector = parseVersionSelector(version, name);
    return this.#reading(async () => this.#open(name, selector, options.maxBytes, await this.#read(name)));
  }

  /** The version `selector` picks in `secret`, decrypted into a fresh buffer the caller owns. */
  #open(name: string, selector: VersionSelector, maxBytes: number | undefined, secret: SecretRecord): AccessResult {
    let number: number | undefined;
    if (selector.kind === 'latest') number = latestOf(secret)?.version;
    else if (selector.kind === 'number') number = selector.version;
    else number = secret.aliases[selector.alias];
    if (number === undefined) {
      const what = selector.kind === 'alias' ? `no alias ${selector.alias}` : 'no versions';
      throw notFound(name, `secret ${name} has ${what} in the local store ${this.dir}`);
    }
    const record = findVersion(secret, number, this.dir);
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
      throw corrupt(secretPath(this.dir, name), `version ${number} does not decrypt (tampered ciphertext)`, error);
    }
  }

  async versions(name: string): Promise<VersionInfo[]> {
    assertSecretName(name);
    return this.#reading(async () => (await this.#read(name)).versions.map((record) => versionInfo(name, record)));
  }

  async getSecret(name: string): Promise<SecretInfo> {
    assertSecretName(name);
    return this.#reading(async () => secretInfo(await this.#read(name)));
  }

  async list(): Promise<SecretInfo[]> {
    return this.#reading(async () => {
      const infos: SecretInfo[] = [];
      for (const name of await listSecretNames(this.dir)) {
        const secret = await readSecret(this.dir, this.#init.keys, this.#init.storeId, name);
        if (secret !== undefined) infos.push(secretInfo(secret));
      }
      return infos;
    });
  }

  async createSecret(name: string, meta: SecretMeta = {}): Promise<SecretInfo> {
    assertSecretName(name);
    assertMeta(name, meta);
    return this.#mutate(name, (current) => {
      if (current !== undefined) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `secret ${name} already exists`, { entry: name });
      }
      const record = emptySecret(name, new Date().toISOString(), meta);
      return { record, events: [{ type: 'secret-created', name }], result: secretInfo(record) };
    });
  }

  async updateSecret(name: string, patch: SecretPatch, options: { ifEtag?: string } = {}): Promise<SecretInfo> {
    assertSecretName(name);
    assertMeta(name, patch);
    return this.#mutate(name, (current) => {
      const secret = existing(name, current, this.dir);
      if (options.ifEtag !== undefined && options.ifEtag !== secret.etag) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `secret ${name} was changed since etag ${options.ifEtag}`, {
          entry: name,
        });
      }
      if (patch.aliases !== undefined) assertAliases(secret, patch.aliases, this.dir);
      const record = changed(secret, {
        labels: patch.labels === undefined ? secret.labels : { ...patch.labels },
        annotations: patch.annotations === undefined ? secret.annotations : { ...patch.annotations },
        aliases: patch.aliases === undefined ? secret.aliases : { ...patch.aliases },
        extra: patch.extra === undefined ? secret.extra : structuredClone(patch.extra),
      });
      return { record, events: [{ type: 'secret-updated', name }], result: secretInfo(record) };
    });
  }

  async deleteSecret(name: string): Promise<void> {
    assertSecretName(name);
    await this.#mutate(name, (current) => {
      existing(name, current, this.dir);
      return { record: null, events: [{ type: 'secret-deleted', name }], result: undefined };
    });
  }

  enableVersion(name: string, version: number): Promise<VersionInfo> {
    return this.#setState(name, version, 'enabled');
  }

  disableVersion(name: string, version: number): Promise<VersionInfo> {
    return this.#setState(name, version, 'disabled');
  }

  /** Irreversible: the ciphertext and wrapped data key are removed from the file. */
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

  async #setState(name: string, version: number, state: VersionState): Promise<VersionInfo> {
    assertSecretName(name);
    assertVersionNumber(version, name);
    return this.#mutate(name, (current) => {
      const secret = existing(name, current, this.dir);
      const found = findVersion(secret, version, this.dir);
      if (found.state === 'destroyed' && state !== 'destroyed') {
        throw new KeyshiftError(ErrorCodes.VERSION_DISABLED, `secret ${name} version ${version} is destroyed`, {
          entry: name,
          details: { version, state: 'destroyed' },
        });
      }
      if (found.state === state) return { record: secret, events: [], result: versionInfo(name, found) };
      const updated: VersionRecord =
        state === 'destroyed'
          ? { version, state, createTime: found.createTime, destroyTime: new Date().toISOString() }
          : { ...found, state };
      const versions = secret.versions.map((record) => (record.version === version ? updated : record));
      return {
        record: changed(secret, { versions }),
        events: [{ type: `version-${state}`, name, version }],
        result: versionInfo(name, updated),
      };
    });
  }

  /** Read, decide, write, announce: under this process's queue and the store's file lock. */
  #mutate<T>(name: string, decide: (current: SecretRecord | undefined) => Mutation<T>): Promise<T> {
    this.#assertOpen();
    const run = async (): Promise<T> => {
      const { dir, keys, storeId, lockTimeoutMs } = this.#init;
      const lockOptions = { timeoutMs: lockTimeoutMs, staleMs: DEFAULT_LOCAL_STORE_LOCK_STALE_MS };
      const result = await withFileLock(join(dir, LOCK_FILE), lockOptions, async () => {
        const mutation = decide(await readSecret(dir, keys, storeId, name));
        if (mutation.events.length === 0) return mutation.result;
        const head = await readHead(dir);
        const content = mutation.record === null ? null : serializeSecret(keys, storeId, mutation.record);
        await commitChange(dir, secretPath(dir, name), content, head, mutation.events);
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

  async #read(name: string): Promise<SecretRecord> {
    const secret = await readSecret(this.dir, this.#init.keys, this.#init.storeId, name);
    return existing(name, secret, this.dir);
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyshiftError(ErrorCodes.CLOSED, `the local store ${this.dir} is closed`);
  }
}
