/**
 * A fake clock that moves one timer at a time, so a test can let real I/O (the
 * emulator, the AWS endpoint) finish between timers and pin exact schedules with
 * real clients. src/testing's createFakeClock moves by durations; this one by events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { flush } from '../../src/testing/index.ts';
import type { Clock, TimerHandle } from '../../src/types.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class StepClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return 1_700_000_000_000 + this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined when none is armed. */
  get nextAt(): number | undefined {
    let best: number | undefined;
    for (const t of this.#timers.values()) if (best === undefined || t.at < best) best = t.at;
    return best;
  }

  /** Fires the earliest timer due at or before `limit` (time moves to it); false when none is. */
  fireNext(limit: number): boolean {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    if (!best) return false;
    this.#timers.delete(best.id);
    this.#now = Math.max(this.#now, best.at);
    best.fn();
    return true;
  }

  /** Moves time to `to` without firing anything (callers fire what is due first). */
  set(to: number): void {
    this.#now = Math.max(this.#now, to);
  }
}

export interface RunOptions {
  /** True while real I/O started by a timer is still running (a source call in flight). */
  busy?: () => boolean;
  /** Called as time moves from `from` to `to` (simulated load between events). */
  onStep?: (from: number, to: number) => void;
  /** Longest real wait for busy() to clear before moving on (a hung call waits for its deadline timer). Default 2,000 ms. */
  maxWaitMs?: number;
}

/** Lets promises, immediates and (for up to maxWaitMs) real I/O settle. */
export async function settle(busy: () => boolean = () => false, maxWaitMs = 2_000): Promise<void> {
  await flush();
  const started = performance.now();
  while (busy() && performance.now() - started < maxWaitMs) await sleep(1);
  await flush();
}

/** Advances `clock` to `endAt`, timer by timer, settling real I/O after each. */
export async function runTo(clock: StepClock, endAt: number, options: RunOptions = {}): Promise<void> {
  const { busy = () => false, onStep, maxWaitMs } = options;
  await settle(busy, maxWaitMs);
  for (;;) {
    const at = clock.nextAt;
    const to = at !== undefined && at <= endAt ? at : endAt;
    const from = clock.now();
    if (to > from) {
      onStep?.(from, to);
      clock.set(to);
    }
    if (!clock.fireNext(endAt)) break;
    await settle(busy, maxWaitMs);
  }
  clock.set(endAt);
}
