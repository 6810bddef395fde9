import type { Clock, TimerHandle } from '../types.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A Clock whose time moves only when told: `await clock.tick(ms)` runs due timers in order, letting promises settle between them. */
export interface FakeClock extends Clock {
  /** Advances time by `ms`, firing every timer due on the way. */
  tick(ms: number): Promise<void>;
  /** Advances to the next timer and fires it; false when none is armed. */
  next(): Promise<boolean>;
  /** Timers armed now. */
  readonly pending: number;
  /** Times (relative to creation) at which timers were armed to fire, in order. */
  readonly scheduled: readonly number[];
}

/** Lets queued microtasks and I/O callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Timer>();
  const scheduled: number[] = [];
  const due = (limit: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers.values()) if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    return best;
  };
  const fire = async (t: Timer): Promise<void> => {
    timers.delete(t.id);
    now = Math.max(now, t.at);
    t.fn();
    await flush();
  };
  return {
    now: () => now,
    wallNow: () => 1_700_000_000_000 + now,
    setTimeout(fn, ms) {
      const id = ++seq;
      const at = now + Math.max(0, ms);
      timers.set(id, { id, at, fn });
      scheduled.push(at - start);
      return id as unknown as TimerHandle;
    },
    clearTimeout(handle) {
      timers.delete(handle as unknown as number);
    },
    async tick(ms) {
      const target = now + ms;
      await flush();
      for (let t = due(target); t; t = due(target)) await fire(t);
      now = target;
      await flush();
    },
    async next() {
      await flush();
      const t = due(Number.POSITIVE_INFINITY);
      if (!t) return false;
      await fire(t);
      return true;
    },
    get pending() {
      return timers.size;
    },
    get scheduled() {
      return scheduled;
    },
  };
}
