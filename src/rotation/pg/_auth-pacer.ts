import { type BackoffOptions, backoffDelay } from '../../core/schedule.ts';

const MINUTE_MS = 60_000;

/**
 * Paces the credential checks of one incident (from the first refused check to the
 * next accepted one): exponential backoff with jitter, and never more than
 * `maxPerMinute` checks in any 60 s window, so a wrong password never becomes a
 * tight loop against the server (F11).
 */
export class AuthPacer {
  /** Checks that failed in this incident. */
  failures = 0;
  /** Whether this incident has fired its one alert. */
  alerted = false;
  readonly #attempts: number[] = [];

  constructor(
    readonly since: number,
    private readonly backoff: BackoffOptions,
    private readonly maxPerMinute: number,
    private readonly random: () => number,
  ) {}

  /** Milliseconds until a check may start (0: now). */
  waitMs(now: number): number {
    this.#prune(now);
    if (this.#attempts.length < this.maxPerMinute) return 0;
    return (this.#attempts[0] as number) + MINUTE_MS - now;
  }

  /** A check starts now. */
  started(now: number): void {
    this.#attempts.push(now);
  }

  /** A check failed: the delay before the next one (backoff, then the per-minute cap). */
  failed(now: number): number {
    this.failures++;
    const backoff = backoffDelay(this.failures, this.backoff, this.random);
    this.#prune(now + backoff);
    const capped = this.#attempts.length < this.maxPerMinute ? 0 : (this.#attempts[0] as number) + MINUTE_MS - now;
    return Math.max(backoff, capped);
  }

  #prune(now: number): void {
    while (this.#attempts.length > 0 && (this.#attempts[0] as number) <= now - MINUTE_MS) this.#attempts.shift();
  }
}
