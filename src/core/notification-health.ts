/**
 * Whether change notifications are known to reach this instance, and the TTL that
 * follows from it. While a heartbeat sent through the notification topic keeps
 * coming back, a notification would have told us of any change: the entries' TTL
 * polling can rest, and only a long safety TTL remains. When the path goes quiet
 * (no heartbeat back within `quietAfterMs`) or fails (the subscription died), the
 * entries fall back to their own TTLs at once.
 *
 *   const pull = await gcpPubSubPull({ instanceSubscription: { topic }, source });
 *   const ks = createKeyshift(secrets, { source, notifications: pull.health });
 */
import { DEFAULT_NOTIFICATION_QUIET_AFTER_MS, DEFAULT_NOTIFICATION_SAFETY_TTL_MS } from '../constants.ts';
import type { KeyshiftError } from '../errors.ts';
import type { Clock, Disposer } from '../types.ts';
import { systemClock } from './clock.ts';

/** `unknown`: no heartbeat back yet; `healthy`: one came back lately; `quiet`: none for too long; `down`: the path failed. */
export type NotificationState = 'unknown' | 'healthy' | 'quiet' | 'down';

/** A change of state; `error` says why the path is down. */
export interface NotificationHealthChange {
  state: NotificationState;
  previous: NotificationState;
  error?: KeyshiftError;
}

/** What the manager needs: the TTL to schedule with, and a signal when it changes. */
export interface TtlGovernor {
  /** The TTL to schedule an entry's next refresh with, given its declared TTL. */
  ttlMs(declaredTtlMs: number): number;
  /** Called when the answer of ttlMs() may have changed; returns a disposer. */
  onChange(listener: () => void): Disposer;
}

export interface NotificationHealthOptions {
  /** The TTL entries get while notifications are healthy (never shorter than their own). Default 12 h. */
  safetyTtlMs?: number;
  /** With no heartbeat back for this long, the path is quiet. Default 3.5 min (3 missed 1-min heartbeats). */
  quietAfterMs?: number;
  /** Default the system clock. */
  clock?: Clock;
}

export interface NotificationHealthStatus {
  state: NotificationState;
  /** Since the last heartbeat came back, in ms; undefined before the first. */
  lastBeatAgoMs: number | undefined;
  safetyTtlMs: number;
  quietAfterMs: number;
  /** Code of the failure that took the path down, while it is down. */
  errorCode?: string;
}

export class NotificationHealth implements TtlGovernor {
  readonly #clock: Clock;
  readonly #safetyTtlMs: number;
  readonly #quietAfterMs: number;
  readonly #listeners = new Set<(change: NotificationHealthChange) => void>();
  #state: NotificationState = 'unknown';
  #error: KeyshiftError | undefined;
  #lastBeatAt: number | undefined;
  #watchdog: ReturnType<Clock['setTimeout']> | undefined;
  #closed = false;

  constructor(options: NotificationHealthOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#safetyTtlMs = options.safetyTtlMs ?? DEFAULT_NOTIFICATION_SAFETY_TTL_MS;
    this.#quietAfterMs = options.quietAfterMs ?? DEFAULT_NOTIFICATION_QUIET_AFTER_MS;
    for (const [name, ms] of [
      ['safetyTtlMs', this.#safetyTtlMs],
      ['quietAfterMs', this.#quietAfterMs],
    ] as const) {
      if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`NotificationHealth: ${name} must be a positive number of ms`);
    }
  }

  get state(): NotificationState {
    return this.#state;
  }

  /** A heartbeat came back through the path: healthy until `quietAfterMs` passes without another. */
  beat(): void {
    if (this.#closed) return;
    this.#lastBeatAt = this.#clock.now();
    this.#arm();
    this.#set('healthy');
  }

  /** The path failed (subscription gone, creation denied, heartbeat topic missing). */
  fail(error: KeyshiftError): void {
    if (this.#closed) return;
    this.#disarm();
    this.#set('down', error);
  }

  ttlMs(declaredTtlMs: number): number {
    return this.#state === 'healthy' ? Math.max(declaredTtlMs, this.#safetyTtlMs) : declaredTtlMs;
  }

  /** Every state change, with the previous state. Returns a disposer. */
  on(listener: (change: NotificationHealthChange) => void): Disposer {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  onChange(listener: () => void): Disposer {
    return this.on(() => listener());
  }

  status(): NotificationHealthStatus {
    return {
      state: this.#state,
      lastBeatAgoMs: this.#lastBeatAt === undefined ? undefined : this.#clock.now() - this.#lastBeatAt,
      safetyTtlMs: this.#safetyTtlMs,
      quietAfterMs: this.#quietAfterMs,
      ...(this.#state === 'down' && this.#error ? { errorCode: this.#error.code } : {}),
    };
  }

  /** Stops the watchdog; no more changes are reported. */
  close(): void {
    this.#disarm();
    this.#closed = true;
    this.#listeners.clear();
  }

  #arm(): void {
    this.#disarm();
    this.#watchdog = this.#clock.setTimeout(() => {
      this.#watchdog = undefined;
      this.#set('quiet');
    }, this.#quietAfterMs);
  }

  #disarm(): void {
    if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #set(state: NotificationState, error?: KeyshiftError): void {
    const previous = this.#state;
    this.#error = error;
    if (previous === state) return;
    this.#state = state;
    const change: NotificationHealthChange = { state, previous, ...(error ? { error } : {}) };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // a listener's failure must not stop the others, nor the state change
      }
    }
  }
}
