import { type OverlapValue, overlapValues, retireCurrent } from './overlap-window.ts';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  ALERT_FAILURE_WINDOW_MS,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MIN_REFRESH_INTERVAL_MS,
  DEFAULT_STARTUP_CONCURRENCY,
  DEFAULT_STARTUP_TIMEOUT_MS,
} from '../constants.ts';
import { ErrorCodes, isTransient, KeyshiftError, StaleSecretError, valueFreeCause } from '../errors.ts';
import type { Clock, Disposer, Logger, RolloutMarker, Source, SourceValue } from '../types.ts';
import { adoptionSlot, fractionAt, inSlice, nextStepInMs } from './adoption.ts';
import type { EveryKey } from '../_every-key.ts';
import { checkOptions } from './_check-options.ts';
import { withDevDefaults } from './_dev-defaults.ts';
import { LatencySamples } from './_latency-samples.ts';
import { systemClock } from './clock.ts';
import { checkEntry, type Declaration, type EntryInfo, resolveEntry } from './define-secrets.ts';
import { Emitter } from './emitter.ts';
import { EntryScheduler, retryAfter } from './entry-scheduler.ts';
import { EntryState, type EntryStatus, type RolloutState } from './entry-state.ts';
import type { EventName, FetchOutcome, Listener, Trigger } from './events.ts';
import { stderrLogger } from './logger.ts';
import { DEFAULT_POLICY, type PolicyRule } from './policy.ts';
import { type FetchContext, type FetchResult, fetchEntry, prefetchMany, resultOf } from './refresher.ts';
import type { InstanceIdentity } from './instance-identity.ts';
import type { TtlGovernor } from './notification-health.ts';
import { RequestSnapshots, type View } from './request-snapshot.ts';
import { type BackoffOptions, backoffDelay } from './schedule.ts';
import { SingleFlight } from './single-flight.ts';
import { startupError } from './startup-report.ts';
import { statusOf } from './status.ts';
import { shownName } from './shown-name.ts';

export interface KeyshiftOptions {
  /** Where values come from: localStore(), env(), gcpSecretManager(), fallbackChain([...])... */
  source: Source;
  /** A name for this service in logs, events and metrics. Default 'keyshift'. */
  name?: string;
  /** Pino-compatible logger, or false for none. Default: warnings and errors on stderr. */
  logger?: Logger | false;
  /** Policy rules. Default DEFAULT_POLICY (private keys static; signing keys and DB passwords only via rotation). */
  policy?: readonly PolicyRule[];
  /** Per-call store deadline. Default 3,000 ms. */
  fetchTimeoutMs?: number;
  /** ready() fails after this long, naming the entries still pending. Default 30,000 ms. */
  startupTimeoutMs?: number;
  /** Store calls in flight during ready(). Default 96 (DEFAULT_STARTUP_CONCURRENCY). */
  startupConcurrency?: number;
  /** Hold a failed ready() back until this long after it started (crash-loop protection). Default 0. */
  minStartupFailureMs?: number;
  /** Backoff after failures. Default 1 s doubling to 30 s, ±25 %. */
  backoff?: BackoffOptions;
  /**
   * ± fraction of spread on every TTL. Default 0.1. The first refresh after ready(), after
   * a forced refresh (push, admin, manual), after a failing streak and after a change of
   * the notifications' TTL is spread over the whole TTL (see firstRefreshDelay), so
   * instances that start, are pushed or recover together do not refresh together.
   */
  ttlJitter?: number;
  /** Forced refreshes of one entry closer together than this are coalesced. Default 1,000 ms. */
  minRefreshIntervalMs?: number;
  /** Largest accepted value. Default 64 KiB. */
  maxValueBytes?: number;
  /** Time source. Default the system clock (performance.now, unref'd timers). */
  clock?: Clock;
  /** Random source for jitter. Default Math.random. */
  random?: () => number;
  /**
   * Whether change notifications are known to arrive (a pull source's `health`): while they
   * are, every dynamic entry is refreshed at the governor's safety TTL instead of its own.
   * Default: none (entries refresh at their own TTLs).
   */
  notifications?: TtlGovernor;
  /**
   * `'timers'`: refreshes run on background timers. `'requests'`: refreshes ride on requests
   * (each `run()`, so every adapter's snapshot middleware, or `tick()`), for hosts that give
   * CPU only during requests (Cloud Run's request-based billing). Default `'timers'`.
   */
  freshness?: 'timers' | 'requests';
  /** Who this instance is (resolveInstanceIdentity() on Google Cloud), shown in status and fleet reports. Default: none. */
  instance?: InstanceIdentity;
  /**
   * This instance's identity for canary adoption: its place in a rollout is a hash of it,
   * the entry and the version. Default: `instance.instanceId` when an identity is given, else a
   * random id per process (so a restarted instance draws a new place).
   */
  instanceId?: string;
}

/** Every option's name, for checkOptions(): an option added to KeyshiftOptions and not here is a type error. */
const OPTION_FIELDS: EveryKey<KeyshiftOptions> = {
  source: true,
  name: true,
  logger: true,
  policy: true,
  fetchTimeoutMs: true,
  startupTimeoutMs: true,
  startupConcurrency: true,
  minStartupFailureMs: true,
  backoff: true,
  ttlJitter: true,
  minRefreshIntervalMs: true,
  maxValueBytes: true,
  clock: true,
  random: true,
  notifications: true,
  freshness: true,
  instance: true,
  instanceId: true,
};
const OPTION_NAMES = Object.keys(OPTION_FIELDS);

