import type { Clock, TimerHandle } from '../types.ts';
import { clearHeapTimeout, type HeapTimer, heapTimeout } from './_timer-heap.ts';

/**
 * Real time: performance.now() for ages and TTLs, and timers that never hold the
 * process open: one process-wide heap behind a single unref'd Node timer
 * (src/core/_timer-heap.ts), so an armed timer costs a small heap item, not a Node timer.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return heapTimeout(fn, ms) as unknown as TimerHandle;
  },
  clearTimeout(handle: TimerHandle): void {
    clearHeapTimeout(handle as unknown as HeapTimer);
  },
});
