/**
 * Awaits `promise` while a ref'd interval holds the event loop open, and releases it after.
 *
 * keyshift's own timers and watchers are unref'd (a library must never keep a process
 * alive), so a test that awaits an event only they deliver (a store watcher, a poll, a
 * TTL refresh on the real clock) can see the loop empty first: node:test then cancels it
 * with "Promise resolution is still pending but the event loop has already resolved".
 * Every such await goes through this helper. See CONTRIBUTING.md, "Tests".
 */
export async function holdOpen<T>(promise: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    return await promise;
  } finally {
    clearInterval(keepAlive);
  }
}
