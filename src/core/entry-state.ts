import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { KeyshiftError } from '../errors.ts';
import type { TimerHandle } from '../types.ts';
import { LatencySamples } from './_latency-samples.ts';
import type { HeapItem } from './_timer-heap.ts';
import type { Codec } from './codecs/codec.ts';
import type { EntryInfo } from './define-secrets.ts';

/** A canary rollout of one version on this instance (entries with an adoption policy). */
export interface RolloutState {
  readonly version: string;
  order: number | bigint | undefined;
  /** The decoded value, kept while this instance waits for its turn. */
  value: unknown;
  source: string;
  /** Monotonic time this instance first saw the version (or the rollout resumed). */
  firstSeenAt: number;
  /** This instance's place in [0, 1) for this version (adoptionSlot). */
  readonly slot: number;
  /** This instance serves the version. */
  serving: boolean;
  failures: number;
  /** Why the version is halted, or undefined while it rolls out. */
  halted: 'failures' | 'rejected' | 'marker' | undefined;
  haltReason: string | undefined;
  /** The halt marker this instance wrote is in the store. */
  markerWritten: boolean;
  /** What was served before, kept for a step back while the version bakes. */
  previous: { value: unknown; version: string; order: number | bigint | undefined; servedBy: string | undefined } | undefined;
  timer: TimerHandle | undefined;
}

/** Fields most entries never set: created on the first write of one, so a healthy entry does without. */
class RareFields {
  lastError: KeyshiftError | undefined;
  rejectedVersion: string | undefined;
  olderVersion: string | undefined;
  staleTimer: TimerHandle | undefined;
  recheckTimer: TimerHandle | undefined;
  trailingTimer: TimerHandle | undefined;
  lastForcedAt = Number.NEGATIVE_INFINITY;
  readonly recentFailures: number[] = [];
  rollout: RolloutState | undefined;
  rolledOut: RolledOut | undefined;
  badMarker: string | undefined;
}

/** The last canary rollout an instance completed (status' `rolledOut`). */
export interface RolledOut {
  readonly version: string;
  /** Served everywhere by a promote (the store's marker, an admin refresh) rather than at the end of its bake. */
  readonly promoted: boolean;
}

const NO_FAILURES: readonly number[] = Object.freeze([]);

/**
 * Everything the manager knows about one entry. Internal: callers see EntryStatus.
 * Kept small (every cached entry has one): the fetch-duration samples live in the
 * manager's LatencySamples, and the fields a healthy entry never sets in RareFields.
 */
export class EntryState {
  /** The decoded (and wrapped) value, or null for a missing optional entry. */
  value: unknown;
  version: string | undefined;
  /** The served version's order in `servedBy` (SourceValue.order), or undefined when unordered. */
  order: number | bigint | undefined;
  hasValue = false;
  /** Monotonic time of the last successful fetch. */
  fetchedAt = 0;
  /** Wall-clock time of the last successful fetch, for display. */
  fetchedAtWall = 0;
  servedBy: string | undefined;
  consecutiveFailures = 0;
  staleExceeded = false;
  failClosed = false;
  /** The next refresh's timer (entry-scheduler.ts): a clock handle, or the entry's own item of the system clock's heap. */
  timer: TimerHandle | HeapItem | undefined;
  successes = 0;
  failures = 0;
  readonly #samples: LatencySamples;
  readonly #slot: number;
  #rare: RareFields | undefined;

  constructor(
    readonly info: EntryInfo,
    readonly codec: Codec<unknown>,
    readonly validate: StandardSchemaV1<unknown, unknown> | undefined,
    samples: LatencySamples = new LatencySamples(),
  ) {
    this.#samples = samples;
    this.#slot = samples.add();
  }

