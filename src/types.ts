/** The small interfaces every part of keyshift shares. */

import type { KeyshiftError } from './errors.ts';

/** What a source returns for one entry. */
export interface SourceValue {
  /** The raw payload. Bytes are decoded by the core with a fatal UTF-8 decoder. */
  value: string | Uint8Array;
  /** The store's version id ("3", an AWS VersionId, a file's content hash). */
  version: string;
  /**
   * Where this version stands among the entry's versions in this source: larger is newer.
   * A source sets it only where the store orders versions and an older answer can only be
   * a lagging read (Secret Manager and the local store read at `latest`: the version
   * number; AWS read by stage: the version's creation date in ms). The core then applies
   * an answer only when its order is above the served one's (from the same `source`); an
   * older (or equal-but-different) answer is counted as an `out-of-order` event and never
   * served. Without an order (env, files, aliases) any different version is applied.
   */
  order?: number | bigint;
  /** Which source actually served it, when a source composes others (fallback chain). */
  source?: string;
  /**
   * Set by a source that composes others when a preferred one failed and a later one
   * served: the core reports this failure (an `error` event and a warning) while it
   * serves the value.
   */
  fallbackFrom?: KeyshiftError;
}

export interface SourceGetOptions {
  /** Aborted at the per-call deadline and at close(). Sources pass it to their client. */
  signal: AbortSignal;
  /** Payloads larger than this must be refused (KS_ERR_VALUE_TOO_LARGE) without buffering them whole. */
  maxBytes: number;
}

/**
 * A source does I/O and nothing else: no caching, no retries, no timers of its own
 * beyond what watching needs. Freshness lives once, in the core.
 *
 * `get` resolves `undefined` when the entry does not exist (not-found is never a
 * failure), and throws a `KeyshiftError` with a stable code on failure.
 *
 * Versions order through `SourceValue.order`: a source whose store can answer from a
 * lagging replica or an eventually consistent read reports it, and the served version of
 * an entry then never goes backwards (see `SourceValue.order`). A source whose versions
 * are not ordered (env, files) leaves it out. The only way back is an explicit one: a
 * rollback in the store writes a new (higher) version.
 */
export interface Source {
  /** A short, fixed name for status and metric labels ("env", "local-store"...). */
  readonly kind: string;
  get(name: string, options: SourceGetOptions): Promise<SourceValue | undefined>;
  /**
   * Where `name` lives in this store, for messages: a resource path, a secret id and
   * region, a file path. Never a value. Sources that cannot say omit it.
   */
  locate?(name: string): string;
  /**
   * Optional batch read for startup (AWS BatchGetSecretValue): resolves a map of the
   * names it settled (a value, or `undefined` for not-found). Names it leaves out are
   * fetched one by one with `get`. The core calls it once at ready().
   */
  getMany?(names: readonly string[], options: SourceGetOptions): Promise<ReadonlyMap<string, SourceValue | undefined>>;
  /**
   * Calls `onChange` when entries may have changed: with their names, or with no
   * argument when any may have. Returns a disposer. Sources that cannot watch omit it.
   */
  watch?(onChange: (names?: readonly string[]) => void): () => void;
  /**
   * Optional rollout capability (canary adoption, docs/adoption.md): reads the entry's
   * rollout marker (a halted or promoted version) kept next to the secret (a Secret
   * Manager annotation, the local store's metadata). Resolves undefined when there is
   * none; throws KS_ERR_ROLLOUT_MARKER for a marker of another shape (the core reports it
   * as an event and ignores it).
   */
  rolloutMarker?(name: string, options: { signal: AbortSignal }): Promise<RolloutMarker | undefined>;
  /** Writes (or, with undefined, removes) the entry's rollout marker, conditionally on the secret's etag. */
  markRollout?(name: string, marker: RolloutMarker | undefined, options: { signal: AbortSignal }): Promise<void>;
  /** Releases clients, watchers and timers. */
  close?(): Promise<void> | void;
}

/**
 * A rollout marker kept with a secret: `halted` (no instance adopts the version; those
 * serving it step back) or `promoted` (every instance serves it now, bake or not).
 */
export interface RolloutMarker {
  version: string;
  state: 'halted' | 'promoted';
  /** Why, for operators: entry names, counts, codes. Never a value. */
  reason?: string;
  /** ISO time the marker was written. */
  at?: string;
}

/** Categories of the reference platform; each has a default TTL and secrecy. */
export type Category =
  | 'api-key'
  | 'webhook-secret'
  | 'service-url'
  | 'queue-name'
  | 'app-config'
  | 'database-credential'
  | 'infrastructure'
  | 'signing-key'
  | 'private-key'
  | 'other';

/** Categories whose values are wrapped in `Secret<T>` unless `secret: false` is given. */
export type SecretCategory = 'api-key' | 'webhook-secret' | 'database-credential' | 'signing-key' | 'private-key';

/** Rotation integrations that may take over an entry the policy otherwise keeps static. */
export type RotationKind = 'keyring' | 'pg-pool';

/** A timer handle from a Clock. */
export type TimerHandle = { readonly __timer: unique symbol } | ReturnType<typeof setTimeout>;

/**
 * Time, injected. `now()` is monotonic (performance.now), never wall-clock Date.
 * Background timers are unref'd so they never hold the process open.
 */
export interface Clock {
  now(): number;
  /** Wall-clock milliseconds, for display only (fetchedAt). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A pino-compatible logger subset: (object, message). */
export interface Logger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Returns a function that undoes a subscription. */
export type Disposer = () => void;
