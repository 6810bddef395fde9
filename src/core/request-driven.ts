/**
 * Freshness that rides on requests, for hosts that give a process CPU only while it
 * serves one (Cloud Run's request-based billing, where timers and streams stall between
 * requests). The manager's refresh timers are kept here as due times instead of real
 * timers; each request calls tick(), which reads the clock once and, when something is
 * due, starts it in a microtask: the refresh runs while the request holds the CPU, off
 * the read path, and a later request sees its result.
 *
 *   const ks = createKeyshift(secrets, { source, freshness: 'requests' });
 *   app.use(keyshiftSnapshot(ks)); // every adapter's snapshot middleware ticks; or call ks.tick()
 */
import type { Clock, TimerHandle } from '../types.ts';

interface Due {
  at: number;
  fn: () => void;
}

/** Timers that fire only when tick() finds them due. Implements the timer half of a Clock. */
export class RequestDrivenTimers implements Pick<Clock, 'setTimeout' | 'clearTimeout'> {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #due = new Map<number, Due>();
  #nextAt = Number.POSITIVE_INFINITY;
  #seq = 0;

  constructor(clock: Pick<Clock, 'now'>) {
    this.#clock = clock;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    const at = this.#clock.now() + Math.max(0, ms);
    this.#due.set(id, { at, fn });
    if (at < this.#nextAt) this.#nextAt = at;
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const due = this.#due.get(handle as unknown as number);
    if (due === undefined) return;
    this.#due.delete(handle as unknown as number);
    if (due.at === this.#nextAt) this.#recompute();
  }

  /** Timers waiting for a request. */
  get pending(): number {
    return this.#due.size;
  }

  /**
   * One clock read; when anything is due, starts it in a microtask (never inside the
   * caller's stack) and returns how many were started. Cheap when nothing is due.
   */
  tick(): number {
    const now = this.#clock.now();
    if (now < this.#nextAt) return 0;
    const fire: Array<() => void> = [];
    for (const [id, due] of this.#due) {
      if (due.at > now) continue;
      this.#due.delete(id);
      fire.push(due.fn);
    }
    this.#recompute();
    for (const fn of fire) queueMicrotask(fn);
    return fire.length;
  }

  /** Forgets every timer (close()). */
  clear(): void {
    this.#due.clear();
    this.#nextAt = Number.POSITIVE_INFINITY;
  }

  #recompute(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const due of this.#due.values()) if (due.at < next) next = due.at;
    this.#nextAt = next;
  }
}