  #more(): RareFields {
    this.#rare ??= new RareFields();
    return this.#rare;
  }

  get lastError(): KeyshiftError | undefined {
    return this.#rare?.lastError;
  }
  set lastError(error: KeyshiftError | undefined) {
    if (error !== undefined || this.#rare) this.#more().lastError = error;
  }
  /** The last version refused by its type, so one bad version alerts once. */
  get rejectedVersion(): string | undefined {
    return this.#rare?.rejectedVersion;
  }
  set rejectedVersion(version: string | undefined) {
    if (version !== undefined || this.#rare) this.#more().rejectedVersion = version;
  }
  /** The last older version answered (out-of-order), so a lagging store warns once per version. */
  get olderVersion(): string | undefined {
    return this.#rare?.olderVersion;
  }
  set olderVersion(version: string | undefined) {
    if (version !== undefined || this.#rare) this.#more().olderVersion = version;
  }
  /** The canary rollout in progress (or halted) on this instance, if any. */
  get rollout(): RolloutState | undefined {
    return this.#rare?.rollout;
  }
  set rollout(rollout: RolloutState | undefined) {
    if (rollout !== undefined || this.#rare) this.#more().rollout = rollout;
  }
  /** The last canary rollout this instance completed (baked or promoted), if any. */
  get rolledOut(): RolledOut | undefined {
    return this.#rare?.rolledOut;
  }
  set rolledOut(done: RolledOut | undefined) {
    if (done !== undefined || this.#rare) this.#more().rolledOut = done;
  }
  /** The last bad rollout marker text reported, so one bad marker warns once. */
  get badMarker(): string | undefined {
    return this.#rare?.badMarker;
  }
  set badMarker(text: string | undefined) {
    if (text !== undefined || this.#rare) this.#more().badMarker = text;
  }

  get staleTimer(): TimerHandle | undefined {
    return this.#rare?.staleTimer;
  }
  set staleTimer(timer: TimerHandle | undefined) {
    if (timer !== undefined || this.#rare) this.#more().staleTimer = timer;
  }
  get recheckTimer(): TimerHandle | undefined {
    return this.#rare?.recheckTimer;
  }
  set recheckTimer(timer: TimerHandle | undefined) {
    if (timer !== undefined || this.#rare) this.#more().recheckTimer = timer;
  }
  /** One trailing fetch for forced refreshes that fell inside the minimum interval. */
  get trailingTimer(): TimerHandle | undefined {
    return this.#rare?.trailingTimer;
  }
  set trailingTimer(timer: TimerHandle | undefined) {
    if (timer !== undefined || this.#rare) this.#more().trailingTimer = timer;
  }
  /** Monotonic time the last forced (push, admin, manual) fetch started. */
  get lastForcedAt(): number {
    return this.#rare?.lastForcedAt ?? Number.NEGATIVE_INFINITY;
  }
  set lastForcedAt(at: number) {
    this.#more().lastForcedAt = at;
  }
  /** Monotonic times of recent failures (for "3 failures in 5 minutes"). */
  get recentFailures(): readonly number[] {
    return this.#rare?.recentFailures ?? NO_FAILURES;
  }

  recordLatency(ms: number): void {
    this.#samples.record(this.#slot, ms);
  }

  recordFailure(now: number, windowMs: number): void {
    this.failures++;
    this.consecutiveFailures++;
    const recent = this.#more().recentFailures;
    recent.push(now);
    while (recent.length > 0 && now - (recent[0] ?? now) > windowMs) recent.shift();
    if (recent.length > 64) recent.shift();
  }

  /** The p-th percentile (0..1) of the last LATENCY_SAMPLES fetch durations, or undefined. */
  latency(p: number): number | undefined {
    return this.#samples.percentile(this.#slot, p);
  }
}

/** The value-free status of one entry, as `status()` and the admin surface show it. */
export interface EntryStatus {
  name: string;
  key: string;
  kind: 'static' | 'dynamic';
  category: string;
  type: string;
  secret: boolean;
  rotation: string | undefined;
  source: string | undefined;
  version: string | undefined;
  /** ISO time of the last successful fetch. */
  fetchedAt: string | undefined;
  ageMs: number | undefined;
  ttlMs: number | undefined;
  /** Refreshes are failing and the value served is last-known-good. */
  stale: boolean;
  staleExceeded: boolean;
  failClosed: boolean;
  consecutiveFailures: number;
  recentFailures: number;
  lastError: { code: string; message: string } | undefined;
  latencyMs: { p50: number | undefined; p99: number | undefined };
  fetches: { success: number; failure: number };
  successRate: number | undefined;
  /** A value-free description (a URL's scheme and host), only for non-secret entries. */
  display: string | undefined;
  /** The canary rollout in progress or halted on this instance (entries with an adoption policy). */
  rollout: RolloutStatus | undefined;
  /** The last canary rollout this instance completed: the version, and whether a promote (not the end of the bake) finished it. */
  rolledOut: RolledOut | undefined;
}

/** A canary rollout as status shows it. */
export interface RolloutStatus {
  version: string;
  /** The fraction of the fleet meant to serve it now (1 once baked or promoted). */
  fraction: number;
  /** This instance serves it. */
  serving: boolean;
  failures: number;
  maxFailures: number;
  halted: boolean;
  haltedBy: 'failures' | 'rejected' | 'marker' | undefined;
  elapsedMs: number;
  bakeMs: number;
}
