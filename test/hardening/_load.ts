/** Small real-time load for the hardening tests: N requests per second for a while, counted. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  served: number;
  failed: number;
  /** 99th percentile of one request's duration, in microseconds (reported, never asserted). */
  p99Us: number;
}

/** Deterministic [0, 1) numbers (mulberry32): jitter that is random-looking but repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function p99(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil(values.length * 0.99) - 1)] ?? 0;
}

/**
 * Runs `request` `perSecond` times a second for `durationMs` on the real clock, in
 * batches every few milliseconds (catching up when the loop was busy). A request
 * fails when it throws or returns false.
 */
export async function load(perSecond: number, durationMs: number, request: () => boolean | undefined): Promise<LoadResult> {
  const started = performance.now();
  const durations: number[] = [];
  let served = 0;
  let failed = 0;
  let done = 0;
  for (;;) {
    const elapsed = Math.min(durationMs, performance.now() - started);
    const due = Math.floor((elapsed * perSecond) / 1000);
    for (; done < due; done++) {
      const t0 = performance.now();
      let ok: boolean | undefined;
      try {
        ok = request();
      } catch {
        ok = false;
      }
      durations.push((performance.now() - t0) * 1000);
      if (ok === false) failed++;
      else served++;
    }
    if (elapsed >= durationMs) break;
    await sleep(5);
  }
  return { served, failed, p99Us: p99(durations) };
}
