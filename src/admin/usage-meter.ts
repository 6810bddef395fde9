import { GCP_ACCESS_COST_PER_10K, USAGE_MONTH_MS, USAGE_WINDOW_MS } from '../constants.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../types.ts';

/** The store access calls observed and the month they project to, for the dashboard's cost panel. */
export interface UsageSnapshot {
  /** Store access calls since the meter started, startup loads included. */
  storeAccesses: number;
  /** Steady-state calls (every trigger but startup) within the observation window. */
  windowAccesses: number;
  /** How long the window covers so far, in ms (at most USAGE_WINDOW_MS). */
  windowMs: number;
  perMinute: number;
  projectedMonthlyAccesses: number;
  projectedMonthlyCostUsd: number;
  /** The price used: USD per 10,000 access calls (Secret Manager's). */
  costPer10kUsd: number;
}

const BUCKET_MS = 60_000;

/**
 * Counts store access calls in one-minute buckets over a sliding window and projects
 * the month from the steady rate. Startup loads are counted in the total but left out
 * of the rate: they happen once, and would make the first minutes project a fortune.
 */
export class UsageMeter {
  readonly #clock: Clock;
  readonly #startedAt: number;
  readonly #buckets = new Map<number, number>();
  readonly #costPer10k: number;
  #total = 0;

  constructor(clock: Clock = systemClock, costPer10kUsd = GCP_ACCESS_COST_PER_10K) {
    this.#clock = clock;
    this.#startedAt = clock.now();
    this.#costPer10k = costPer10kUsd;
  }

  /** One store access; `steady` is false for startup loads. */
  record(steady: boolean): void {
    this.#total++;
    if (!steady) return;
    const bucket = Math.floor(this.#clock.now() / BUCKET_MS);
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1);
    if (this.#buckets.size > USAGE_WINDOW_MS / BUCKET_MS + 1) this.#prune(bucket);
  }

  snapshot(): UsageSnapshot {
    const now = this.#clock.now();
    const current = Math.floor(now / BUCKET_MS);
    this.#prune(current);
    const windowMs = Math.max(1_000, Math.min(USAGE_WINDOW_MS, now - this.#startedAt));
    let windowAccesses = 0;
    const oldest = Math.floor((now - windowMs) / BUCKET_MS);
    for (const [bucket, count] of this.#buckets) if (bucket >= oldest) windowAccesses += count;
    const perMs = windowAccesses / windowMs;
    const projectedMonthlyAccesses = Math.round(perMs * USAGE_MONTH_MS);
    return {
      storeAccesses: this.#total,
      windowAccesses,
      windowMs,
      perMinute: perMs * 60_000,
      projectedMonthlyAccesses,
      projectedMonthlyCostUsd: (projectedMonthlyAccesses / 10_000) * this.#costPer10k,
      costPer10kUsd: this.#costPer10k,
    };
  }

  #prune(current: number): void {
    const keep = USAGE_WINDOW_MS / BUCKET_MS;
    for (const bucket of this.#buckets.keys()) if (bucket < current - keep) this.#buckets.delete(bucket);
  }
}
