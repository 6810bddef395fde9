import type { StandardSchemaV1 } from '@standard-schema/spec';
import { LATENCY_SAMPLES } from '../constants.ts';
import type { KeyshiftError } from '../errors.ts';
import type { TimerHandle } from '../types.ts';
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

/** Everything the manager knows about one entry. Internal: callers see EntryStatus. */
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
  lastError: KeyshiftError | undefined;
  consecutiveFailures = 0;
  /** The last version refused by its type, so one bad version alerts once. */
  rejectedVersion: string | undefined;
  /** The last older version answered (out-of-order), so a lagging store warns once per version. */
  olderVersion: string | undefined;
  /** The canary rollout in progress (or halted) on this instance, if any. */
  rollout: RolloutState | undefined;
  /** The last bad rollout marker text reported, so one bad marker warns once. */
  badMarker: string | undefined;
  staleExceeded = false;
  failClosed = false;
  timer: TimerHandle | undefined;
  staleTimer: TimerHandle | undefined;
  recheckTimer: TimerHandle | undefined;
  /** One trailing fetch for forced refreshes that fell inside the minimum interval. */
  trailingTimer: TimerHandle | undefined;
  /** Monotonic time the last forced (push, admin, manual) fetch started. */
  lastForcedAt = Number.NEGATIVE_INFINITY;
  successes = 0;
  failures = 0;
  readonly #latencies = new Float32Array(LATENCY_SAMPLES);
  #latencyCount = 0;
  /** Monotonic times of recent failures (for "3 failures in 5 minutes"). */
  readonly recentFailures: number[] = [];

  constructor(
    readonly info: EntryInfo,
    readonly codec: Codec<unknown>,
    readonly validate: StandardSchemaV1<unknown, unknown> | undefined,
  ) {}

  recordLatency(ms: number): void {
    this.#latencies[this.#latencyCount % LATENCY_SAMPLES] = ms;
    this.#latencyCount++;
  }

  recordFailure(now: number, windowMs: number): void {
    this.failures++;
    this.consecutiveFailures++;
    this.recentFailures.push(now);
    while (this.recentFailures.length > 0 && now - (this.recentFailures[0] ?? now) > windowMs) this.recentFailures.shift();
    if (this.recentFailures.length > 64) this.recentFailures.shift();
  }

  /** The p-th percentile (0..1) of the last LATENCY_SAMPLES fetch durations, or undefined. */
  latency(p: number): number | undefined {
    const n = Math.min(this.#latencyCount, LATENCY_SAMPLES);
    if (n === 0) return undefined;
    const sorted = Array.from(this.#latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.ceil(p * n) - 1)];
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
