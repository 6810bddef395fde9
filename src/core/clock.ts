import type { Clock, TimerHandle } from '../types.ts';

/** Real time: performance.now() for ages and TTLs, unref'd timers that never hold the process open. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Node keeps one internal list per distinct delay until that delay has passed, even
    // when its timer is cleared; jittered delays are all distinct, so round long ones to
    // 100 ms to keep the number of lists (and the heap) bounded.
    const handle = setTimeout(fn, ms < 1_000 ? Math.ceil(ms) : Math.ceil(ms / 100) * 100);
    handle.unref();
    return handle;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});
