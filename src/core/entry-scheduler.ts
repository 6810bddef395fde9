/**
 * The per-entry timers of one manager: each dynamic entry's next refresh (the jittered
 * TTL, or a backoff while failing), the trailing fetch of coalesced forced refreshes,
 * the rechecks after a push that found nothing new, and the maxStaleMs bound. They run
 * on the clock, or, with `freshness: 'requests'`, on due times that requests fire
 * (request-driven.ts). The manager decides what a fetch does; this file decides when
 * one happens.
 */
import { DEFAULT_TTL_JITTER, THROTTLED_MIN_RETRY_MS } from '../constants.ts';
import { ErrorCodes, type KeyshiftError } from '../errors.ts';
import type { Clock, Disposer, TimerHandle } from '../types.ts';
import { armHeapItem, disarmHeapItem, type HeapItem } from './_timer-heap.ts';
import { systemClock } from './clock.ts';
import type { EntryState } from './entry-state.ts';
import type { Trigger } from './events.ts';
import type { TtlGovernor } from './notification-health.ts';
import { RequestDrivenTimers } from './request-driven.ts';
import { type BackoffOptions, backoffDelay, firstRefreshDelay, jittered } from './schedule.ts';

/** After a push that found no new version (replication lag): look again after these delays. */
const PUSH_RECHECK_MS = [500, 1_500, 3_000] as const;

export interface EntrySchedulerOptions {
  clock: Clock;
  random: () => number;
  freshness: 'timers' | 'requests' | undefined;
  ttlJitter: number | undefined;
  backoff: BackoffOptions | undefined;
  notifications: TtlGovernor | undefined;
}

/** What the timers call back into: the manager's fetch, its stale bound, its report of a failed background fetch. */
export interface EntrySchedulerHooks {
  /** One fetch of one entry, applied and reported (never rejects by contract). */
  fetch(state: EntryState, trigger: Trigger): Promise<{ changed: boolean }>;
  /** The entry's maxStaleMs has passed while its refreshes fail. */
  staleExceeded(state: EntryState): void;
  /** A background fetch rejected unexpectedly. */
  internalError(cause: unknown): void;
}

/**
 * An entry's refresh timer on the system clock's heap: made once per entry and re-armed
 * at every schedule, so an entry's TTL timer costs this item (about 90 B) and no closure
 * or context per arming.
 */
class DueRefresh implements HeapItem {
  at = 0;
  seq = 0;
  index = -1;
  trigger: 'ttl' | 'retry' = 'ttl';
  readonly #owner: EntryScheduler;
  readonly #state: EntryState;

  constructor(owner: EntryScheduler, state: EntryState) {
    this.#owner = owner;
    this.#state = state;
  }

  fire(): void {
    this.#owner.refreshDue(this.#state, this.trigger);
  }
}

export class EntryScheduler {
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #opts: EntrySchedulerOptions;
  readonly #hooks: EntrySchedulerHooks;
  readonly #states: ReadonlyMap<string, EntryState>;
  /** Refresh timers: the clock's, or due times that requests fire (freshness: 'requests'). */
  readonly #timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  readonly #requestDriven: RequestDrivenTimers | undefined;
  /** The refresh timers are items of the system clock's heap (see DueRefresh). */
  readonly #onHeap: boolean;
  #live = false;
  #closed = false;
  /** Entries whose last arming was a backoff: their next TTL arming is spread. */
  readonly #backingOff = new WeakSet<EntryState>();
  #unnotify: Disposer | undefined;

  /** `states`: the manager's entries, by name. */
  constructor(states: ReadonlyMap<string, EntryState>, options: EntrySchedulerOptions, hooks: EntrySchedulerHooks) {
    this.#states = states;
    this.#opts = options;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#hooks = hooks;
    this.#requestDriven = options.freshness === 'requests' ? new RequestDrivenTimers(this.#clock) : undefined;
    this.#timers = this.#requestDriven ?? this.#clock;
    this.#onHeap = this.#timers === systemClock;
  }

