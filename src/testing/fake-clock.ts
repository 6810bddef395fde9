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

/** Earlier `at` first, then earlier `id`: the order timers fire in. */
function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/** A binary min-heap of timers; cleared ones are dropped lazily when they reach the top. */
class TimerHeap {
  readonly #items: Timer[] = [];

  push(t: Timer): void {
    const items = this.#items;
    items.push(t);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Timer, items[parent] as Timer)) break;
      [items[i], items[parent]] = [items[parent] as Timer, items[i] as Timer];
      i = parent;
    }
  }

  peek(): Timer | undefined {
    return this.#items[0];
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < items.length && before(items[l] as Timer, items[min] as Timer)) min = l;
      if (r < items.length && before(items[r] as Timer, items[min] as Timer)) min = r;
      if (min === i) break;
      [items[i], items[min]] = [items[min] as Timer, items[i] as Timer];
      i = min;
    }
  }
}

export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Timer>();
  const heap = new TimerHeap();
  const scheduled: number[] = [];
  const due = (limit: number): Timer | undefined => {
    for (let t = heap.peek(); t; t = heap.peek()) {
      if (timers.get(t.id) !== t) {
        heap.pop(); // cleared, or already fired
        continue;
      }
      return t.at <= limit ? t : undefined;
    }
    return undefined;
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
      const timer = { id, at, fn };
      timers.set(id, timer);
      if (!Number.isNaN(at)) heap.push(timer); // a NaN delay never fires (it stays pending), as before

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
