import {
  ADMIN_RATE_LIMIT_MAX_CLIENTS,
  DEFAULT_ADMIN_RATE_LIMIT_MAX_FAILURES,
  DEFAULT_ADMIN_RATE_LIMIT_WINDOW_MS,
} from '../constants.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../types.ts';

export interface RateLimitOptions {
  /** Failed auth attempts allowed per client address in one window; the next request gets 429. Default 10. */
  maxFailures?: number;
  /** The window, from a client's first failure. Default 60,000 ms. */
  windowMs?: number;
  /** Client addresses tracked at most; the oldest window is dropped first. Default 10,000. */
  maxClients?: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed auth attempts per client address in fixed windows that start at a
 * client's first failure. A client over the limit is refused until its window ends;
 * other addresses are unaffected. Memory is bounded by `maxClients`.
 */
export class FailureRateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #clock: Clock;

  constructor(options: RateLimitOptions = {}, clock: Clock = systemClock) {
    this.#max = options.maxFailures ?? DEFAULT_ADMIN_RATE_LIMIT_MAX_FAILURES;
    this.#windowMs = options.windowMs ?? DEFAULT_ADMIN_RATE_LIMIT_WINDOW_MS;
    this.#maxClients = options.maxClients ?? ADMIN_RATE_LIMIT_MAX_CLIENTS;
    this.#clock = clock;
  }

  /** Milliseconds until `client` may try again, or 0 when it is not blocked. */
  blockedForMs(client: string): number {
    const window = this.#current(client);
    if (!window || window.failures < this.#max) return 0;
    return window.startedAt + this.#windowMs - this.#clock.now();
  }

  /** Records one failed attempt by `client`. */
  fail(client: string): void {
    const window = this.#current(client);
    if (window) {
      window.failures++;
      return;
    }
    if (this.#windows.size >= this.#maxClients) this.#evict();
    this.#windows.set(client, { startedAt: this.#clock.now(), failures: 1 });
  }

  #current(client: string): Window | undefined {
    const window = this.#windows.get(client);
    if (window && this.#clock.now() - window.startedAt >= this.#windowMs) {
      this.#windows.delete(client);
      return undefined;
    }
    return window;
  }

  /** Drops expired windows; if none expired, the oldest (Map order is insertion order). */
  #evict(): void {
    const now = this.#clock.now();
    for (const [client, window] of this.#windows) {
      if (now - window.startedAt >= this.#windowMs) this.#windows.delete(client);
    }
    if (this.#windows.size >= this.#maxClients) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
  }
}