  /** After ready(): arms every entry's first refresh (spread over its TTL) and follows the notification governor. */
  start(): void {
    if (this.#closed) return;
    this.#live = true;
    for (const state of this.#states.values()) this.schedule(state, true);
    // A governor change re-arms every entry in one instant, on every instance that sees it (a
    // Pub/Sub outage is seen fleet-wide): back on their own TTLs, spread them as at start.
    // Resting at the longer safety TTL keeps the jittered one: nothing polls for most of it.
    this.#unnotify = this.#opts.notifications?.onChange(() => {
      for (const state of this.#states.values()) {
        const ttl = state.info.ttlMs ?? 0;
        this.schedule(state, (this.#opts.notifications?.ttlMs(ttl) ?? ttl) <= ttl);
      }
    });
  }

  /**
   * With freshness 'requests': one clock read; starts the refreshes that are due, off the
   * caller's stack, and returns how many. With 'timers' it does nothing and returns 0.
   */
  tick(): number {
    return this.#requestDriven?.tick() ?? 0;
  }

  /**
   * Arms the entry's next refresh: backoff while failing, else the jittered TTL. A `spread`
   * one (the first after ready(), after a forced refresh, after a governor change) and the
   * first after a failing streak are drawn over the whole TTL (firstRefreshDelay): those
   * moments are shared by a fleet (a deploy, a push, a store outage), and a jittered TTL
   * from them would keep the fleet's refreshes in a burst for many TTLs.
   */
  schedule(state: EntryState, spread = false): void {
    if (this.#closed || state.info.kind === 'static' || !this.#live) return;
    if (!this.#onHeap) this.#disarm(state);
    const failing = state.consecutiveFailures > 0;
    let first = spread;
    if (failing) this.#backingOff.add(state);
    else if (this.#backingOff.delete(state)) first = true;
    const ttl = state.info.ttlMs ?? 0;
    const jitter = this.#opts.ttlJitter ?? DEFAULT_TTL_JITTER;
    const resting = this.#opts.notifications?.ttlMs(ttl) ?? ttl;
    const delay = failing
      ? backoffDelay(state.consecutiveFailures, this.#opts.backoff ?? {}, this.#random, retryAfter(state.lastError))
      : first
        ? firstRefreshDelay(resting, jitter, this.#random)
        : jittered(resting, jitter, this.#random);
    const trigger = failing ? 'retry' : 'ttl';
    if (this.#onHeap) {
      const due = (state.timer as DueRefresh | undefined) ?? new DueRefresh(this, state);
      due.trigger = trigger;
      state.timer = due;
      armHeapItem(due, delay); // moves it when armed already
      return;
    }
    state.timer = this.#timers.setTimeout(() => {
      state.timer = undefined;
      this.refreshDue(state, trigger);
    }, delay);
  }

  /** The entry's refresh timer fired: fetch, then arm the next one. Internal (DueRefresh calls it). */
  refreshDue(state: EntryState, trigger: 'ttl' | 'retry'): void {
    this.#hooks.fetch(state, trigger).then(() => this.schedule(state), this.#hooks.internalError);
  }

  #disarm(state: EntryState): void {
    const timer = state.timer;
    if (timer === undefined) return;
    if (this.#onHeap) disarmHeapItem(timer as HeapItem);
    else this.#timers.clearTimeout(timer as TimerHandle);
    state.timer = undefined;
  }

  /** One trailing fetch for forced refreshes that fell inside the minimum interval, `delay` from now. */
  trailing(state: EntryState, trigger: Trigger, delay: number): void {
    if (state.trailingTimer !== undefined || this.#closed) return;
    state.trailingTimer = this.#clock.setTimeout(() => {
      state.trailingTimer = undefined;
      state.lastForcedAt = this.#clock.now();
      this.#hooks.fetch(state, trigger).then(() => this.schedule(state, true), this.#hooks.internalError);
    }, delay);
  }

  /** A push found no new version: fetch again after each of PUSH_RECHECK_MS until one changes. */
  recheck(state: EntryState, attempt = 0): void {
    const delay = PUSH_RECHECK_MS[attempt];
    if (delay === undefined || this.#closed) return;
    if (state.recheckTimer !== undefined) this.#clock.clearTimeout(state.recheckTimer);
    state.recheckTimer = this.#clock.setTimeout(() => {
      state.recheckTimer = undefined;
      this.#hooks.fetch(state, 'recheck').then((r) => {
        if (!r.changed) this.recheck(state, attempt + 1);
      }, this.#hooks.internalError);
    }, delay);
  }

  /** A refresh failed: arms the entry's maxStaleMs bound (once per failing streak), counted from its last success. */
  armStale(state: EntryState): void {
    const { maxStaleMs } = state.info;
    if (maxStaleMs === undefined || state.staleTimer !== undefined || state.staleExceeded) return;
    state.staleTimer = this.#clock.setTimeout(
      () => {
        state.staleTimer = undefined;
        if (!this.#closed) this.#hooks.staleExceeded(state);
      },
      Math.max(0, state.fetchedAt + maxStaleMs - this.#clock.now()),
    );
  }

  /** A refresh succeeded: the stale bound is off. */
  clearStale(state: EntryState): void {
    if (state.staleTimer !== undefined) this.#clock.clearTimeout(state.staleTimer);
    state.staleTimer = undefined;
  }

  /** close(): disarms every timer of these entries and arms none again. */
  close(): void {
    this.#closed = true;
    this.#unnotify?.();
    for (const state of this.#states.values()) {
      this.#disarm(state);
      for (const timer of [state.staleTimer, state.recheckTimer, state.trailingTimer]) {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
      }
      state.staleTimer = state.recheckTimer = state.trailingTimer = undefined;
    }
    this.#requestDriven?.clear();
  }
}

/** The least a retry must wait: the store's retry-after hint, and never under the throttling floor after a throttle. */
export function retryAfter(error: KeyshiftError | undefined): number | undefined {
  const hint = error?.details.retryAfterMs;
  const floor = error?.code === ErrorCodes.SOURCE_THROTTLED ? THROTTLED_MIN_RETRY_MS : undefined;
  if (typeof hint !== 'number') return floor;
  return floor === undefined ? hint : Math.max(hint, floor);
}
