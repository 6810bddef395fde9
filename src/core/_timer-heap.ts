/**
 * The system clock's timers: one process-wide min-heap of deadlines behind a single
 * unref'd Node timer, instead of one Node timer per call. A Node timer costs about
 * 360 B of heap (its Timeout plus, for every distinct delay, a TimersList); a heap
 * item costs about 60 B, and every cached entry keeps one armed (its TTL timer).
 * Items fire in deadline order, never before their deadline; a callback that throws
 * is rethrown on its own (as an uncaught exception, like a Node timer's), and the
 * other due items still run.
 */

/**
 * One item of the heap: its deadline, its arming order, its slot (-1 while not armed).
 * An owner that arms the same thing again and again (an entry's refresh) keeps one
 * item and re-arms it with armHeapItem, so it allocates nothing per arming.
 */
export interface HeapItem {
  at: number;
  seq: number;
  index: number;
  /** Called once the deadline has passed; the item is out of the heap by then, so it may re-arm itself. */
  fire(): void;
}

/** One setTimeout-style timer: a callback, called at most once. */
export class HeapTimer implements HeapItem {
  at = 0;
  seq = 0;
  index = -1;
  fn: (() => void) | undefined;

  constructor(fn: () => void) {
    this.fn = fn;
  }

  fire(): void {
    const fn = this.fn;
    this.fn = undefined;
    fn?.();
  }
}

/** Node's largest delay; like setTimeout, a delay outside 1..MAX becomes 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const items: HeapItem[] = [];
let seq = 0;
let armed: ReturnType<typeof setTimeout> | undefined;
/** The deadline the Node timer is armed for (Infinity when none). */
let armedAt = Number.POSITIVE_INFINITY;

function before(a: HeapItem, b: HeapItem): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function place(item: HeapItem, i: number): void {
  items[i] = item;
  item.index = i;
}

function up(i: number): void {
  const item = items[i] as HeapItem;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = items[parent] as HeapItem;
    if (!before(item, p)) break;
    place(p, i);
    i = parent;
  }
  place(item, i);
}

function down(i: number): void {
  const item = items[i] as HeapItem;
  const n = items.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && before(items[r] as HeapItem, items[l] as HeapItem) ? r : l;
    const child = items[c] as HeapItem;
    if (!before(child, item)) break;
    place(child, i);
    i = c;
  }
  place(item, i);
}

function remove(item: HeapItem): void {
  const i = item.index;
  if (!(i >= 0)) return;
  item.index = -1;
  const last = items.pop() as HeapItem;
  if (last === item) return;
  place(last, i);
  up(i);
  down(last.index);
}

/** Arms the Node timer for the earliest deadline, unless it already fires by then. */
function arm(): void {
  const first = items[0];
  if (first === undefined || first.at >= armedAt) return;
  if (armed !== undefined) clearTimeout(armed);
  armedAt = first.at;
  const ms = Math.max(0, first.at - performance.now());
  // Node keeps one internal list per distinct delay until that delay has passed, even
  // when its timer is cleared: round long delays up to 100 ms to keep them few.
  armed = setTimeout(run, ms < 1_000 ? Math.ceil(ms) : Math.ceil(ms / 100) * 100);
  armed.unref();
}

function run(): void {
  armed = undefined;
  armedAt = Number.POSITIVE_INFINITY;
  const now = performance.now();
  for (let first = items[0]; first !== undefined && first.at <= now; first = items[0]) {
    remove(first);
    try {
      first.fire();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  arm();
}

/** Arms `item` to fire `ms` from now (performance.now() time); an armed item is moved to its new deadline. */
export function armHeapItem(item: HeapItem, ms: number): void {
  remove(item);
  const delay = ms >= 1 && ms <= MAX_DELAY_MS ? ms : 1;
  item.at = performance.now() + delay;
  item.seq = seq++;
  item.index = items.length;
  items.push(item);
  up(item.index);
  arm();
}

/** Disarms `item`; one not armed (fired, or disarmed already) is left alone. */
export function disarmHeapItem(item: HeapItem): void {
  remove(item);
}

/** Calls `fn` once, `ms` from now (performance.now() time). */
export function heapTimeout(fn: () => void, ms: number): HeapTimer {
  const timer = new HeapTimer(fn);
  armHeapItem(timer, ms);
  return timer;
}

/** Disarms `timer` and lets go of its callback; a fired or already cleared one is left alone. */
export function clearHeapTimeout(timer: HeapTimer): void {
  remove(timer);
  timer.fn = undefined;
}

/** Timers armed now (for tests of this file). */
export function heapTimersArmed(): number {
  return items.length;
}
