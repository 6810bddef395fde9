/**
 * Awaits `promise` while a ref'd timer holds the event loop open, and releases it after.
 *
 * keyshift's own timers and watchers are unref'd (a library must never keep a process
 * alive), so a test that awaits an event only they deliver (a store watcher, a poll, a
 * TTL refresh on the real clock) can see the loop empty first: node:test then cancels it
 * with "Promise resolution is still pending but the event loop has already resolved".
 * Every such await goes through this helper. See CONTRIBUTING.md, "Tests".
 *
 * The hold is bounded (`limitMs`, default 120 s): an event that never comes fails the
 * test with a message instead of holding the file until the runner's per-file limit.
 * The bound is a liveness guard far above any expected wait, never a speed check.
 */
export async function holdOpen<T>(promise: Promise<T>, limitMs = 120_000): Promise<T> {
  let guard: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error(`holdOpen: the awaited event did not come within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(guard);
  }
}