/** What `reportFailure()` did with one failure. */
export interface FailureReport {
  name: string;
  /** It counted against a version in its bake on this instance. */
  counted: boolean;
  /** The version it counted against, if any. */
  version: string | undefined;
  failures: number;
  /** This failure (or an earlier one) halted the version. */
  halted: boolean;
}

/** A marker as read with a fetch: `known` is false when the read failed (the last known one then holds). */
interface MarkerRead {
  known: boolean;
  marker: RolloutMarker | undefined;
}

/** What one forced refresh of one entry did. */
export interface RefreshResult {
  name: string;
  outcome: FetchOutcome;
  changed: boolean;
  version: string | undefined;
  previousVersion: string | undefined;
  /** Joined a fetch already in flight, or fell inside the minimum refresh interval. */
  coalesced: boolean;
  error?: { code: string; message: string };
}

export interface ManagerStatus {
  name: string;
  ready: boolean;
  closed: boolean;
  source: string;
  entries: EntryStatus[];
  /** Reads made while request snapshots were active but outside any (a lost AsyncLocalStorage context). */
  readsOutsideSnapshot: number;
  /** This instance's identity, when the manager was given one. */
  instance?: InstanceIdentity;
}

const TRIGGERS: ReadonlySet<string> = new Set<Trigger>(['startup', 'ttl', 'retry', 'push', 'admin', 'manual', 'recheck', 'rollout']);

/** The hot-reload engine. Internal: users get the typed `Keyshift<D>` view from createKeyshift(). */
export class Manager {
  readonly name: string;
  readonly entries: readonly EntryInfo[];
  readonly #states = new Map<string, EntryState>();
  /** Entries by store key, only for keys not read by exactly the one entry of the same name (most entries cost nothing here). */
  readonly #byKey = new Map<string, EntryState[]>();
  readonly #source: Source;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #events: Emitter;
  readonly #snapshots = new RequestSnapshots();
  readonly #latencies: LatencySamples;
  readonly #flights = new SingleFlight<string, RefreshResult>();
  readonly #closer = new AbortController();
  readonly #ctx: FetchContext;
  readonly #opts: KeyshiftOptions;
  readonly instanceId: string;
  #view: View = new Map();
  #staging = new Map<string, unknown>();
  #static: Readonly<Record<string, unknown>> | undefined;
  #ready = false;
  #readyPromise: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #unwatch: Disposer | undefined;
  /** When each entry fetches next: TTL, backoff, trailing, recheck and stale timers (entry-scheduler.ts). */
  readonly #scheduler: EntryScheduler;

