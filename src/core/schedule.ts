import {
  DEFAULT_BACKOFF_FACTOR,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_MAX_MS,
} from '../constants.ts';

export interface BackoffOptions {
  /** First delay after a failure. Default 1,000 ms (also the floor for throttling). */
  initialMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** Cap. Default 30,000 ms. */
  maxMs?: number;
  /** ± fraction of random spread. Default 0.25. */
  jitter?: number;
}

/** `value` spread uniformly over ±`jitter` of itself; `random` is injectable for exact tests. */
export function jittered(value: number, jitter: number, random: () => number): number {
  return value * (1 + jitter * (2 * random() - 1));
}

/**
 * The delay before an entry's first refresh after ready(): a draw from the equilibrium
 * (residual-life) distribution of the jittered TTL, uniform over [0, TTL(1-j)] and
 * tapering linearly to TTL(1+j). A fleet that starts in one tick (a deploy, a
 * scale-out) then refreshes as a stationary process from the first tick: as many store
 * calls in every slice of time as in any other, instead of a burst at each TTL that
 * ±jitter only slowly smears. One `random` draw, inverted through the CDF.
 */
export function firstRefreshDelay(ttl: number, jitter: number, random: () => number): number {
  const u = random();
  if (ttl <= 0) return 0;
  const low = ttl * (1 - jitter);
  const high = ttl * (1 + jitter);
  if (u * ttl <= low || high <= low) return u * ttl;
  // CDF past `low`: low/ttl + ((high-low)^2 - (high-t)^2) / (2 (high-low) ttl)
  const width = high - low;
  return high - Math.sqrt(Math.max(0, width * width - 2 * width * (u * ttl - low)));
}

/**
 * The delay before retry number `failures` (1 = after the first failure):
 * initial × factor^(failures-1), capped, then jittered. A server's retry-after hint,
 * when larger, wins.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const factor = options.factor ?? DEFAULT_BACKOFF_FACTOR;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const base = Math.min(initial * factor ** Math.max(0, failures - 1), max);
  const delay = jittered(base, options.jitter ?? DEFAULT_BACKOFF_JITTER, random);
  return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}
