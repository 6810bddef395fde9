/**
 * At most one call in flight per key: concurrent callers share its promise
 * (1,000 concurrent cold reads make one store call, F1).
 */
export class SingleFlight<K, V> {
  readonly #inflight = new Map<K, Promise<V>>();

  run(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const promise = fn().finally(() => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  has(key: K): boolean {
    return this.#inflight.has(key);
  }

  /** Settles when every call now in flight has settled (never rejects). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight.values()]);
  }
}