  constructor(declaration: Declaration, options: KeyshiftOptions) {
    checkOptions(options, OPTION_NAMES);
    if (typeof declaration !== 'object' || declaration === null) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'createKeyshift() takes a declaration: an object of entries, such as defineSecrets() returns');
    }
    this.#opts = options;
    this.name = options.name ?? 'keyshift';
    this.#source = withDevDefaults(options.source, declaration, process.env.NODE_ENV);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.instanceId = options.instanceId ?? options.instance?.instanceId ?? randomUUID();
    this.#logger = options.logger === false ? { info() {}, warn() {}, error() {} } : (options.logger ?? stderrLogger);
    this.#events = new Emitter(this.name, this.#logger);
    this.#scheduler = new EntryScheduler(
      this.#states,
      { clock: this.#clock, random: this.#random, freshness: options.freshness, ttlJitter: options.ttlJitter, backoff: options.backoff, notifications: options.notifications },
      { fetch: (state, trigger) => this.#fetch(state, trigger), staleExceeded: (state) => this.#exceedStale(state), internalError: this.#internalError },
    );
    const byKey = new Map<string, EntryState[]>();
    const declared = Object.entries(declaration);
    this.#latencies = new LatencySamples(declared.length);
    for (const [name, decl] of declared) {
      checkEntry(name, decl, options.policy ?? DEFAULT_POLICY);
      const state = new EntryState(resolveEntry(name, decl), decl.type, decl.validate, this.#latencies);
      this.#states.set(name, state);
      const same = byKey.get(state.info.key);
      if (same) same.push(state);
      else byKey.set(state.info.key, [state]);
    }
    for (const [key, same] of byKey) if (same.length > 1 || same[0]?.info.name !== key) this.#byKey.set(key, same);
    this.entries = Object.freeze([...this.#states.values()].map((s) => s.info));
    // every in-flight fetch listens for close(): as many listeners as entries, by design
    setMaxListeners(0, this.#closer.signal);
    this.#ctx = {
      source: this.#source,
      clock: this.#clock,
      timeoutMs: options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      maxBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      closed: this.#closer.signal,
    };
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get static(): Readonly<Record<string, unknown>> {
    if (this.#static === undefined) {
      throw new KeyshiftError(ErrorCodes.NOT_READY, 'static values are available once ready() has resolved');
    }
    return this.#static;
  }

  /** The read path: one Map.get on an immutable view (the request's, when one is pinned). */
  get(name: string): unknown {
    const view = this.#snapshots.active ? this.#snapshots.viewOr(this.#view) : this.#view;
    const value = view.get(name);
    return value !== undefined ? value : this.#miss(name);
  }

  /** The current value and the previous ones inside the entry's overlapMs: from memory, no store call. */
  overlapping(name: string): OverlapValue[] {
    this.get(name); // the same errors as a read: unknown, static, not ready, fail-closed
    const state = this.#states.get(name);
    if (state?.info.overlapMs === undefined) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `entry ${name} declares no overlapMs: read it with get()`, { entry: name });
    }
    return overlapValues(state, state.value, this.#clock.now());
  }

  #miss(name: string): never {
    const state = this.#states.get(name);
    if (!state) throw new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `unknown entry ${shownName(name)}: it is not declared`);
    if (state.info.kind === 'static') {
      throw new KeyshiftError(ErrorCodes.WRONG_KIND, `entry ${name} is static: read it as .static.${name}`, { entry: name });
    }
    if (state.failClosed) throw new StaleSecretError(name, this.#clock.now() - state.fetchedAt, state.info.maxStaleMs ?? 0);
    throw new KeyshiftError(ErrorCodes.NOT_READY, `entry ${name} is not loaded yet: await ready() first`, { entry: name });
  }

  /** Runs `fn` with one consistent view of every dynamic value pinned for all its async work. */
  run<R>(fn: () => R): R {
    this.#scheduler.tick();
    return this.#snapshots.run(this.#view, fn);
  }

  /**
   * With freshness 'requests': one clock read; starts the refreshes that are due, off the
   * caller's stack, and returns how many. With 'timers' it does nothing and returns 0.
   */
  tick(): number {
    return this.#closing ? 0 : this.#scheduler.tick();
  }

  /** The current view, frozen: reads from it never change. */
  snapshot(): { get(name: string): unknown } {
    const view = this.#view;
    return Object.freeze({
      get: (name: string) => {
        const value = view.get(name);
        return value !== undefined ? value : this.#miss(name); // null is a value: an optional entry that is absent
      },
    });
  }

  on<E extends EventName>(event: E, listener: Listener<E>): Disposer {
    return this.#events.on(event, listener);
  }

  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'ready() after close()'));
    this.#readyPromise ??= this.#start().catch((error: unknown) => {
      this.#readyPromise = undefined;
      throw error;
    });
    return this.#readyPromise;
  }

  async #start(): Promise<void> {
    const started = this.#clock.now();
    const timeoutMs = this.#opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    const deadlineAt = started + timeoutMs;
    const queue = [...this.#states.values()].filter((s) => !s.hasValue);
    const pending = new Set(queue.map((s) => s.info.name));
    const failed: KeyshiftError[] = [];
    const batch = prefetchMany(this.#ctx, [...new Set(queue.map((s) => s.info.key))]);
    const worker = async (): Promise<void> => {
      const prefetched = await batch;
      for (let state = queue.shift(); state && !this.#closing; state = queue.shift()) {
        const error = await this.#loadAtStartup(state, deadlineAt, prefetched);
        if (error) failed.push(error);
        pending.delete(state.info.name);
      }
    };
    const concurrency = Math.max(1, this.#opts.startupConcurrency ?? DEFAULT_STARTUP_CONCURRENCY);
    const workers = Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = await Promise.race([
      workers.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    if (this.#closing) throw new KeyshiftError(ErrorCodes.CLOSED, 'ready() interrupted by close()');
    if (timedOut || failed.length > 0) {
      // one report for every entry (src/core/startup-report.ts), instead of one warning each
      const error = startupError({
        manager: this.name,
        sourceKind: this.#source.kind,
        locate: (name) => this.#source.locate?.(this.#states.get(name)?.info.key ?? name),
        keyOf: (name) => this.#states.get(name)?.info.key ?? name,
        entries: this.#states.size,
        failed,
        pending: timedOut ? [...pending] : [],
        timeoutMs,
      });
      const holdMs = (this.#opts.minStartupFailureMs ?? 0) - (this.#clock.now() - started);
      if (holdMs > 0) await this.#sleep(holdMs);
      throw error;
    }
    this.#goLive(started);
  }

  #goLive(started: number): void {
    const statics: Record<string, unknown> = {};
    for (const state of this.#states.values()) {
      if (state.info.kind === 'static') statics[state.info.name] = state.value;
    }
    this.#static = Object.freeze(statics);
    this.#view = this.#staging;
    this.#staging = new Map();
    this.#ready = true;
    this.#scheduler.start();
    this.#unwatch = this.#source.watch?.((keys) => this.#onSourceChange(keys));
    this.#events.emit('ready', { durationMs: this.#clock.now() - started, entries: this.#states.size });
  }

  /** Loads one entry, retrying transient failures with backoff until the startup deadline. */
  async #loadAtStartup(
    state: EntryState,
    deadlineAt: number,
    prefetched: ReadonlyMap<string, SourceValue | undefined>,
  ): Promise<KeyshiftError | undefined> {
    let preset = prefetched.has(state.info.key) ? { got: prefetched.get(state.info.key) } : undefined;
    for (;;) {
      const result = await this.#fetch(state, 'startup', preset);
      preset = undefined;
      if (result.outcome === 'changed' || result.outcome === 'unchanged') return undefined;
      const error = state.lastError ?? new KeyshiftError(ErrorCodes.INTERNAL, `entry ${state.info.name}: not loaded`);
      if (result.outcome === 'rejected' || !isTransient(error) || this.#closing) return error;
      const delay = backoffDelay(state.consecutiveFailures, this.#opts.backoff ?? {}, this.#random, retryAfter(error));
      if (this.#clock.now() + delay >= deadlineAt) return error;
      await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#clock.clearTimeout(timer);
        this.#closer.signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = this.#clock.setTimeout(wake, ms);
      this.#closer.signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Forces a fetch of the named dynamic entries (all of them by default), bypassing the TTL. */
  refresh(names?: string | readonly string[], options: { trigger?: Trigger } = {}): Promise<RefreshResult[]> {
    if (this.#closing) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'refresh() after close()'));
    if (!this.#ready) return Promise.reject(new KeyshiftError(ErrorCodes.NOT_READY, 'refresh() before ready() resolved'));
    const trigger = options?.trigger ?? 'manual';
    if (!TRIGGERS.has(trigger)) {
      // the trigger becomes a metric label and an event field: only the closed set is accepted
      return Promise.reject(new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `refresh(): trigger must be one of ${[...TRIGGERS].join(', ')}`));
    }
    const list = names === undefined ? this.entries.filter((e) => e.kind === 'dynamic').map((e) => e.name) : [names].flat();
    const states: EntryState[] = [];
    for (const name of list) {
      const state = this.#states.get(name);
      if (!state) {
        return Promise.reject(new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `unknown entry ${shownName(name)}: it is not declared`));
      }
      if (state.info.kind === 'static') {
        const message = `entry ${name} is static: it is read once and never refreshed`;
        return Promise.reject(new KeyshiftError(ErrorCodes.WRONG_KIND, message, { entry: name }));
      }
      states.push(state);
    }
    return Promise.all(states.map((state) => this.#forced(state, trigger)));
  }

  /**
   * A forced fetch (push, admin, manual). Floods coalesce: a call joins the fetch in
   * flight, and calls closer than the minimum interval to the last forced fetch get
   * the current version at once plus one trailing fetch at the end of the interval,
   * so N calls in a second make at most 2 store calls and none is lost.
   */
  async #forced(state: EntryState, trigger: Trigger): Promise<RefreshResult> {
    const name = state.info.name;
    const minInterval = this.#opts.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
    const sinceLast = this.#clock.now() - state.lastForcedAt;
    if (this.#flights.has(name)) {
      // That fetch may have read the store before this call's change: the trailing fetch is armed once it has ended, so it never joins it.
      const joined = await this.#fetch(state, trigger);
      this.#scheduler.trailing(state, trigger, Math.max(0, minInterval - (this.#clock.now() - state.lastForcedAt)));
      return { ...joined, coalesced: true };
    }
    if (sinceLast < minInterval) {
      this.#scheduler.trailing(state, trigger, minInterval - sinceLast);
      return { name, outcome: 'unchanged', changed: false, version: state.version, previousVersion: state.version, coalesced: true };
    }
    state.lastForcedAt = this.#clock.now();
    const result = await this.#fetch(state, trigger);
    this.#scheduler.schedule(state, true); // a push reaches the whole fleet in one instant: spread the next refresh
    // A push can arrive before the store serves the new version (replication lag): look again, a bounded number of times.
    if (trigger === 'push' && !result.changed) this.#scheduler.recheck(state);
    return result;
  }

  #onSourceChange(keys: readonly string[] | undefined): void {
    if (this.#closing) return;
    const states = keys === undefined ? [...this.#states.values()] : keys.flatMap((k) => this.#readersOf(k));
    for (const state of states) {
      if (state.info.kind === 'dynamic') this.#forced(state, 'push').catch(this.#internalError);
    }
  }

  /** The entries that read store key `key`, in declaration order. */
  #readersOf(key: string): readonly EntryState[] {
    const state = this.#states.get(key);
    return this.#byKey.get(key) ?? (state?.info.key === key ? [state] : []);
  }

  readonly #internalError = (cause: unknown): void => {
    const error = new KeyshiftError(ErrorCodes.INTERNAL, 'a background refresh failed unexpectedly', { cause: valueFreeCause(cause) });
    this.#events.emit('error', { name: undefined, error, trigger: 'listener', consecutiveFailures: 0 });
  };

  /** One fetch of one entry, single-flighted, applied and reported. Never rejects. `preset` is a batch read's answer. */
  #fetch(state: EntryState, trigger: Trigger, preset?: { got: SourceValue | undefined }): Promise<RefreshResult> {
    return this.#flights.run(state.info.name, async () => {
      const started = this.#clock.now();
      const result = preset ? resultOf(this.#ctx, state, preset.got) : await fetchEntry(this.#ctx, state);
      const marker = await this.#readMarker(state, result);
      const durationMs = this.#clock.now() - started;
      state.recordLatency(durationMs);
      const refresh = this.#apply(state, result, trigger, marker);
      const code = result.kind === 'failed' || result.kind === 'rejected' ? result.error.code : undefined;
      this.#events.emit('fetch', {
        name: state.info.name,
        trigger,
        outcome: refresh.outcome,
        durationMs,
        source: result.kind === 'failed' ? this.#source.kind : result.source,
        ...(code ? { code } : {}),
        ...(result.kind === 'value' && result.fallbackFrom ? { fallbackCode: result.fallbackFrom.code } : {}),
      });
      return refresh;
    });
  }

  #apply(state: EntryState, result: FetchResult, trigger: Trigger, marker: MarkerRead = { known: false, marker: undefined }): RefreshResult {
    const name = state.info.name;
    const previousVersion = state.version;
    const base = { name, previousVersion, coalesced: false };
    if (this.#closing) {
      return { ...base, outcome: 'error', changed: false, version: previousVersion };
    }
    if ((result.kind === 'value' || result.kind === 'rejected') && isOlder(state, result)) {
      return this.#older(state, result, trigger, base);
    }
    if (result.kind === 'value' && state.info.adoption !== undefined && state.hasValue && state.info.kind === 'dynamic') {
      const held = this.#canary(state, result, trigger, marker, base);
      if (held) return held;
    }
    if (result.kind === 'rejected') {
      state.lastError = result.error;
      if (state.rejectedVersion !== result.version) {
        state.rejectedVersion = result.version;
        if (trigger !== 'startup') this.#logger.warn({ entry: name, version: result.version, code: result.error.code }, result.error.message);
        this.#events.emit('rejected', { name, version: result.version, type: state.info.type, code: result.error.code, reason: String(result.error.details.reason ?? result.error.message) });
        if (state.info.adoption !== undefined && state.hasValue && state.info.kind === 'dynamic') this.#haltRejected(state, result, marker);
      }
      return { ...base, outcome: 'rejected', changed: false, version: previousVersion, error: result.error.toJSON() };
    }
    if (result.kind === 'failed' || (result.kind === 'missing' && !state.info.optional)) {
      const error =
        result.kind === 'failed'
          ? result.error
          : new KeyshiftError(
              ErrorCodes.SOURCE_NOT_FOUND,
              `entry ${name}: ${this.#source.locate?.(state.info.key) ?? state.info.key} was not found in ${result.source}; check that it exists there and that this service may read it`,
              { entry: name, details: { key: state.info.key, source: result.source } },
            );
      this.#recordFailure(state, error, trigger);
      return { ...base, outcome: result.kind === 'failed' ? 'error' : 'not-found', changed: false, version: previousVersion, error: error.toJSON() };
    }
    const version = result.kind === 'value' ? result.version : 'absent';
    const value = result.kind === 'value' ? result.value : null;
    this.#recordSuccess(state, result.source);
    if (result.kind === 'value' && result.fallbackFrom) this.#reportFallback(state, result.fallbackFrom, result.source, trigger);
    const changed = !state.hasValue || state.version !== version;
    state.order = result.kind === 'value' ? result.order : undefined;
    if (changed) this.#serve(state, version, value, result.source, trigger);
    return { ...base, outcome: changed ? 'changed' : 'unchanged', changed: changed && previousVersion !== undefined, version };
  }

  /** Serves `value` as `version` (publishes it to the view) and reports the change. */
  #serve(state: EntryState, version: string, value: unknown, source: string, trigger: Trigger): void {
    const name = state.info.name;
    const previousVersion = state.version;
    const first = !state.hasValue;
    retireCurrent(state, this.#clock.now());
    state.value = value;
    state.version = version;
    state.hasValue = true;
    state.rejectedVersion = undefined;
    state.olderVersion = undefined;
    if (state.info.kind === 'dynamic') this.#publish(name, value);
    if (!first) {
      this.#logger.info({ entry: name, version, previousVersion, trigger }, `entry ${name} now serves version ${version}`);
      this.#events.emit('change', { name, version, previousVersion, trigger, source });
    }
  }

  /** Reads the entry's rollout marker with a fetch, for entries with a canary policy and a source that keeps markers. */
  async #readMarker(state: EntryState, result: FetchResult): Promise<MarkerRead> {
    const read = this.#source.rolloutMarker;
    if (state.info.adoption === undefined || read === undefined || !state.hasValue || (result.kind !== 'value' && result.kind !== 'rejected')) {
      return { known: false, marker: undefined };
    }
    try {
      const signal = AbortSignal.any([this.#closer.signal, AbortSignal.timeout(this.#ctx.timeoutMs)]);
      const marker = await read.call(this.#source, state.info.key, { signal });
      state.badMarker = undefined;
      return { known: true, marker };
    } catch (cause) {
      const error = cause instanceof KeyshiftError ? cause : new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `entry ${state.info.name}: the rollout marker could not be read`, { entry: state.info.name, cause });
      if (error.code === ErrorCodes.ROLLOUT_MARKER) {
        // another tool's marker: reported once, ignored (as no marker)
        if (state.badMarker !== error.message) {
          state.badMarker = error.message;
          this.#logger.warn({ entry: state.info.name, code: error.code }, error.message);
          this.#events.emit('error', { name: state.info.name, error, trigger: 'rollout', consecutiveFailures: 0 });
        }
        return { known: true, marker: undefined };
      }
      return { known: false, marker: undefined };
    }
  }

  /**
   * Canary adoption of a fetched version (docs/adoption.md). Returns the fetch's result
   * when the version is held back (not this instance's turn, halted), or undefined to
   * serve it as usual.
   */
  #canary(
    state: EntryState,
    result: { value: unknown; version: string; order?: number | bigint; source: string },
    trigger: Trigger,
    { known, marker }: MarkerRead,
    base: Omit<RefreshResult, 'outcome' | 'changed' | 'version'>,
  ): RefreshResult | undefined {
    const policy = state.info.adoption;
    if (policy === undefined) return undefined;
    const now = this.#clock.now();
    const haltedVersion = marker?.state === 'halted' ? marker.version : undefined;
    let r = state.rollout;
    const hold = (): RefreshResult => {
      this.#recordSuccess(state, result.source);
      return { ...base, outcome: 'unchanged', changed: false, version: state.version };
    };
    if (result.version === state.version) {
      // the served version: a halt marker for it steps this instance back
      if (r?.version === result.version && r.serving && haltedVersion === r.version) {
        this.#halt(state, r, 'marker', marker?.reason ?? 'halted in the store');
        return hold();
      }
      if (r?.version === result.version && r.serving && r.halted === undefined && marker?.state === 'promoted' && marker.version === r.version) {
        // promoted while this instance already served it: the rollout is over here too
        r.firstSeenAt = now - policy.bakeMs;
        state.rolledOut = { version: r.version, promoted: true };
        this.#armRollout(state, r);
      }
      return undefined;
    }
    if (r === undefined || r.version !== result.version) {
      if (r?.timer !== undefined) this.#clock.clearTimeout(r.timer);
      r = {
        version: result.version,
        order: result.order,
        value: result.value,
        source: result.source,
        firstSeenAt: now,
        slot: adoptionSlot(this.instanceId, state.info.name, result.version),
        serving: false,
        failures: 0,
        halted: undefined,
        haltReason: undefined,
        markerWritten: false,
        previous: undefined,
        timer: undefined,
      };
      state.rollout = r;
    }
    r.value = result.value;
    r.order = result.order;
    r.source = result.source;
    if (haltedVersion === r.version && r.halted === undefined) {
      this.#halt(state, r, 'marker', marker?.reason ?? 'halted in the store');
    } else if (r.halted !== undefined && known && haltedVersion !== r.version && (r.halted === 'marker' || r.markerWritten)) {
      // an operator resumed the rollout (the marker is gone): the bake starts again
      this.#logger.info({ entry: state.info.name, version: r.version }, `entry ${state.info.name}: the rollout of version ${r.version} resumes`);
      r.halted = undefined;
      r.haltReason = undefined;
      r.markerWritten = false;
      r.failures = 0;
      r.firstSeenAt = now;
    }
    if (r.halted !== undefined) return hold();
    const promoted = (marker?.state === 'promoted' && marker.version === r.version) || (trigger === 'admin' && policy.onAdminRefresh !== 'canary');
    if (!promoted && !inSlice(policy, r.slot, now - r.firstSeenAt)) {
      this.#armRollout(state, r);
      return hold();
    }
    r.previous = { value: state.value, version: state.version ?? '', order: state.order, servedBy: state.servedBy };
    r.serving = true;
    if (promoted) {
      r.firstSeenAt = now - policy.bakeMs;
      state.rolledOut = { version: r.version, promoted: true };
    }
    this.#armRollout(state, r);
    return undefined;
  }

  /** Arms the rollout's next step: this instance's turn, or the end of the bake (the previous value is dropped). */
  #armRollout(state: EntryState, r: RolloutState): void {
    const policy = state.info.adoption;
    if (r.timer !== undefined) this.#clock.clearTimeout(r.timer);
    r.timer = undefined;
    if (policy === undefined || this.#closing || r.halted !== undefined) return;
    const delay = nextStepInMs(policy, this.#clock.now() - r.firstSeenAt);
    if (delay === undefined) {
      if (r.serving && state.rollout === r) {
        state.rollout = undefined; // baked: served everywhere
        if (state.rolledOut?.version !== r.version) state.rolledOut = { version: r.version, promoted: false };
      }
      return;
    }
    r.timer = this.#clock.setTimeout(() => {
      r.timer = undefined;
      if (state.rollout !== r || r.halted !== undefined || this.#closing) return;
      if (!r.serving && inSlice(policy, r.slot, this.#clock.now() - r.firstSeenAt)) {
        r.previous = { value: state.value, version: state.version ?? '', order: state.order, servedBy: state.servedBy };
        r.serving = true;
        state.order = r.order;
        state.servedBy = r.source;
        this.#serve(state, r.version, r.value, r.source, 'rollout');
      }
      this.#armRollout(state, r);
    }, delay);
  }

  /** Halts the rollout on this instance: steps back to the previous version if it served this one, reports, and marks the store. */
  #halt(state: EntryState, r: RolloutState, by: 'failures' | 'rejected' | 'marker', reason: string): void {
    if (r.halted !== undefined) return;
    const name = state.info.name;
    r.halted = by;
    r.haltReason = reason;
    if (r.timer !== undefined) this.#clock.clearTimeout(r.timer);
    r.timer = undefined;
    const steppedBack = r.serving && r.previous !== undefined;
    if (steppedBack && r.previous) {
      const previous = r.previous;
      r.serving = false;
      state.order = previous.order;
      state.servedBy = previous.servedBy;
      this.#serve(state, previous.version, previous.value, previous.servedBy ?? r.source, 'rollout');
    }
    this.#logger.error(
      { entry: name, version: r.version, servedVersion: state.version, by, failures: r.failures },
      `entry ${name}: the rollout of version ${r.version} is halted (${reason})${steppedBack ? `; back on version ${state.version}` : ''}`,
    );
    this.#events.emit('rollout-halted', { name, version: r.version, servedVersion: state.version, by, reason, failures: r.failures, steppedBack });
    if (by !== 'marker') this.#writeHalt(state, r, reason);
  }

  #writeHalt(state: EntryState, r: RolloutState, reason: string): void {
    const mark = this.#source.markRollout;
    if (mark === undefined || this.#closing) return;
    const marker: RolloutMarker = { version: r.version, state: 'halted', reason, at: new Date(this.#clock.wallNow()).toISOString() };
    mark.call(this.#source, state.info.key, marker, { signal: AbortSignal.any([this.#closer.signal, AbortSignal.timeout(this.#ctx.timeoutMs * 3)]) }).then(
      () => {
        r.markerWritten = true;
      },
      (cause: unknown) => {
        const error = cause instanceof KeyshiftError ? cause : new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `entry ${state.info.name}: the halt marker could not be written`, { entry: state.info.name, cause });
        this.#logger.warn({ entry: state.info.name, code: error.code, version: r.version }, `entry ${state.info.name}: the halt marker of version ${r.version} could not be written: ${error.message}`);
        this.#events.emit('error', { name: state.info.name, error, trigger: 'rollout', consecutiveFailures: 0 });
      },
    );
  }

  /** A version refused by its type or validator, with a canary policy: halted at once, so the store says so. */
  #haltRejected(state: EntryState, result: { version: string; order?: number | bigint; source: string }, { marker }: MarkerRead): void {
    if (marker?.state === 'halted' && marker.version === result.version) return;
    let r = state.rollout;
    if (r?.version !== result.version) {
      if (r?.timer !== undefined) this.#clock.clearTimeout(r.timer);
      r = { version: result.version, order: result.order, value: undefined, source: result.source, firstSeenAt: this.#clock.now(), slot: 1, serving: false, failures: 0, halted: undefined, haltReason: undefined, markerWritten: false, previous: undefined, timer: undefined };
      state.rollout = r;
    }
    this.#halt(state, r, 'rejected', 'the version failed its type or validator');
  }

  /**
   * A failure the application attributes to an entry (an API answered 401 with the new
   * key). It counts against the version this instance serves while that version bakes;
   * past the policy's maxFailures the rollout is halted: this instance steps back and
   * the store is marked. Outside a bake it is counted nowhere.
   */
  reportFailure(name: string): FailureReport {
    const state = this.#states.get(name);
    if (state === undefined) throw new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `unknown entry ${shownName(name)}: it is not declared`);
    const r = state.rollout;
    const policy = state.info.adoption;
    if (r === undefined || policy === undefined || this.#closing) return { name, counted: false, version: undefined, failures: 0, halted: false };
    if (!r.serving || r.halted !== undefined || fractionAt(policy, this.#clock.now() - r.firstSeenAt) >= 1) {
      return { name, counted: false, version: r.version, failures: r.failures, halted: r.halted !== undefined };
    }
    r.failures++;
    if (r.failures >= policy.maxFailures) this.#halt(state, r, 'failures', `${r.failures} failures reported during the bake`);
    return { name, counted: true, version: r.version, failures: r.failures, halted: r.halted !== undefined };
  }

  /**
   * The source answered with a version older than the one served (a lagging replica, an
   * eventually consistent read): the store was reached, so the fetch counts as a success,
   * but the version is neither served nor a `change`; an `out-of-order` event counts it.
   */
  #older(state: EntryState, result: { version: string; source: string }, trigger: Trigger, base: Omit<RefreshResult, 'outcome' | 'changed' | 'version'>): RefreshResult {
    const name = state.info.name;
    const servedVersion = state.version ?? '';
    this.#recordSuccess(state, result.source);
    if (state.olderVersion !== result.version) {
      state.olderVersion = result.version;
      this.#logger.warn(
        { entry: name, version: result.version, servedVersion, source: result.source },
        `entry ${name}: ${result.source} answered version ${result.version}, older than the served version ${servedVersion}; it is not served (a lagging read; to roll back, write the old value as a new version)`,
      );
    }
    this.#events.emit('out-of-order', { name, version: result.version, servedVersion, trigger, source: result.source });
    return { ...base, outcome: 'unchanged', changed: false, version: servedVersion };
  }

  /**
   * An explicit step back (a halted rollout): drops the entry's version floor for one
   * fetch, made at once, so its answer is served even when it is older than the served
   * version; when that fetch serves nothing, the floor is back. The reason is logged. Internal: for features that decide a step
   * back on purpose; a store rollback needs none (it writes a new, higher version).
   */
  stepBack(name: string, reason: string): Promise<RefreshResult> {
    const state = this.#states.get(name);
    if (state?.info.kind !== 'dynamic') {
      return Promise.reject(new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `stepBack(): ${shownName(name)} is not a dynamic entry`));
    }
    if (this.#closing) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'stepBack() after close()'));
    this.#logger.info({ entry: name, version: state.version, reason }, `entry ${name} may step back from version ${state.version}: ${reason}`);
    const floor = state.order;
    const version = state.version;
    state.order = undefined;
    return this.#fetch(state, 'manual').then((result) => {
      // the floor is dropped for this one answer: a fetch that served nothing (failed, rejected,
      // held by a canary) leaves it in place, or a lagging answer of a later TTL refresh would be served
      if (state.order === undefined && state.version === version) state.order = floor;
      this.#scheduler.schedule(state, true);
      return result;
    });
  }

  #recordSuccess(state: EntryState, source: string): void {
    const failures = state.consecutiveFailures;
    state.successes++;
    state.consecutiveFailures = 0;
    state.lastError = undefined;
    state.servedBy = source;
    state.fetchedAt = this.#clock.now();
    state.fetchedAtWall = this.#clock.wallNow();
    state.staleExceeded = false;
    this.#scheduler.clearStale(state);
    if (state.failClosed) {
      state.failClosed = false;
      this.#publish(state.info.name, state.value);
    }
    if (failures > 0) this.#events.emit('recovered', { name: state.info.name, failures });
  }

  /** A preferred source failed and a later one of a chain served: say so, as a warning and an `error` event. */
  #reportFallback(state: EntryState, error: KeyshiftError, servedBy: string, trigger: Trigger): void {
    const name = state.info.name;
    this.#logger.warn({ entry: name, code: error.code, servedBy, trigger }, `entry ${name} is served by ${servedBy} because a preferred source failed: ${error.message}`);
    this.#events.emit('error', { name, error, trigger, consecutiveFailures: state.consecutiveFailures });
  }

  #recordFailure(state: EntryState, error: KeyshiftError, trigger: Trigger): void {
    const name = state.info.name;
    state.recordFailure(this.#clock.now(), ALERT_FAILURE_WINDOW_MS);
    state.lastError = error;
    if (trigger !== 'startup') this.#logger.warn({ entry: name, code: error.code, trigger, failures: state.consecutiveFailures }, error.message); // at start-up: the report
    this.#events.emit('error', { name, error, trigger, consecutiveFailures: state.consecutiveFailures });
    if (!state.hasValue || state.info.kind === 'static') return;
    if (state.consecutiveFailures === 1) {
      this.#events.emit('stale', { name, ageMs: this.#clock.now() - state.fetchedAt, maxStaleMs: state.info.maxStaleMs, exceeded: false, failClosed: false });
    }
    this.#scheduler.armStale(state);
  }

  /** The scheduler's stale bound fired: past maxStaleMs while failing, so serve stale loudly or fail closed. */
  #exceedStale(state: EntryState): void {
    if (this.#closing || state.consecutiveFailures === 0) return;
    const { name, maxStaleMs, onStale } = state.info;
    state.staleExceeded = true;
    state.failClosed = onStale === 'fail-closed';
    if (state.failClosed) this.#unpublish(name);
    const ageMs = this.#clock.now() - state.fetchedAt;
    this.#logger.error({ entry: name, ageMs: Math.round(ageMs), maxStaleMs, onStale }, `entry ${name} is past its maxStaleMs`);
    this.#events.emit('stale', { name, ageMs, maxStaleMs, exceeded: true, failClosed: state.failClosed });
  }

  /** Builds the next view off to the side and swaps one reference (F8). */
  #publish(name: string, value: unknown): void {
    if (!this.#ready) {
      this.#staging.set(name, value);
      return;
    }
    const next = new Map(this.#view);
    next.set(name, value);
    this.#view = next;
  }

  #unpublish(name: string): void {
    const next = new Map(this.#view);
    next.delete(name);
    this.#view = next;
  }

  status(): ManagerStatus {
    const now = this.#clock.now();
    return {
      name: this.name,
      ready: this.#ready,
      closed: this.#closing !== undefined,
      source: this.#source.kind,
      entries: [...this.#states.values()].map((s) => statusOf(s, now)),
      readsOutsideSnapshot: this.#snapshots.outsideReads,
      ...(this.#opts.instance ? { instance: { ...this.#opts.instance } } : {}),
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#events.mute();
    this.#unwatch?.();
    this.#scheduler.close();
    for (const state of this.#states.values()) {
      if (state.rollout?.timer !== undefined) this.#clock.clearTimeout(state.rollout.timer);
    }
    this.#closer.abort();
    await this.#flights.drain();
    await this.#source.close?.();
  }
}

/**
 * An answer is older when both it and the served version carry an order from the same
 * source, it is not above the served one, and it names another version. Orders from
 * different sources (a chain that switched) are not comparable: a switch follows the
 * chain's own rule.
 */
function isOlder(state: EntryState, result: { version: string; order?: number | bigint; source: string }): boolean {
  return (
    state.hasValue &&
    state.order !== undefined &&
    result.order !== undefined &&
    state.servedBy === result.source &&
    result.version !== state.version &&
    result.order <= state.order
  );
}
