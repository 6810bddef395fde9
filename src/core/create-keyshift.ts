import type { Disposer } from '../types.ts';
import type { Declaration, DynamicKeys, EntryInfo, StaticValues, ValueOf } from './define-secrets.ts';
import type { EventName, Listener, Trigger } from './events.ts';
import type { OverlapValue } from './overlap-window.ts';
import { type FailureReport, type KeyshiftOptions, Manager, type ManagerStatus, type RefreshResult } from './manager.ts';

/** A consistent, frozen view of every dynamic value. */
export interface Snapshot<D extends Declaration> {
  get<K extends DynamicKeys<D>>(name: K): ValueOf<D[K]>;
}

/** The typed manager of one service's declaration. */
export interface Keyshift<D extends Declaration> {
  /** Static values: plain typed properties, read once at ready(), never refreshed. */
  readonly static: StaticValues<D>;
  /** Reads a dynamic value from the warm cache: synchronous, no I/O. */
  get<K extends DynamicKeys<D>>(name: K): ValueOf<D[K]>;
  /**
   * The current value of an entry declared with `overlapMs`, then the values it replaced
   * that are still inside that window (newest first): from memory, no I/O. For checking a
   * third party's signature with `verifyHmacSignature()` while it switches secrets.
   */
  overlapping<K extends DynamicKeys<D>>(name: K): readonly OverlapValue<ValueOf<D[K]>>[];
  /** Loads every entry (in parallel, bounded) and starts the background refresh. */
  ready(): Promise<void>;
  readonly isReady: boolean;
  /** Forces a fetch of the named dynamic entries (default: all), bypassing the TTL. */
  refresh(names?: DynamicKeys<D> | readonly DynamicKeys<D>[], options?: { trigger?: Trigger }): Promise<RefreshResult[]>;
  /**
   * Runs `fn` (a request) with one consistent view pinned through AsyncLocalStorage.
   * The pin covers `fn` and everything it awaits, and lasts until the promise `fn`
   * returns settles. Work left running after that (a stream listener) may read the
   * current view instead, because reads skip the lookup while no request is pinned:
   * keep `fn` pending for the whole request. The adapters' snapshot middleware do,
   * until the response closes.
   */
  run<R>(fn: () => R): R;
  /**
   * With `freshness: 'requests'`: one clock read, and the refreshes that are due start (off
   * the read path). `run()` (every adapter's snapshot middleware) does it too. Returns how
   * many started; always 0 with the default `'timers'`.
   */
  tick(): number;
  /** The current view, frozen. */
  snapshot(): Snapshot<D>;
  /** Subscribes to change, out-of-order, rollout-halted, rejected, error, stale, recovered, fetch, ready. Returns a disposer. */
  on<E extends EventName>(event: E, listener: Listener<E>): Disposer;
  /**
   * One failure the application attributes to an entry (an API answered 401 with the new
   * key, a connection to the new URL failed). While the version this instance serves is
   * in its canary bake (an entry declared with `adoption`), it counts against it; past
   * the policy's `maxFailures` the rollout halts: this instance steps back to the previous
   * version and marks the version halted in the store. Otherwise it is not counted.
   */
  reportFailure(name: DynamicKeys<D>): FailureReport;
  /** This instance's identity for canary adoption (the `instanceId` option, else a random id). */
  readonly instanceId: string;
  /** Every entry's value-free status. */
  status(): ManagerStatus;
  /** The resolved declaration (names, kinds, categories, TTLs): no values. */
  readonly entries: readonly EntryInfo[];
  readonly name: string;
  /** Stops every timer, watcher and in-flight call; a second call is a no-op. */
  close(): Promise<void>;
}

/**
 * Builds a service's manager from its declaration. Reads are typed by the codecs:
 * `ks.get('TP_FLAT_FEE')` is a Decimal, `ks.static.SUCCESS_URL_SIGNING_KEY` a Secret<string>.
 */
export function createKeyshift<const D extends Declaration>(declaration: D, options: KeyshiftOptions): Keyshift<D> {
  return new Manager(declaration, options) as unknown as Keyshift<D>;
}
